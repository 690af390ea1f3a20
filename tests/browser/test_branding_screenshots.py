"""The branded portal home in a real browser, in English and in Persian, kept as pictures.

Alpha's brand (name, a real PNG logo in its Wagtail image library, primary and accent
colours) is saved through the models the admin's settings form saves, and committed, so
the live server's threads see it. A visitor opens the portal home on alpha's host, sees the
name and the logo, switches to Persian with the language switcher and gets the
right-to-left page.

The logo must come through the product's own media route (``saas/media.py``), the one a
tenant host has in development and in ``saas.start``. Django's ``LiveServerThread`` wraps
the application in its test-only ``_MediaFilesHandler``, which serves all of MEDIA_ROOT,
every tenant's folder, to any host, and would hide a missing route. So this module runs
its own server (``conftest._serve``) with that wrapper peeled off, and checks the logo's
response carries the media view's headers.

Screenshots (test artefacts, git-ignored with the rest of ``test-artifacts/``):
``test-artifacts/portal-home-en.png`` and ``test-artifacts/portal-home-fa.png``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MISSING_CHROMIUM, Site, _serve, chromium_available

# Decided at collection, before any fixture: no test database is built for nothing.
pytestmark = pytest.mark.skipif(not chromium_available(), reason=MISSING_CHROMIUM)

BRAND_NAME = "Alpha Care Centre"
PRIMARY = "#7b1fa2"
ACCENT = "#ff8f00"
LOGO_SIZE = (360, 120)
# A 1280-pixel-wide page of text, colours and a logo is tens of kilobytes; a blank or
# failed capture is a few hundred bytes.
MIN_SCREENSHOT_BYTES = 10_000


@dataclass
class BrandedSite:
    site: Site
    base_url: str  # this module's own server, without Django's test media handler
    name: str
    primary: str
    accent: str


def _without_test_media_handler(media_files_handler):
    """LiveServerThread hands us ``_MediaFilesHandler(WSGIHandler())``: keep the inside."""
    return media_files_handler.application


def _logo_png() -> bytes:
    """A logo a person would recognise in the screenshot: a purple badge with a letter."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = LOGO_SIZE
    picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=24, fill=PRIMARY)
    draw.ellipse((16, 16, height - 16, height - 16), fill=ACCENT)
    font = ImageFont.load_default(size=56)
    draw.text((height / 2, height / 2), "A", fill="white", font=font, anchor="mm")
    draw.text((height + 8, height / 2), "ALPHA", fill="white", font=font, anchor="lm")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def branded(site: Site, django_db_blocker, tmp_path_factory) -> Iterator[BrandedSite]:
    """Alpha's brand, committed for the live server, and put back as it was at the end."""
    from django.core.files.images import ImageFile
    from django.test import override_settings
    from wagtail.images import get_image_model
    from wagtail.models import Site as WagtailSite

    from branding.models import BrandSettings
    from branding.services import brand_cache_clear
    from tenants.context import reset_to_public_schema, tenant_schema

    schema = site.tenant.schema_name
    # The same folder tests/conftest.py gives every test: this module-scoped fixture runs
    # before that per-test override, and the logo must land where the server reads it.
    media_root = str(tmp_path_factory.getbasetemp() / "media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        with tenant_schema(schema):
            wagtail_site = WagtailSite.objects.get(is_default_site=True)
            before = BrandSettings.objects.filter(site=wagtail_site).first()
        reset_to_public_schema()
        logo = server = None
        try:
            with tenant_schema(schema):
                logo = get_image_model().objects.create(
                    title="Alpha Care logo",
                    file=ImageFile(io.BytesIO(_logo_png()), name="alpha-care-logo.png"),
                )
                brand = BrandSettings.for_site(wagtail_site)
                brand.portal_name = BRAND_NAME
                brand.logo = logo
                brand.primary_colour = PRIMARY
                brand.accent_colour = ACCENT
                brand.full_clean()  # the checks the admin's form applies (image, colours)
                brand.save()
            reset_to_public_schema()
            server = _serve(static_handler=_without_test_media_handler)
            yield BrandedSite(
                site=site,
                base_url=f"http://{site.tenant.host}:{server.port}",
                name=BRAND_NAME,
                primary=PRIMARY,
                accent=ACCENT,
            )
        finally:
            if server is not None:
                server.terminate()
            with tenant_schema(schema):
                if before is None:
                    BrandSettings.objects.filter(site=wagtail_site).delete()
                else:
                    before.save()  # every field as it was
                if logo is not None:
                    logo.delete()  # with its renditions; Wagtail removes the files
                brand_cache_clear(schema_name=schema)
            reset_to_public_schema()


def _check_branded_home(page: Page, branded: BrandedSite, *, lang: str, direction: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)
    logo = page.locator("header img.brand-logo")
    expect(logo).to_be_visible()
    # Served by the tenant's own media route, and decoded: a 404 leaves naturalWidth 0.
    assert logo.get_attribute("src").startswith(f"/media/{branded.site.tenant.schema_name}/")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=logo.element_handle())
    assert logo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == list(LOGO_SIZE)
    colours = page.evaluate(
        """() => {
            const style = getComputedStyle(document.documentElement);
            return [style.getPropertyValue('--brand-primary').trim(),
                    style.getPropertyValue('--brand-accent').trim()];
        }"""
    )
    assert colours == [branded.primary, branded.accent]


def _screenshot(page: Page, path: Path) -> None:
    from PIL import Image

    path.unlink(missing_ok=True)  # a file from an earlier run proves nothing
    page.screenshot(path=str(path), full_page=True)
    assert path.is_file() and path.stat().st_size > MIN_SCREENSHOT_BYTES
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.width == 1280


def test_branded_portal_home_in_english_and_persian_screenshots(branded, new_context):
    artifacts = branded.site.artifacts
    page = new_context().new_page()

    with page.expect_response(re.compile(r"/media/.+\.png$")) as logo_response:
        page.goto(f"{branded.base_url}/")
    _check_branded_home(page, branded, lang="en", direction="ltr")
    # The product's media view answered (saas/media.py), not a test-only handler.
    logo_headers = logo_response.value.headers
    assert logo_response.value.status == 200
    assert logo_headers["x-content-type-options"] == "nosniff"
    assert logo_headers["cache-control"] == "public, max-age=3600"
    _screenshot(page, artifacts / "portal-home-en.png")

    # The visitor picks Persian in the header's language switcher (it posts at once).
    with page.expect_navigation():
        page.locator("#language-select").select_option("fa")
    _check_branded_home(page, branded, lang="fa", direction="rtl")
    expect(page.locator("#language-select")).to_have_value("fa")
    _screenshot(page, artifacts / "portal-home-fa.png")


def test_the_portal_home_header_names_the_brand(branded, new_context):
    page = new_context().new_page()

    page.goto(f"{branded.base_url}/")

    expect(page.locator("header .brand-name")).to_have_text(branded.name, timeout=2_000)
