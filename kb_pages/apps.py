from django.apps import AppConfig


class KbPagesConfig(AppConfig):
    name = "kb_pages"
    verbose_name = "Knowledge base"
    default_auto_field = "django.db.models.BigAutoField"
