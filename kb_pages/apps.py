from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbPagesConfig(AppConfig):
    name = "kb_pages"
    verbose_name = _("Knowledge base")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kb_pages import page_cache, services

        page_cache.connect_signals()
        services.connect_signals()
