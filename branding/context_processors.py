from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from branding.selectors import brand_for_request


def brand(request) -> dict:
    """``brand``: the tenant's Brand (name, logo, favicon, colours), None on the public site."""
    return {"brand": SimpleLazyObject(lambda: brand_for_request(request))}
