"""The brand is edited in the tenant's Wagtail admin; bad colours and images are refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.images import get_image_model

from branding.models import BrandSettings
from tests.branding.support import (
    admin_client,
    image_bytes,
    make_image,
    settings_form,
    settings_url,
)


def test_the_brand_setting_is_in_the_admin_settings_menu(alpha, in_alpha):
    client = admin_client(alpha)

    home = client.get("/admin/").content.decode()
    page = client.get(settings_url())

    assert "/admin/settings/branding/brandsettings/" in home
    assert "/admin/domains/" in home  # the custom domains screen sits next to it
    assert page.status_code == 200
    assert 'name="primary_colour"' in page.content.decode()


def test_an_admin_saves_a_brand_and_the_portal_shows_it_at_once(alpha, in_alpha):
    client = admin_client(alpha)
    alpha.client().get("/track/")  # the old brand is now cached
    logo = make_image("Logo", 400, 100)

    response = client.post(
        settings_url(),
        settings_form(
            portal_name="Alpha Care", logo=logo.pk, primary_colour="#AbCdEf", default_language="ar"
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    brand = BrandSettings.objects.get()
    assert (brand.portal_name, brand.logo_id, brand.primary_colour, brand.default_language) == (
        "Alpha Care",
        logo.pk,
        "#abcdef",
        "ar",
    )
    html = alpha.client().get("/track/").content.decode()
    assert "Alpha Care" in html and "--brand-primary: #abcdef;" in html


@pytest.mark.parametrize(
    "colour",
    ["red", "#abc", "#12345g", "#1234567", "javascript:alert(1)", "#fff;}</style><script>"],
)
def test_invalid_colours_are_refused_with_a_clear_error_and_nothing_is_saved(
    alpha, in_alpha, colour
):
    response = admin_client(alpha).post(
        settings_url(), settings_form(portal_name="Should not stick", accent_colour=colour)
    )

    assert response.status_code == 200
    assert "The setting could not be saved due to errors." in response.content.decode()
    assert "six hexadecimal digits" in response.content.decode()
    assert not BrandSettings.objects.filter(portal_name="Should not stick").exists()


@pytest.mark.parametrize(
    ("field", "image_args", "error"),
    [
        ("logo", {"width": 2400, "height": 300}, "each side must be between 16 and 2000 pixels"),
        ("logo", {"width": 8, "height": 8}, "each side must be between 16 and 2000 pixels"),
        ("logo", {"width": 700, "height": 700, "noise": True}, "the limit is 1.0"),
        ("favicon", {"width": 64, "height": 32}, "A favicon must be square"),
        ("favicon", {"width": 2048, "height": 2048}, "each side must be between 16 and 1024"),
    ],
)
def test_oversized_or_misshapen_images_are_refused_and_nothing_is_saved(
    alpha, in_alpha, field, image_args, error
):
    image = make_image("Too much", **image_args)

    response = admin_client(alpha).post(
        settings_url(), settings_form(portal_name="Should not stick", **{field: image.pk})
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not BrandSettings.objects.filter(portal_name="Should not stick").exists()


def test_a_stored_file_that_is_not_an_image_is_refused_as_a_logo(alpha, in_alpha):
    # Say a script or the API put an HTML file behind an image row.
    image = make_image("Disguised", 300, 100)
    with image.file.storage.open(image.file.name, "wb") as f:
        f.write(b"<html><script>alert(1)</script></html>" + b" " * 600)

    response = admin_client(alpha).post(
        settings_url(), settings_form(portal_name="Should not stick", logo=image.pk)
    )

    assert "Choose a PNG, JPEG, GIF, WebP or AVIF image." in response.content.decode()
    assert not BrandSettings.objects.filter(portal_name="Should not stick").exists()


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("logo.png", b"<svg onload=alert(1)></svg>", "Upload a valid image"),
        ("logo.png", b"MZ\x90\x00" + b"\x00" * 64, "Upload a valid image"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "Not a supported image format"),
        ("logo.png", image_bytes(40, 40, "GIF"), "The extension does not match the file format"),
    ],
)
def test_wagtails_image_upload_sniffs_the_content_not_the_name(
    alpha, in_alpha, name, content, error
):
    before = get_image_model().objects.count()

    response = admin_client(alpha).post(
        "/admin/images/add/",
        {"title": "Logo", "file": SimpleUploadedFile(name, content, "image/png"), "collection": 1},
    )

    assert error in response.content.decode()
    assert get_image_model().objects.count() == before


def test_a_customer_cannot_open_the_brand_settings(alpha, in_alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]

    response = client.get(settings_url())

    assert response.status_code in (302, 403)
    assert "primary_colour" not in response.content.decode()
