""" "Was this helpful?" votes, view counts and the admin report of most viewed and least
helpful articles."""

from __future__ import annotations

import json

import pytest
from wagtail.models import Revision

from kb_pages.models import ArticlePage, ArticleStats, ArticleVote
from kb_pages.services import article_record_view
from tenants.context import tenant_schema
from tests.kb_pages.conftest import signed_in, views_of

ARTICLE = "/kb/accounts/reset-password/"
FEEDBACK = ARTICLE + "feedback/"
INTERNAL = "/kb/accounts/unlock-account/"


def test_each_view_counts_without_touching_the_page(kb, alpha):
    article = kb["article"]
    revisions_before = Revision.objects.filter(object_id=str(article.pk)).count()
    client = alpha.client()

    client.get(ARTICLE)
    client.get(ARTICLE)

    assert views_of(article) == 2
    assert Revision.objects.filter(object_id=str(article.pk)).count() == revisions_before
    article.refresh_from_db()
    assert not article.has_unpublished_changes


def test_publishing_a_revision_keeps_the_count(kb, alpha):
    article = kb["article"]
    alpha.client().get(ARTICLE)
    article.title = "Reset your password (updated)"
    article.save_revision().publish()

    assert views_of(article) == 1


def test_views_of_hidden_articles_are_not_counted(kb, alpha):
    assert alpha.client().get(INTERNAL).status_code == 404
    assert views_of(kb["internal"]) == 0


def test_feedback_page_is_not_a_view(kb, alpha):
    alpha.client().post(FEEDBACK, {"helpful": "yes"})

    assert views_of(kb["article"]) == 0


def test_anonymous_reader_votes_once_and_can_change_the_answer(kb, alpha):
    client = alpha.client()

    first = client.post(FEEDBACK, {"helpful": "yes", "comment": "Clear steps"})
    second = client.post(FEEDBACK, {"helpful": "no", "comment": "  The link expired  "})

    assert first.status_code == 302 and first.url == ARTICLE + "#feedback"
    assert second.status_code == 302
    vote = ArticleVote.objects.get(article=kb["article"])
    assert vote.helpful is False and vote.comment == "The link expired"
    assert vote.voter_key.startswith("session:") and vote.user is None
    assert "Thank you for your feedback." in client.get(ARTICLE).content.decode()


def test_signed_in_readers_vote_as_themselves(kb, alpha, people):
    signed_in(alpha, "customer").post(FEEDBACK, {"helpful": "yes"})
    signed_in(alpha, "other_customer").post(FEEDBACK, {"helpful": "no"})
    signed_in(alpha, "customer").post(FEEDBACK, {"helpful": "yes", "comment": "again"})

    votes = ArticleVote.objects.filter(article=kb["article"]).order_by("user__email")
    assert [(v.user.email, v.helpful) for v in votes] == [
        ("customer@alpha.test", True),
        ("other.customer@alpha.test", False),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please answer yes or no."),
        ({"helpful": "maybe"}, "Please answer yes or no."),
        ({"helpful": ""}, "Please answer yes or no."),
        ({"helpful": "yes", "comment": "x" * 1001}, "under 1000 characters"),
        ({"helpful": "yes", "comment": "bad\x00byte"}, "Null characters are not allowed."),
    ],
)
def test_bad_feedback_is_refused_with_a_clear_message_and_nothing_saved(kb, alpha, data, message):
    response = alpha.client().post(FEEDBACK, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ArticleVote.objects.exists()


def test_bad_feedback_as_json(kb, alpha):
    response = alpha.client().post(FEEDBACK, {"helpful": "perhaps"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    errors = json.loads(response.content)["errors"]
    assert errors["helpful"][0]["message"] == "Please answer yes or no."
    assert not ArticleVote.objects.exists()


def test_feedback_as_json(kb, alpha):
    response = alpha.client().post(FEEDBACK, {"helpful": "yes"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 200 and json.loads(response.content)["ok"] is True
    assert ArticleVote.objects.get().helpful is True


def test_feedback_only_by_post(kb, alpha):
    assert alpha.client().get(FEEDBACK).status_code == 405


def test_customers_cannot_vote_on_internal_articles(kb, alpha):
    response = signed_in(alpha, "customer").post(INTERNAL + "feedback/", {"helpful": "no"})

    assert response.status_code == 404
    assert not ArticleVote.objects.exists()


def _report_rows(html: str, titles: list[str]) -> list[str]:
    return sorted(titles, key=lambda title: html.index(title))


def test_report_lists_most_viewed_and_least_helpful(kb, alpha):
    # The tree order is article, internal; the report must order by its own figures.
    article, internal = kb["article"], kb["internal"]
    article_record_view(article_id=article.pk)
    for _ in range(3):
        article_record_view(article_id=internal.pk)
    for role, answer in [("agent", "yes"), ("manager", "yes"), ("billing_agent", "no")]:
        signed_in(alpha, role).post(INTERNAL + "feedback/", {"helpful": answer})
    signed_in(alpha, "customer").post(FEEDBACK, {"helpful": "no"})
    owner = signed_in(alpha, "owner")
    titles = [article.title, internal.title]

    most_viewed = owner.get("/admin/reports/kb-articles/")
    least_helpful = owner.get("/admin/reports/kb-articles/", {"ordering": "helpful_share"})

    assert most_viewed.status_code == 200
    html = most_viewed.content.decode()
    assert _report_rows(html, titles) == [internal.title, article.title]
    assert "67%" in html and "0%" in html
    assert _report_rows(least_helpful.content.decode(), titles) == [article.title, internal.title]


def test_report_is_in_the_reports_menu_and_closed_to_agents(kb, alpha):
    owner_home = signed_in(alpha, "owner").get("/admin/").content.decode()
    agent = signed_in(alpha, "agent").get("/admin/reports/kb-articles/")

    assert "/admin/reports/kb-articles/" in owner_home
    assert agent.status_code in (302, 403)


def test_votes_views_and_report_stay_in_their_tenant(kb, alpha, bravo):
    alpha.client().get(ARTICLE)
    alpha.client().post(FEEDBACK, {"helpful": "yes"})

    assert bravo.client().post(FEEDBACK, {"helpful": "no"}).status_code == 404
    bravo_report = signed_in(bravo, "owner").get("/admin/reports/kb-articles/")
    assert bravo_report.status_code == 200
    assert "Reset your password" not in bravo_report.content.decode()
    with tenant_schema(bravo.schema_name):
        assert not ArticleVote.objects.exists()
        assert not ArticleStats.objects.exists()
        assert not ArticlePage.objects.filter(slug="reset-password").exists()
    with tenant_schema(alpha.schema_name):
        assert ArticleVote.objects.count() == 1
        assert views_of(kb["article"]) == 1
