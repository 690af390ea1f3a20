"""Wagtail's images and sites change outside our code; the cached brand follows them."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model
from wagtail.models import Site

from branding.services import brand_cache_clear
from tenants.context import current_schema_name


def _clear(**kwargs) -> None:
    if current_schema_name() not in (settings.PUBLIC_SCHEMA_NAME, settings.TENANT_TEMPLATE_SCHEMA):
        brand_cache_clear(schema_name=current_schema_name())


for _model in (get_image_model(), Site):
    receiver(post_save, sender=_model, dispatch_uid=f"branding-{_model.__name__}-save")(_clear)
    receiver(post_delete, sender=_model, dispatch_uid=f"branding-{_model.__name__}-delete")(_clear)
