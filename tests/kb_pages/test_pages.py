"""Page types of the knowledge base: where they may be created, that they route and
render on the tenant's host, and who sees internal-only articles."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from wagtail.models import Page, Site
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from kb_pages.models import (
    ArticlePage,
    ArticleRelatedLink,
    KBCategoryPage,
    KBIndexPage,
    PortalHomePage,
)
from tenants.context import tenant_schema
from tests.kb_pages.conftest import english_home, signed_in


def test_page_types_nest_home_index_category_article():
    assert PortalHomePage.allowed_subpage_models() == [KBIndexPage]
    assert KBIndexPage.allowed_subpage_models() == [KBCategoryPage]
    assert set(KBCategoryPage.allowed_subpage_models()) == {KBCategoryPage, ArticlePage}
    assert ArticlePage.allowed_subpage_models() == []
    assert set(ArticlePage.allowed_parent_page_models()) == {KBCategoryPage}
    assert set(KBCategoryPage.allowed_parent_page_models()) == {KBIndexPage, KBCategoryPage}


def test_one_kb_index_per_home(kb):
    home = english_home()
    assert not KBIndexPage.can_create_at(home)
    assert KBCategoryPage.can_create_at(kb["index"])
    assert ArticlePage.can_create_at(kb["category"])
    assert not ArticlePage.can_create_at(kb["index"])


def test_every_kb_page_routes_from_the_tenant_site(kb, alpha):
    site = Site.objects.get(is_default_site=True)
    request = RequestFactory().get("/", HTTP_HOST=alpha.host)
    for page in (kb["index"], kb["category"], kb["article"]):
        path = page.get_url(request)
        routed, _args, _kwargs = site.root_page.localized.specific.route(
            request, [part for part in path.split("/") if part]
        )
        assert routed.pk == page.pk


def test_pages_render_on_the_tenant_host(kb, alpha):
    client = alpha.client()

    index = client.get("/kb/")
    category = client.get("/kb/accounts/")
    article = client.get("/kb/accounts/reset-password/")

    assert index.status_code == 200 and "Accounts" in index.content.decode()
    assert category.status_code == 200
    assert "Reset your password" in category.content.decode()
    assert article.status_code == 200
    html = article.content.decode()
    assert "Forgot password" in html
    assert '<code class="language-bash">curl -X POST /password/reset</code>' in html
    assert 'class="kb-callout kb-callout--warning"' in html
    assert "Follow the emailed link" in html and "<ol>" in html
    assert "css/kb.css" in html


def test_home_shows_featured_categories_and_articles(kb, alpha):
    home = english_home()
    home.featured_categories.set([kb["category"]])
    home.featured_articles.set([kb["article"], kb["internal"]])
    home.save_revision().publish()

    customer_html = alpha.client().get("/").content.decode()
    agent_html = signed_in(alpha, "agent").get("/").content.decode()

    assert "Browse by topic" in customer_html and "Accounts" in customer_html
    assert "Reset your password" in customer_html
    assert "Unlock a locked account" not in customer_html
    assert "Unlock a locked account" in agent_html


@pytest.mark.parametrize("role", [None, "customer", "other_customer"])
def test_internal_article_is_404_for_customers_and_anonymous(kb, alpha, role):
    client = signed_in(alpha, role) if role else alpha.client()

    assert client.get("/kb/accounts/unlock-account/").status_code == 404
    assert "Unlock a locked account" not in client.get("/kb/accounts/").content.decode()


@pytest.mark.parametrize("role", ["agent", "manager", "owner"])
def test_internal_article_is_served_to_agents(kb, alpha, role):
    client = signed_in(alpha, role)

    response = client.get("/kb/accounts/unlock-account/")

    assert response.status_code == 200
    assert "Internal article" in response.content.decode()
    assert "Unlock a locked account" in client.get("/kb/accounts/").content.decode()


def test_related_articles_hide_internal_ones_from_customers(kb, alpha):
    article = kb["article"]
    other = ArticlePage(title="Change your email", slug="change-email")
    kb["category"].add_child(instance=other)
    article.related_links = [
        ArticleRelatedLink(related=kb["internal"]),
        ArticleRelatedLink(related=other),
    ]
    article.save_revision().publish()

    customer_html = alpha.client().get("/kb/accounts/reset-password/").content.decode()
    agent_html = signed_in(alpha, "agent").get("/kb/accounts/reset-password/").content.decode()

    assert "Change your email" in customer_html and "Unlock a locked account" not in customer_html
    assert "Unlock a locked account" in agent_html


def test_draft_article_is_not_served(kb, alpha):
    draft = ArticlePage(title="Coming soon", slug="coming-soon", live=False)
    kb["category"].add_child(instance=draft)
    draft.save_revision()

    assert alpha.client().get("/kb/accounts/coming-soon/").status_code == 404


def test_admin_creates_an_article_with_a_streamfield_body(kb, alpha):
    owner = signed_in(alpha, "owner")
    data = nested_form_data(
        {
            "title": "Print a receipt",
            "slug": "print-a-receipt",
            "summary": "Receipts from the billing page.",
            "body": streamfield(
                [
                    ("text", rich_text("<p>Open billing.</p>")),
                    ("code", {"language": "text", "code": "Ctrl+P"}),
                    (
                        "callout",
                        {"tone": "tip", "title": "", "text": rich_text("<p>PDF works.</p>")},
                    ),
                ]
            ),
            "tags": "billing, receipts",
            "internal_only": "",
            "related_links-TOTAL_FORMS": "0",
            "related_links-INITIAL_FORMS": "0",
            "related_links-MIN_NUM_FORMS": "0",
            "related_links-MAX_NUM_FORMS": "1000",
            "action-publish": "publish",
        }
    )
    category = kb["category"]

    response = owner.post(f"/admin/pages/add/kb_pages/articlepage/{category.pk}/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    article = ArticlePage.objects.get(slug="print-a-receipt")
    assert article.live and article.get_parent().pk == category.pk
    assert [block.block_type for block in article.body] == ["text", "code", "callout"]
    assert set(article.tags.names()) == {"billing", "receipts"}
    assert "Ctrl+P" in alpha.client().get("/kb/accounts/print-a-receipt/").content.decode()


def test_admin_offers_article_pages_only_under_categories(kb, alpha):
    owner = signed_in(alpha, "owner")

    allowed = owner.get(f"/admin/pages/add/kb_pages/articlepage/{kb['category'].pk}/")
    refused = owner.get(f"/admin/pages/add/kb_pages/articlepage/{kb['index'].pk}/")

    assert allowed.status_code == 200
    # Wagtail answers a forbidden page type with its "permission denied" redirect.
    assert refused.status_code == 302 and refused.url == "/admin/"


def test_kb_of_alpha_is_not_served_on_bravo(kb, alpha, bravo):
    assert alpha.client().get("/kb/accounts/reset-password/").status_code == 200
    assert bravo.client().get("/kb/accounts/reset-password/").status_code == 404
    bravo_index = bravo.client().get("/kb/")
    assert bravo_index.status_code == 200 and "Accounts" not in bravo_index.content.decode()
    with tenant_schema(bravo.schema_name):
        assert not Page.objects.filter(slug="reset-password").exists()
