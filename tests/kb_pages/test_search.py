"""KB search: Wagtail's database backend on PostgreSQL full text, in the tenant's schema,
with Persian/Arabic folding on both sides and internal articles for agents only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from wagtail.models import Locale

from accounts.models import User
from kb_pages.models import ArticlePage
from kb_pages.selectors import articles_search
from kb_pages.text import query_terms, search_document
from tenants.context import tenant_schema
from tests.kb_pages.conftest import add_page, body, build_kb, home_in, signed_in

PERSIAN_TITLE = "چگونه کارت بانکی را فعال کنم"  # Persian keheh and yeh
ARABIC_TITLE = "تفعيل البطاقة المصرفية بعد الاستلام"  # Arabic yeh and teh marbuta


@pytest.fixture
def persian_kb(in_alpha):
    kb = build_kb(home_in("en"))
    persian_category = kb["category"].copy_for_translation(
        Locale.objects.get(language_code="fa"), copy_parents=True
    )
    persian_category.save_revision().publish()
    article = add_page(
        persian_category,
        ArticlePage(
            title=PERSIAN_TITLE,
            slug="card",
            summary="کارت را در برنامه‌ی موبایل فعال می‌کنید.",
            body=body(("text", "<p>رمز ۱۲۳۴ را وارد کنید و دکمه‌ی تأیید را بزنید.</p>")),
        ),
    )
    return {**kb, "fa_category": persian_category, "fa_article": article}


def _titles(results) -> list[str]:
    return [article.title for article in results]


def test_normalised_document_folds_keyboards_digits_and_zwnj():
    assert search_document("كتاب يك") == search_document("کتاب یک")
    assert "1234" in search_document("کد ۱۲۳۴").split()
    assert {"میشود", "می", "شود"} <= set(search_document("می‌شود").split())
    assert query_terms("می‌شود") == ["میشود"]
    assert query_terms("  ") == []


def test_search_finds_english_articles_by_body_and_title(kb, people):
    found = articles_search(query="forgot password", locale="en", user=people["customer"])

    assert _titles(found) == ["Reset your password"]


@pytest.mark.parametrize(
    "query",
    [
        "كارت بانكي",  # typed on an Arabic keyboard: Arabic kaf and yeh
        "کارت بانکی",  # typed on a Persian keyboard
        "موبایل",  # a word of the summary
        "1234",  # Latin digits find Persian digits
        "برنامهی",  # ZWNJ left out
    ],
)
def test_persian_article_is_found_whichever_keyboard_types_the_query(persian_kb, people, query):
    found = articles_search(query=query, locale="fa", user=people["customer"])

    assert _titles(found) == [PERSIAN_TITLE]


def test_arabic_article_is_found_with_persian_letters(in_alpha, people):
    kb = build_kb(home_in("en"))
    arabic_category = kb["category"].copy_for_translation(
        Locale.objects.get(language_code="ar"), copy_parents=True
    )
    arabic_category.save_revision().publish()
    add_page(arabic_category, ArticlePage(title=ARABIC_TITLE, slug="card"))

    # Persian keyboard: Persian yeh (ی) for Arabic yeh (ي), heh for teh marbuta.
    found = articles_search(query="تفعیل البطاقه", locale="ar", user=people["customer"])

    assert _titles(found) == [ARABIC_TITLE]


def test_search_stays_in_the_asked_language(persian_kb, people):
    assert articles_search(query="کارت", locale="en", user=people["customer"]) == []
    assert articles_search(query="password", locale="fa", user=people["customer"]) == []
    assert _titles(articles_search(query="کارت", locale=None, user=people["customer"])) == [
        PERSIAN_TITLE
    ]


def test_internal_articles_are_found_by_agents_only(kb, people):
    query = "identity console"

    assert articles_search(query=query, locale="en", user=people["customer"]) == []
    assert articles_search(query=query, locale="en", user=AnonymousUser()) == []
    assert _titles(articles_search(query=query, locale="en", user=people["agent"])) == [
        "Unlock a locked account"
    ]


def test_unpublished_articles_are_not_found(kb, people):
    article = kb["article"]
    article.unpublish()

    assert articles_search(query="password", locale="en", user=people["agent"]) == []


def test_a_sentence_finds_articles_sharing_some_of_its_words(kb, people):
    found = articles_search(
        query="I forgot my password yesterday", locale="en", user=people["customer"]
    )

    assert "Reset your password" in _titles(found)


def test_search_page_lists_results_in_the_pages_language(persian_kb, alpha):
    english = alpha.client().get("/kb/search/", {"q": "password"})
    persian = alpha.client().get("/kb/search/", {"q": "كارت"}, HTTP_COOKIE="django_language=fa")

    assert english.status_code == 200
    assert "Reset your password" in english.content.decode()
    assert persian.status_code == 200
    html = persian.content.decode()
    assert PERSIAN_TITLE in html and 'dir="rtl"' in html


def test_search_page_hides_internal_articles_from_customers(kb, alpha):
    customer = signed_in(alpha, "customer").get("/kb/search/", {"q": "identity console"})
    agent = signed_in(alpha, "agent").get("/kb/search/", {"q": "identity console"})

    assert "Unlock a locked account" not in customer.content.decode()
    assert "Unlock a locked account" in agent.content.decode()


def test_search_page_refuses_an_overlong_query(alpha):
    response = alpha.client().get("/kb/search/", {"q": "x" * 201})

    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


def test_search_index_lives_in_tenant_schemas_only(alpha):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables"
            " WHERE table_name = 'wagtailsearch_indexentry'"
        )
        schemas = {row[0] for row in cursor.fetchall()}

    assert alpha.schema_name in schemas
    assert "public" not in schemas


def test_alpha_articles_are_never_found_on_bravo(kb, alpha, bravo):
    assert _titles(articles_search(query="password", locale="en", user=AnonymousUser()))

    with tenant_schema(bravo.schema_name):
        bravo_agent = User.objects.get(pk=bravo.users["agent"])
        assert articles_search(query="password", locale="en", user=bravo_agent) == []
    bravo_page = signed_in(bravo, "agent").get("/kb/search/", {"q": "password"})
    assert bravo_page.status_code == 200
    assert "Reset your password" not in bravo_page.content.decode()


def test_portal_home_has_a_search_box_for_its_language(alpha):
    english = alpha.client().get("/").content.decode()
    persian = alpha.client().get("/", HTTP_COOKIE="django_language=fa").content.decode()

    assert 'action="/kb/search/"' in english and 'name="q"' in english
    assert 'action="/kb/search/"' in persian


def test_publishing_and_unpublishing_keep_the_listing_row_in_step(kb, people):
    from kb_pages.models import ArticleStats

    article = kb["article"]
    row = ArticleStats.objects.get(article=article)
    assert (row.live, row.locale.language_code, row.internal_only) == (True, "en", False)

    article.internal_only = True
    article.save_revision().publish()
    assert articles_search(query="password", locale="en", user=people["customer"]) == []
    assert _titles(articles_search(query="password", locale="en", user=people["agent"])) == [
        "Reset your password"
    ]

    article.unpublish()
    assert not ArticleStats.objects.get(article=article).live
    assert articles_search(query="password", locale="en", user=people["agent"]) == []

    article.internal_only = False
    article.save_revision().publish()
    assert _titles(articles_search(query="password", locale="en", user=people["customer"])) == [
        "Reset your password"
    ]


def test_a_view_keeps_the_listing_row(kb, people):
    from kb_pages.services import article_record_view

    article_record_view(article_id=kb["article"].pk)

    assert _titles(articles_search(query="password", locale="en", user=people["customer"])) == [
        "Reset your password"
    ]


def test_title_matches_rank_first_and_views_pick_the_candidates(kb, people, monkeypatch):
    from kb_pages import selectors
    from kb_pages.models import ArticleStats

    category = kb["category"]
    in_body = [
        add_page(
            category,
            ArticlePage(
                title=f"Account note {n}",
                slug=f"note-{n}",
                body=body(("text", "<p>Mentions the widget once.</p>")),
            ),
        )
        for n in range(4)
    ]
    in_title = add_page(category, ArticlePage(title="Widget settings", slug="widget", body=body()))
    ArticleStats.objects.filter(article=in_body[2]).update(views=50)
    ArticleStats.objects.filter(article=in_body[0]).update(views=10)

    found = _titles(articles_search(query="widget", locale="en", user=people["customer"]))
    assert found[0] == in_title.title and len(found) == 5

    # With fewer candidates than matches, the title match and then the most viewed are
    # ranked; the rest are left out.
    monkeypatch.setattr(selectors, "RANK_CANDIDATES", 3)
    found = _titles(articles_search(query="widget", locale="en", user=people["customer"]))
    assert found[0] == in_title.title
    assert sorted(found[1:]) == ["Account note 0", "Account note 2"]


@pytest.mark.parametrize("query", ["it's", "back\\slash", "a'b | c", "!!", "x:*"])
def test_query_syntax_characters_are_words_not_operators(kb, people, query):
    assert isinstance(articles_search(query=query, locale="en", user=people["agent"]), list)
    assert isinstance(
        articles_search(query=query, locale="en", user=people["agent"], typing=True), list
    )


def test_articles_behind_a_privacy_setting_do_not_crowd_out_public_ones(kb, people):
    from wagtail.models import PageViewRestriction

    from kb_pages.models import KBCategoryPage

    private = add_page(
        kb["index"], KBCategoryPage(title="Staff area", slug="staff-area", icon="🔒")
    )
    for n in range(3):
        add_page(
            private,
            ArticlePage(
                title=f"Password policy {n}",
                slug=f"password-policy-{n}",
                body=body(("text", "<p>password password password</p>")),
            ),
        )
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )

    found = articles_search(query="password", locale="en", user=people["customer"], limit=1)

    assert _titles(found) == ["Reset your password"]


def test_an_article_made_live_without_a_publish_signal_is_listed(kb, people):
    add_page_quietly = kb["category"].add_child
    add_page_quietly(
        instance=ArticlePage(title="Quietly live widget", slug="quiet", live=True, body=body())
    )

    assert _titles(articles_search(query="widget", locale="en", user=people["customer"])) == [
        "Quietly live widget"
    ]
