from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.context import public_schema
from tenants.models import Tenant
from tenants.provisioning import tenant_delete


class Command(BaseCommand):
    help = "Delete a tenant and DROP its schema with every ticket, user and page in it."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask; for scripts that already confirmed."
        )

    def handle(self, *args, **options):
        slug = options["slug"]
        with public_schema():
            tenant = (
                Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
                .filter(slug=slug)
                .first()
            )
        if tenant is None:
            raise CommandError(f"No tenant with subdomain {slug!r}.")
        if not options["yes"]:
            answer = input(
                f"This drops schema {tenant.schema_name} and everything in it. "
                f"Type the subdomain ({slug}) to confirm: "
            )
            if answer.strip() != slug:
                raise CommandError("Not confirmed; nothing was deleted.")
        tenant_delete(tenant=tenant)
        self.stdout.write(f"Deleted {slug} and dropped schema {tenant.schema_name}.")
