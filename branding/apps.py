from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrandingConfig(AppConfig):
    name = "branding"
    verbose_name = _("Branding")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from branding import signals  # noqa: F401 (connects the receivers)
