"""Wagtail's images and sites change outside our code; the cached brand follows them."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model
from wagtail.models import Site

from branding.services import brand_cache_clear
from tenants.context import current_schema_name, in_tenant_schema


def _clear(**kwargs) -> None:
    if in_tenant_schema():
        brand_cache_clear(schema_name=current_schema_name())


for _model in (get_image_model(), Site):
    receiver(post_save, sender=_model, dispatch_uid=f"branding-{_model.__name__}-save")(_clear)
    receiver(post_delete, sender=_model, dispatch_uid=f"branding-{_model.__name__}-delete")(_clear)
