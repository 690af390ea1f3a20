from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.provisioning import OwnerDetails, tenant_provision


class Command(BaseCommand):
    help = "Create a tenant with its primary domain and owner (from the warm pool when it can)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True, help="Organisation name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", required=True)
        parser.add_argument("--owner-name", default="")

    def handle(self, *args, **options):
        try:
            tenant = tenant_provision(
                name=options["name"],
                slug=options["slug"],
                owner=OwnerDetails(
                    name=options["owner_name"],
                    email=options["owner_email"].lower(),
                    password=options["owner_password"],
                ),
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        domain = tenant.get_primary_domain().domain
        self.stdout.write(f"Created {tenant.slug} (schema {tenant.schema_name}) on {domain}")
