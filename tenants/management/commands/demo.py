from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.demo import demo_tenant_ensure


class Command(BaseCommand):
    help = "Create (or keep) the demo tenant and print its sign-ins."

    def handle(self, *args, **options):
        tenant, logins = demo_tenant_ensure(base_domain=settings.BASE_DOMAIN)
        self.stdout.write(f"Demo tenant on {tenant.get_primary_domain().domain}")
        for login in logins:
            self.stdout.write(f"  {login.role:<9} {login.email} / {login.password}")
