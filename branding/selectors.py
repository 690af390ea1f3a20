"""The brand as the portal and emails read it: a small frozen snapshot, cached per tenant.

The cache key carries the schema name (on top of django-tenants' key prefix), and saving
the brand, its images or the site clears it (branding.services.brand_cache_clear).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from wagtail.models import Site

from branding.models import BrandSettings
from branding.validation import safe_colour
from tenants.context import current_schema_name, in_tenant_schema
from tenants.urls_helpers import current_tenant_url

logger = logging.getLogger(__name__)

BRAND_CACHE_SECONDS = 60 * 60
LOGO_SPEC = "max-480x160|format-png"
FAVICON_SPEC = "fill-64x64|format-png"


@dataclass(frozen=True)
class Brand:
    name: str
    default_language: str = settings.LANGUAGE_CODE
    logo_url: str = ""
    logo_absolute_url: str = ""  # for emails, read far from our host
    logo_width: int | None = None
    logo_height: int | None = None
    favicon_url: str = ""
    primary_colour: str = ""  # "#rrggbb" or empty, never anything else
    accent_colour: str = ""
    email_header: str = ""
    email_footer: str = ""
    email_signature: str = ""


def brand_cache_key(schema_name: str) -> str:
    # Bump the version when Brand's fields change: old pickles must not be read back.
    return f"branding:brand:v1:{schema_name}"


def _rendition(image, spec: str):
    try:
        return image.get_rendition(spec)
    except OSError:  # the file is gone or unreadable: show the name instead of a logo
        logger.warning("brand image %s unreadable in %s", image.pk, current_schema_name())
        return None


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else current_tenant_url(url)


def _brand_build() -> Brand:
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    fallback_name = (site.site_name if site else "") or settings.WAGTAIL_SITE_NAME
    row = BrandSettings.base_queryset().filter(site=site).first() if site else None
    if row is None:
        return Brand(name=fallback_name)
    languages = {code for code, _label in settings.LANGUAGES}
    logo = _rendition(row.logo, LOGO_SPEC) if row.logo else None
    favicon = _rendition(row.favicon, FAVICON_SPEC) if row.favicon else None
    return Brand(
        name=row.portal_name.strip() or fallback_name,
        default_language=(
            row.default_language if row.default_language in languages else settings.LANGUAGE_CODE
        ),
        logo_url=logo.url if logo else "",
        logo_absolute_url=_absolute(logo.url) if logo else "",
        logo_width=logo.width if logo else None,
        logo_height=logo.height if logo else None,
        favicon_url=favicon.url if favicon else "",
        primary_colour=safe_colour(row.primary_colour),
        accent_colour=safe_colour(row.accent_colour),
        email_header=row.email_header.replace("\r", "").strip(),
        email_footer=row.email_footer.replace("\r", "").strip(),
        email_signature=row.email_signature.replace("\r", "").strip(),
    )


def brand_get() -> Brand | None:
    """The brand of the tenant whose schema is active; None on the public site."""
    if not in_tenant_schema():
        return None
    schema_name = current_schema_name()
    key = brand_cache_key(schema_name)
    brand = cache.get(key)
    if brand is None:
        brand = _brand_build()
        cache.set(key, brand, BRAND_CACHE_SECONDS)
    return brand


def brand_for_request(request) -> Brand | None:
    """The brand for this request's tenant, looked up once per request."""
    if not hasattr(request, "_brand"):
        tenant = getattr(request, "tenant", None)
        request._brand = brand_get() if tenant is not None else None
    return request._brand
