"""Writes around the brand. The brand row itself is saved by Wagtail's settings view."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from branding.selectors import brand_cache_key
from tenants.context import tenant_schema


def brand_cache_clear(*, schema_name: str) -> None:
    """Forget the tenant's cached brand now and again after commit.

    The second delete drops a snapshot another request may have cached from the old
    row between our write and its commit.
    """
    key = brand_cache_key(schema_name)
    cache.delete(key)

    def after_commit() -> None:
        # django-tenants prefixes keys with the connection's schema at call time.
        with tenant_schema(schema_name):
            cache.delete(key)

    transaction.on_commit(after_commit)
