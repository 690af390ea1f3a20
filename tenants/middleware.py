from django.http import Http404
from django_tenants.middleware.main import TenantMainMiddleware


class ActiveTenantMiddleware(TenantMainMiddleware):
    """django-tenants' host-to-schema middleware that also refuses suspended tenants."""

    def get_tenant(self, domain_model, hostname):
        tenant = super().get_tenant(domain_model, hostname)
        if not tenant.is_active:
            raise Http404("No tenant for this host")
        return tenant
