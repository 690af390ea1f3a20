"""URLs of a tenant host (<slug>.BASE_DOMAIN): portal, sign-in, Wagtail admin."""

from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts import views as account_views
from helpdesk.api import api as helpdesk_api
from saas.health import healthz
from saas.media import media_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/handoff/", account_views.handoff, name="account_handoff"),
    path("accounts/", include("allauth.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("api/v1/", helpdesk_api.urls),
    path("", include("helpdesk.urls")),
    # KB suggestions and deflections: under /kb/ like the KB pages, so ahead of Wagtail.
    path("kb/", include("kb_pages.urls")),
    path("documents/", include(wagtaildocs_urls)),
    *media_urlpatterns(),  # this tenant's public images; never attachments or documents
    # Wagtail's page tree last: it answers every other path of the portal.
    path("", include(wagtail_urls)),
]
