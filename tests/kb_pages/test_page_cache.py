"""The portal's page cache (kb_pages.page_cache): anonymous readers share one rendering
per tenant, page and language; everyone else, and every change, goes around it."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client
from wagtail.models import PageViewRestriction

from kb_pages.models import ArticleStats
from tenants.context import tenant_schema
from tests.branding.support import set_brand
from tests.kb_pages.conftest import build_kb, english_home, signed_in, views_of

ARTICLE = "/kb/accounts/reset-password/"
INTERNAL = "/kb/accounts/unlock-account/"
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_the_second_anonymous_reader_gets_the_stored_page_without_routing(
    kb, alpha, django_assert_max_num_queries
):
    first = alpha.client().get(ARTICLE)
    assert first.status_code == 200 and first["X-Page-Cache"] == "miss"

    # Left on a hit: finding the tenant (its domain, two search_path switches) and the
    # article's view counter; no routing, no page, no template queries.
    with django_assert_max_num_queries(4):
        second = alpha.client().get(ARTICLE)

    assert second.status_code == 200 and second["X-Page-Cache"] == "hit"
    assert "Reset your password" in second.content.decode()
    assert _TOKEN.sub("", second.content.decode()) == _TOKEN.sub("", first.content.decode())
    assert second["Content-Language"] == "en"
    assert views_of(kb["article"]) == 2


def test_each_reader_gets_a_csrf_token_of_their_own_that_works(kb, alpha):
    readers = [Client(HTTP_HOST=alpha.host, enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for reader in readers:
        page = reader.get(ARTICLE)
        tokens.append(_TOKEN.search(page.content.decode()).group(1))
        assert settings.CSRF_COOKIE_NAME in reader.cookies
    assert readers[1].get(ARTICLE)["X-Page-Cache"] == "hit"
    assert tokens[0] != tokens[1]

    for reader, token in zip(readers, tokens, strict=True):
        answer = reader.post(
            ARTICLE + "feedback/", {"helpful": "yes", "csrfmiddlewaretoken": token}
        )
        assert answer.status_code == 302, answer.content[:300]


def test_signed_in_people_are_always_rendered(kb, alpha):
    alpha.client().get(ARTICLE)  # stored for anonymous readers

    customer = signed_in(alpha, "customer").get(ARTICLE)
    agent = signed_in(alpha, "agent").get(INTERNAL)

    assert "X-Page-Cache" not in customer and "X-Page-Cache" not in agent
    assert 'class="who"' in customer.content.decode()
    assert agent.status_code == 200
    assert alpha.client().get(INTERNAL).status_code == 404


def test_publishing_drops_the_stored_pages(kb, alpha, django_capture_on_commit_callbacks):
    client = alpha.client()
    client.get(ARTICLE)
    article = kb["article"]
    article.title = "Reset a forgotten password"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()

    page = client.get(ARTICLE)

    assert page["X-Page-Cache"] == "miss"
    assert "Reset a forgotten password" in page.content.decode()


def test_a_draft_keeps_the_stored_pages(kb, alpha, django_capture_on_commit_callbacks):
    client = alpha.client()
    client.get(ARTICLE)
    article = kb["article"]
    article.title = "Draft title"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision()

    page = client.get(ARTICLE)

    assert page["X-Page-Cache"] == "hit"
    assert "Draft title" not in page.content.decode()


def test_unpublishing_and_privacy_take_effect_at_once(
    kb, alpha, django_capture_on_commit_callbacks
):
    client = alpha.client()
    category = "/kb/accounts/"
    client.get(ARTICLE), client.get(category), client.get(INTERNAL)
    assert "Reset your password" in client.get(category).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        kb["article"].unpublish()
    assert client.get(ARTICLE).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=kb["category"], restriction_type=PageViewRestriction.PASSWORD, password="x"
        )
    restricted = client.get(category)
    assert "X-Page-Cache" not in restricted
    assert 'name="password"' in restricted.content.decode()
    assert "Get back into your account" not in restricted.content.decode()


def test_a_brand_change_reaches_stored_pages(kb, alpha, django_capture_on_commit_callbacks):
    client = alpha.client()
    client.get(ARTICLE)

    with django_capture_on_commit_callbacks(execute=True):
        set_brand(portal_name="Alpha Answers")

    assert "Alpha Answers" in client.get(ARTICLE).content.decode()


def test_search_results_and_pages_with_a_message_are_not_stored(kb, alpha):
    client = alpha.client()
    for _ in range(2):
        results = client.get("/kb/search/?q=password")
        assert results.status_code == 200 and "X-Page-Cache" not in results

    client.get(ARTICLE)
    client.cookies[CookieStorage.cookie_name] = "pending"
    assert "X-Page-Cache" not in client.get(ARTICLE)


def test_each_language_has_its_own_copy_of_the_home_page(kb, alpha):
    readers = {}
    for language in ("en", "fa", "en", "fa"):
        client = alpha.client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        readers.setdefault(language, []).append(client.get("/"))

    for language, (first, second) in readers.items():
        assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
        assert f'lang="{language}"' in second.content.decode()
        assert second["Content-Language"] == language


def test_a_tenant_never_gets_another_tenants_stored_page(kb, alpha, bravo):
    with tenant_schema(bravo.schema_name):
        build_kb(english_home(), prefix="Bravo: ")
    alpha.client().get(ARTICLE)
    assert alpha.client().get(ARTICLE)["X-Page-Cache"] == "hit"

    page = bravo.client().get(ARTICLE)

    assert page["X-Page-Cache"] == "miss"
    assert "Bravo: Reset your password" in page.content.decode()
    # and the other way round, once bravo's copy is stored
    assert "Bravo:" not in alpha.client().get(ARTICLE).content.decode()
    assert "Bravo: Reset your password" in bravo.client().get(ARTICLE).content.decode()


def test_query_strings_and_api_calls_are_not_stored(kb, alpha):
    client = alpha.client()
    for _ in range(2):
        assert "X-Page-Cache" not in client.get(ARTICLE + "?utm=1")
        assert "X-Page-Cache" not in client.get(ARTICLE, HTTP_AUTHORIZATION="Bearer x")
    assert client.get(ARTICLE)["X-Page-Cache"] == "miss"


def test_a_new_tenant_on_a_reused_schema_never_sees_the_old_pages(kb, alpha):
    from kb_pages.page_cache import tenant_page_cache_reset

    alpha.client().get(ARTICLE)
    assert alpha.client().get(ARTICLE)["X-Page-Cache"] == "hit"

    tenant_page_cache_reset(tenant=alpha.tenant)  # what provisioning runs for a new tenant

    assert alpha.client().get(ARTICLE)["X-Page-Cache"] == "miss"


def test_the_brand_cache_is_dropped_before_the_pages_after_a_brand_change(in_alpha):
    from django.db import connection

    set_brand(portal_name="Ordered")

    last = connection.run_on_commit[-1][1]
    assert getattr(last, "page_cache_schema", None) == in_alpha.schema_name


def test_a_hit_on_an_article_deleted_meanwhile_counts_nothing_and_fails_nothing(kb, alpha):
    from kb_pages.services import article_record_view

    article_id = kb["article"].pk
    kb["article"].delete()

    article_record_view(article_id=article_id)

    assert not ArticleStats.objects.filter(article_id=article_id).exists()
