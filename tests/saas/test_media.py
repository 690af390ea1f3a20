"""A tenant host serves its own public images at /media/<schema>/ and nothing else there:
not another tenant's files, not ticket attachments, not Wagtail documents, nothing outside
the folder however the path is spelt."""

from __future__ import annotations

import io
import os
import re
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import Resolver404, resolve
from django.utils.http import http_date
from PIL import Image as PILImage
from wagtail.documents import get_document_model

from tenants.context import tenant_schema
from tests.branding.support import image_bytes, make_image, set_brand
from tests.fixtures.tickets import ticket_with_upload

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Brands are cached per schema; this test's rows roll back, so its entries must go."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def in_alpha(alpha):
    with tenant_schema(alpha.schema_name):
        yield alpha


def _media_root(schema_name: str) -> Path:
    with tenant_schema(schema_name):
        return Path(storages["default"].location)


def _logo_src(fixture) -> str:
    html = fixture.client().get("/track/").content.decode()
    return re.search(r'<img class="brand-logo" src="([^"]+)"', html).group(1)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def alpha_logo(in_alpha) -> str:
    """Alpha's brand with a logo; the logo's URL as the portal links it."""
    set_brand(portal_name="Alpha Care", logo=make_image("Alpha media logo", 600, 200))
    return _logo_src(in_alpha)


def test_alphas_logo_is_served_on_alphas_host_as_an_inline_image(alpha, alpha_logo):
    response = alpha.client().get(alpha_logo)

    assert alpha_logo.startswith(f"/media/{alpha.schema_name}/images/")
    assert response.status_code == 200
    body = _body(response)
    assert body.startswith(PNG_MAGIC)
    assert PILImage.open(io.BytesIO(body)).size == (480, 160)  # the rendition, not the original
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Last-Modified"]
    assert int(response["Content-Length"]) == len(body)
    assert "sessionid" not in response.cookies


def test_the_original_upload_is_served_too(alpha, in_alpha):
    image = make_image("Alpha original", 300, 100)

    response = alpha.client().get(image.file.url)

    assert image.file.url.startswith(f"/media/{alpha.schema_name}/original_images/")
    assert response.status_code == 200
    assert _body(response) == image_bytes(300, 100)


def test_bravos_host_does_not_serve_alphas_logo(alpha, bravo, alpha_logo):
    bravo_client = bravo.client()
    same_name_in_bravos_folder = alpha_logo.replace(
        f"/media/{alpha.schema_name}/", f"/media/{bravo.schema_name}/"
    )

    assert bravo_client.get(alpha_logo).status_code == 404
    assert bravo_client.get(same_name_in_bravos_folder).status_code == 404
    assert alpha.client().get(alpha_logo).status_code == 200  # the file is there


def test_each_host_serves_its_own_logo_under_the_same_file_name(alpha, bravo, in_alpha):
    title = f"Logo {uuid.uuid4().hex[:8]}"  # media files outlive the rolled-back rows
    set_brand(logo=make_image(title, 600, 200))
    alpha_logo = _logo_src(alpha)
    with tenant_schema(bravo.schema_name):
        set_brand(logo=make_image(title, 600, 200, noise=True))
    bravo_logo = _logo_src(bravo)
    assert bravo_logo.rsplit("/", 1)[1] == alpha_logo.rsplit("/", 1)[1]

    from_alpha = _body(alpha.client().get(alpha_logo))
    from_bravo = _body(bravo.client().get(bravo_logo))

    assert from_alpha != from_bravo  # same name, two files, each on its own host


@pytest.mark.parametrize(
    "spelling",
    [
        "/media/{alpha}/images/../../{bravo}/images/{name}",
        "/media/{alpha}/images/%2e%2e/%2e%2e/{bravo}/images/{name}",
        "/media/{alpha}/images/..%2f..%2f{bravo}%2fimages%2f{name}",
        "/media/{alpha}/images/..\\..\\{bravo}\\images\\{name}",
        "/media/{alpha}/../{bravo}/images/{name}",
        "/media/{alpha}/./images/{name}",
        "/media/{alpha}/images//{name}",
        "/media/{alpha}//{bravo}/images/{name}",
        "/media/{alpha}/images/{name}%00.png",
        "/media//etc/passwd",
        "/media/{alpha}//etc/passwd",
        "/media/{alpha}/images/../../../../../../../../etc/passwd",
        "/media/{alpha}/images/",
        "/media/{alpha}/",
        "/media/",
    ],
)
def test_traversal_and_odd_spellings_answer_404(alpha, bravo, spelling):
    with tenant_schema(bravo.schema_name):
        set_brand(logo=make_image("Bravo secret logo", 600, 200))
    bravo_logo = _logo_src(bravo)
    name = bravo_logo.rsplit("/", 1)[1]
    assert bravo.client().get(bravo_logo).status_code == 200  # reachable, on its own host

    url = spelling.format(alpha=alpha.schema_name, bravo=bravo.schema_name, name=name)
    response = alpha.client().get(url)

    assert response.status_code == 404
    assert PNG_MAGIC not in response.content


def _ticket_with_screenshot(fixture):
    ticket = ticket_with_upload(
        fixture, name="screenshot.png", content=image_bytes(40, 30), content_type="image/png",
        subject="The printer shows an error", body="See the screenshot.",
    )  # fmt: skip
    with tenant_schema(fixture.schema_name):
        return ticket.attachments.get()


def test_ticket_attachments_are_never_served_as_media(alpha):
    attachment = _ticket_with_screenshot(alpha)
    with tenant_schema(alpha.schema_name):
        on_disk = Path(attachment.file.path)
        media_url = attachment.file.url
    assert on_disk.is_file() and on_disk.read_bytes().startswith(PNG_MAGIC)
    assert media_url.startswith(f"/media/{alpha.schema_name}/attachments/")
    customer = alpha.client()
    customer.cookies["sessionid"] = alpha.sessions["customer"]
    manager = alpha.client()
    manager.cookies["sessionid"] = alpha.sessions["manager"]

    assert alpha.client().get(media_url).status_code == 404
    assert customer.get(media_url).status_code == 404  # not even for the ticket's requester
    assert manager.get(media_url).status_code == 404
    assert (
        alpha.client()
        .get(media_url.replace("/attachments/", "/images/../attachments/"))
        .status_code
        == 404
    )
    # The access-checked view is the one way to the file.
    assert customer.get(f"/attachments/{attachment.token}/").status_code == 200
    assert alpha.client().get(f"/attachments/{attachment.token}/").status_code == 404


def test_a_symlink_from_a_public_folder_into_attachments_or_outside_is_refused(alpha, tmp_path):
    attachment = _ticket_with_screenshot(alpha)
    with tenant_schema(alpha.schema_name):
        attachment_path = attachment.file.path
    images = _media_root(alpha.schema_name) / "images"
    images.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes(10, 10))
    links = {"linked-attachment.png": attachment_path, "linked-outside.png": outside}
    for name, target in links.items():
        (images / name).unlink(missing_ok=True)
        os.symlink(target, images / name)
    folder_link = _media_root(alpha.schema_name) / "images" / "linked-folder"
    folder_link.unlink(missing_ok=True)
    os.symlink(Path(attachment_path).parent, folder_link)
    base = f"/media/{alpha.schema_name}/images"
    client = alpha.client()

    try:
        assert client.get(f"{base}/linked-attachment.png").status_code == 404
        assert client.get(f"{base}/linked-outside.png").status_code == 404
        assert client.get(f"{base}/linked-folder/screenshot.png").status_code == 404
    finally:
        for name in [*links, "linked-folder"]:
            (images / name).unlink()


def test_wagtail_documents_are_left_to_wagtails_own_view(alpha, in_alpha):
    document = get_document_model().objects.create(
        title="Price list", file=ContentFile(b"%PDF-1.4 prices", name="prices.pdf")
    )

    assert document.file.url.startswith(f"/media/{alpha.schema_name}/documents/")
    assert alpha.client().get(document.file.url).status_code == 404
    served = alpha.client().get(document.url)  # /documents/<id>/prices.pdf, privacy-checked
    assert served.status_code == 200
    assert _body(served) == b"%PDF-1.4 prices"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("page.html", b"<script>alert(1)</script>"),
        ("notes.txt", b"plain"),
        ("archive.png.gz", b"\x1f\x8b\x08\x00"),
    ],
)
def test_anything_but_a_raster_image_is_a_download_never_shown_inline(
    alpha, in_alpha, name, content
):
    stored = storages["default"].save(f"original_images/{name}", ContentFile(content))

    response = alpha.client().get(f"/media/{alpha.schema_name}/{stored}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert _body(response) == content


def test_an_unchanged_file_answers_304_to_a_conditional_request(alpha, alpha_logo):
    first = alpha.client().get(alpha_logo)

    again = alpha.client().get(alpha_logo, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    stale = alpha.client().get(alpha_logo, HTTP_IF_MODIFIED_SINCE=http_date(0))

    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == "public, max-age=3600"
    assert stale.status_code == 200


def test_only_get_and_head_are_answered(alpha, alpha_logo):
    head = alpha.client().head(alpha_logo)

    assert head.status_code == 200 and head["Content-Type"] == "image/png"
    assert alpha.client().post(alpha_logo).status_code == 405
    assert alpha.client().delete(alpha_logo).status_code == 405


def test_a_missing_file_or_folder_answers_404(alpha):
    client = alpha.client()

    assert client.get(f"/media/{alpha.schema_name}/images/no-such-logo.png").status_code == 404
    assert client.get(f"/media/{alpha.schema_name}/secrets/x.png").status_code == 404


def test_serve_media_off_leaves_media_to_someone_else(alpha, alpha_logo, settings):
    settings.SERVE_MEDIA = False

    assert alpha.client().get(alpha_logo).status_code == 404


def test_the_public_site_has_no_media_route(alpha_logo):
    with pytest.raises(Resolver404):
        resolve(alpha_logo, urlconf="saas.urls_public")
    assert resolve(alpha_logo, urlconf="saas.urls_tenant").url_name == "tenant_media"
