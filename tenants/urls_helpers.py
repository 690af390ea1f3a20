"""Absolute links to the current tenant's own host (emails, hand-offs, API responses)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def site_url(domain: str, path: str = "/") -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{domain}{port}{path}"


def current_tenant_url(path: str = "/") -> str:
    """``path`` on the primary domain of the tenant whose schema is active."""
    from tenants.models import Domain

    domain = (
        Domain.objects.filter(tenant__schema_name=connection.schema_name, is_primary=True)
        .values_list("domain", flat=True)
        .first()
    )
    return site_url(domain or settings.BASE_DOMAIN, path)
