"""Building blocks for the branding tests: real images, a saved brand, the admin form."""

from __future__ import annotations

import io
import os

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Site

from branding.models import BrandSettings


def image_bytes(width: int, height: int, fmt: str = "PNG", *, noise: bool = False) -> bytes:
    if noise:  # incompressible, so the file is as large as its pixels
        picture = PILImage.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        picture = PILImage.new("RGB", (width, height), (200, 30, 60))
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def make_image(title: str, width: int = 300, height: int = 100, **kwargs):
    """A Wagtail image in the current schema, as the image library stores an upload."""
    name = f"{title.lower().replace(' ', '-')}.png"
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(image_bytes(width, height, **kwargs)), name=name)
    )


def set_brand(**fields) -> BrandSettings:
    """Save the current tenant's brand the way a valid admin edit does."""
    brand = BrandSettings.for_site(Site.objects.get(is_default_site=True))
    for name, value in fields.items():
        setattr(brand, name, value)
    brand.full_clean()
    brand.save()
    return brand


def admin_client(fixture):
    client = fixture.client()
    client.cookies["sessionid"] = fixture.sessions["owner"]
    return client


def settings_url() -> str:
    return f"/admin/settings/branding/brandsettings/{Site.objects.get(is_default_site=True).pk}/"


def settings_form(**changes) -> dict:
    return {
        "portal_name": "",
        "logo": "",
        "favicon": "",
        "primary_colour": "",
        "accent_colour": "",
        "default_language": "en",
        "email_header": "",
        "email_footer": "",
        "email_signature": "",
        **changes,
    }
