"""URLs of the public host (BASE_DOMAIN): marketing, signup, platform admin."""

from django.contrib import admin
from django.urls import include, path

from saas.health import healthz
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="signup"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
