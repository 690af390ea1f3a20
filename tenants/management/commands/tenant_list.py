from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.context import public_schema
from tenants.models import Tenant


class Command(BaseCommand):
    help = "List tenants with their schema, domains and state."

    def handle(self, *args, **options):
        with public_schema():
            tenants = (
                Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
                .prefetch_related("domains")
                .order_by("slug")
            )
            for tenant in tenants:
                domains = ", ".join(d.domain for d in tenant.domains.all())
                state = "active" if tenant.is_active else "suspended"
                self.stdout.write(
                    f"{tenant.slug}\t{tenant.schema_name}\t{state}\t{tenant.name}\t{domains}"
                )
