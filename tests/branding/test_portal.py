"""The portal wears the tenant's brand: name, logo, favicon, colours, default language."""

import re

import pytest
from django.utils import translation

from tests.branding.support import make_image, set_brand


def test_portal_pages_show_the_brand_name_logo_favicon_and_colours(alpha, in_alpha):
    logo = make_image("Alpha logo", 600, 200)
    favicon = make_image("Alpha icon", 128, 128)
    set_brand(
        portal_name="Alpha Care",
        logo=logo,
        favicon=favicon,
        primary_colour="#AA3300",
        accent_colour="#00aa55",
    )

    html = alpha.client().get("/track/").content.decode()

    assert "<title>" in html and "Alpha Care" in html
    assert re.search(r'<span class="brand-name">\s*Alpha Care\s*</span>', html)
    logo_src = re.search(r'<img class="brand-logo" src="([^"]+)"', html).group(1)
    assert logo_src.startswith(f"/media/{alpha.schema_name}/images/") and logo_src.endswith(".png")
    assert logo.renditions.filter(file__endswith=logo_src.rsplit("/", 1)[1]).exists()
    favicon_href = re.search(r'<link rel="icon" type="image/png" href="([^"]+)"', html).group(1)
    assert favicon.renditions.filter(file__endswith=favicon_href.rsplit("/", 1)[1]).exists()
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "--brand-primary: #aa3300;" in style and "--brand-accent: #00aa55;" in style


def test_the_portal_home_page_carries_the_brand(alpha, in_alpha):
    set_brand(primary_colour="#123456", logo=make_image("Home logo"))

    html = alpha.client().get("/").content.decode()

    assert "--brand-primary: #123456;" in html
    assert 'class="brand-logo"' in html


def test_without_a_brand_the_portal_uses_the_organisation_name_and_house_colours(alpha):
    html = alpha.client().get("/track/").content.decode()

    assert re.search(r'<span class="brand-name">\s*Alpha Corp\s*</span>', html)
    assert "<style>" not in html and "brand-logo" not in html and 'rel="icon"' not in html


def test_script_in_the_portal_name_is_shown_escaped(alpha, in_alpha):
    set_brand(portal_name='</style><script>alert("x")</script>', primary_colour="#112233")

    html = alpha.client().get("/track/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;/style&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count("</style>") == 1  # only our own


def test_a_colour_that_slipped_past_the_form_never_reaches_the_stylesheet(alpha, in_alpha):
    from branding.models import BrandSettings

    set_brand(primary_colour="#112233")
    # Rows can be written without the form (shell, data migration): still never in CSS.
    BrandSettings.objects.update(primary_colour="</style")
    from branding.services import brand_cache_clear

    brand_cache_clear(schema_name=alpha.schema_name)

    html = alpha.client().get("/track/").content.decode()

    assert "<style>" not in html and "&lt;/style" not in html


def test_a_visitor_without_a_language_gets_the_tenants_default(alpha, in_alpha):
    set_brand(default_language="fa")
    with translation.override("fa"):
        follow = translation.gettext("Follow a request")
    assert follow != "Follow a request"  # the fa catalogue has it, or this test proves nothing

    first_visit = alpha.client().get("/track/")

    html = first_visit.content.decode()
    assert 'lang="fa"' in html and 'dir="rtl"' in html and follow in html
    assert first_visit["Content-Language"] == "fa"


@pytest.mark.parametrize(
    ("headers", "cookie", "expected"),
    [
        ({"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, None, "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "ar"}, None, "ar"),
        ({}, "en", "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}, None, "fa"),  # nothing we offer
        ({}, "xx", "fa"),  # a cookie for a language we do not have
    ],
)
def test_a_visitors_own_choice_wins_over_the_tenants_default(
    alpha, in_alpha, headers, cookie, expected
):
    set_brand(default_language="fa")
    client = alpha.client(**headers)
    if cookie:
        client.cookies["django_language"] = cookie

    html = client.get("/track/").content.decode()

    assert f'lang="{expected}"' in html


def test_a_language_in_the_url_wins_over_the_tenants_default(alpha, in_alpha, settings):
    settings.ROOT_URLCONF = "tests.branding.urls_i18n"
    set_brand(default_language="fa")

    prefixed = alpha.client().get("/ar/hello/").content.decode()
    bare = alpha.client().get("/hello/", follow=True)

    assert 'lang="ar"' in prefixed
    assert bare.redirect_chain[-1][0] == "/fa/hello/"  # no choice: the tenant's default
