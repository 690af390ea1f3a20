"""What a tenant admin may put into the brand: colours as #rrggbb, logos and favicons
that are real, modest images. Every message is translated and says what to do."""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# The formats Wagtail accepts by default that every browser shows; never SVG (it can
# carry script).
BRAND_IMAGE_MIME_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}
)


def validate_hex_colour(value: str) -> None:
    if value and not HEX_COLOUR_RE.match(value):
        raise ValidationError(
            _("Enter a colour as # followed by six hexadecimal digits, for example #2454c5."),
            code="invalid_colour",
        )


def safe_colour(value: str) -> str:
    """``value`` lowercased if it is a #rrggbb colour, else empty: the only form that
    reaches a stylesheet, whatever wrote the row."""
    return value.lower() if value and HEX_COLOUR_RE.match(value) else ""


@dataclass(frozen=True)
class ImageRules:
    max_bytes: int
    min_side: int
    max_side: int
    square: bool = False


LOGO_RULES = ImageRules(max_bytes=1024 * 1024, min_side=16, max_side=2000)
FAVICON_RULES = ImageRules(max_bytes=256 * 1024, min_side=16, max_side=1024, square=True)


def _sniffed_mime_type(image) -> str | None:
    try:
        with image.open_file() as f:
            head = f.read(512)
    except OSError:
        return None
    kind = filetype.guess(head)
    return kind.mime if kind else None


def validate_brand_image(image, rules: ImageRules) -> None:
    """Raise a translated ValidationError listing what is wrong with a chosen image.

    Wagtail's upload form already refuses files whose content is not the image format
    their name claims; this re-reads the stored file because images also arrive through
    the API and scripts.
    """
    errors = []
    if _sniffed_mime_type(image) not in BRAND_IMAGE_MIME_TYPES:
        errors.append(
            ValidationError(_("Choose a PNG, JPEG, GIF, WebP or AVIF image."), code="image_type")
        )
    size = image.get_file_size()
    if size is not None and size > rules.max_bytes:
        errors.append(
            ValidationError(
                _("This image is %(size)s; the limit is %(max)s."),
                code="image_too_large",
                params={"size": filesizeformat(size), "max": filesizeformat(rules.max_bytes)},
            )
        )
    width, height = image.width, image.height
    if not (
        rules.min_side <= width <= rules.max_side and rules.min_side <= height <= rules.max_side
    ):
        errors.append(
            ValidationError(
                _(
                    "This image is %(width)d×%(height)d pixels; each side must be between "
                    "%(min)d and %(max)d pixels."
                ),
                code="image_dimensions",
                params={
                    "width": width,
                    "height": height,
                    "min": rules.min_side,
                    "max": rules.max_side,
                },
            )
        )
    elif rules.square and width != height:
        errors.append(
            ValidationError(
                _("A favicon must be square; this image is %(width)d×%(height)d pixels."),
                code="image_not_square",
                params={"width": width, "height": height},
            )
        )
    if errors:
        raise ValidationError(errors)
