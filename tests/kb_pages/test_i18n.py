"""English, Persian and Arabic trees per tenant, linked as translations; pages speak
their own language; the switcher lands on the translated page."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from wagtail.models import Locale, Page, Site

from kb_pages.models import ArticlePage, KBIndexPage, PortalHomePage
from tenants.context import tenant_schema
from tenants.provisioning import OwnerDetails, tenant_provision
from tests.conftest import PASSWORD
from tests.kb_pages.conftest import home_in, signed_in


def _lang_and_dir(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1), match.group(2)


def _translate(page: Page, language_code: str, **changes) -> Page:
    """What "Translate" in the admin does (simple_translation): copy into the locale,
    parents included, then an editor edits and publishes."""
    copy = page.copy_for_translation(
        Locale.objects.get(language_code=language_code), copy_parents=True
    )
    for field, value in changes.items():
        setattr(copy, field, value)
    copy.save_revision().publish()
    return copy.specific_class.objects.get(pk=copy.pk)


def _with_language(client, language_code: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language_code
    return client


def test_a_new_tenant_gets_three_locales_and_translated_home_trees(tenants):
    tenant = tenant_provision(
        name="Kilo Co",
        slug="kilo",
        owner=OwnerDetails(name="K Owner", email="owner@kilo.test", password=PASSWORD),
    )

    with tenant_schema(tenant.schema_name):
        assert set(Locale.objects.values_list("language_code", flat=True)) == {"en", "fa", "ar"}
        homes = {home.locale.language_code: home for home in PortalHomePage.objects.all()}
        assert set(homes) == {"en", "fa", "ar"}
        assert len({home.translation_key for home in homes.values()}) == 1
        assert {home.title for home in homes.values()} == {"Kilo Co"}
        assert Site.objects.get(is_default_site=True).root_page_id == homes["en"].pk
        indexes = {
            index.locale.language_code: index
            for index in KBIndexPage.objects.select_related("locale")
        }
        assert set(indexes) == {"en", "fa", "ar"}
        assert len({index.translation_key for index in indexes.values()}) == 1
        for code, index in indexes.items():
            assert index.get_parent().pk == homes[code].pk
        assert indexes["fa"].title == "پایگاه دانش"


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl"), ("ar", "rtl")])
def test_portal_home_is_served_in_the_chosen_language(alpha, language, direction):
    response = _with_language(alpha.client(), language).get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert _lang_and_dir(html) == (language, direction)
    assert "Alpha Corp" in html
    assert response["Content-Language"] == language


def test_translated_article_is_served_in_the_visitors_language(kb, alpha):
    _translate(kb["article"], "fa", title="بازنشانی گذرواژه", slug="bazneshani")

    english = alpha.client().get("/kb/accounts/reset-password/")
    persian = _with_language(alpha.client(), "fa").get("/kb/accounts/bazneshani/")

    assert "Reset your password" in english.content.decode()
    assert _lang_and_dir(english.content.decode()) == ("en", "ltr")
    assert persian.status_code == 200
    assert "بازنشانی گذرواژه" in persian.content.decode()
    assert _lang_and_dir(persian.content.decode()) == ("fa", "rtl")


def test_a_page_speaks_its_own_language_whatever_the_cookie(kb, alpha):
    # No Persian translation: a Persian reader following the link gets the English page,
    # laid out left to right, in English.
    response = _with_language(alpha.client(), "fa").get("/kb/accounts/reset-password/")

    assert response.status_code == 200
    assert "Reset your password" in response.content.decode()
    assert _lang_and_dir(response.content.decode()) == ("en", "ltr")


def test_a_translation_is_reachable_by_an_english_reader_too(kb, alpha):
    _translate(kb["article"], "ar", title="إعادة تعيين كلمة المرور", slug="iadat-tayin")

    response = alpha.client().get("/kb/accounts/iadat-tayin/")

    assert response.status_code == 200
    assert _lang_and_dir(response.content.decode()) == ("ar", "rtl")


def test_switcher_offers_the_translated_page(kb, alpha):
    persian = _translate(kb["article"], "fa", title="بازنشانی گذرواژه", slug="bazneshani")

    html = alpha.client().get("/kb/accounts/reset-password/").content.decode()

    assert f'value="fa" lang="fa" data-next="{persian.url}"' in html
    assert persian.url == "/kb/accounts/bazneshani/"
    # No Arabic translation: switching to Arabic keeps the current address.
    assert 'value="ar" lang="ar" data-next="/kb/accounts/reset-password/"' in html


def test_switching_language_lands_on_the_translation(kb, alpha):
    _translate(kb["article"], "fa", title="بازنشانی گذرواژه", slug="bazneshani")
    client = alpha.client()

    response = client.post(
        "/i18n/setlang/", {"language": "fa", "next": "/kb/accounts/bazneshani/"}, follow=True
    )

    assert response.status_code == 200
    assert _lang_and_dir(response.content.decode()) == ("fa", "rtl")
    assert "بازنشانی گذرواژه" in response.content.decode()


def test_switcher_outside_the_page_tree_keeps_the_address(alpha):
    html = alpha.client().get("/track/").content.decode()

    assert 'data-next="/track/"' in html


def test_admin_translates_a_category_and_its_articles_with_simple_translation(kb, alpha):
    owner = signed_in(alpha, "owner")
    persian = Locale.objects.get(language_code="fa")

    response = owner.post(
        f"/admin/translation/submit/page/{kb['category'].pk}/",
        {"locales": [persian.pk], "include_subtree": "on"},
    )

    assert response.status_code == 302
    article = ArticlePage.objects.get(translation_key=kb["article"].translation_key, locale=persian)
    category = article.get_parent().specific
    assert category.locale == persian
    assert category.translation_key == kb["category"].translation_key
    assert category.get_parent().get_parent().pk == home_in("fa").pk
