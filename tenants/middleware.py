from django.conf import settings
from django.db import connection
from django.http import Http404
from django.http.request import split_domain_port
from django_tenants.middleware.main import TenantMainMiddleware


class ActiveTenantMiddleware(TenantMainMiddleware):
    """django-tenants' host-to-schema middleware that also refuses suspended tenants.

    It is first in MIDDLEWARE and serves only host names in the Domain table (unknown
    hosts get a 404), which is what lets ALLOWED_HOSTS accept tenants' custom domains.
    """

    USER_CONTENT_URLCONF = "helpdesk.usercontent"

    def process_request(self, request):
        # The user-content host (helpdesk.usercontent) is no tenant's: it serves signed
        # file links only, from the public schema, each link naming its own schema.
        user_content_host = getattr(settings, "USER_CONTENT_HOST", "")
        if user_content_host and self.hostname_from_request(request) == user_content_host:
            connection.set_schema_to_public()
            request.urlconf = self.USER_CONTENT_URLCONF
            return None
        return super().process_request(request)

    @staticmethod
    def hostname_from_request(request):
        # Keep "www.": a tenant may connect www.acme.com while acme.com is someone else's.
        return split_domain_port(request.get_host())[0]

    def get_tenant(self, domain_model, hostname):
        candidates = [hostname]
        if hostname.startswith("www."):
            candidates.append(hostname[4:])  # django-tenants' www-stripping, as a fallback
        domains = {
            domain.domain: domain
            for domain in domain_model.objects.select_related("tenant").filter(
                domain__in=candidates
            )
        }
        domain = next((domains[name] for name in candidates if name in domains), None)
        if domain is None:
            raise domain_model.DoesNotExist
        if not domain.tenant.is_active:
            raise Http404("No tenant for this host")
        return domain.tenant
