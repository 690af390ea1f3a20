"""The desk's side of the knowledge base: searching articles to link in a reply (and not
sending customers links to internal-only ones), and turning a resolved ticket into a
draft article with personal data removed."""

from __future__ import annotations

import pytest

from helpdesk.models import Message, MessageKind, StatusCategory
from helpdesk.services import tickets as services
from kb_pages.models import ArticlePage, KBIndexPage
from tenants.context import tenant_schema
from tests.kb_pages.conftest import build_kb, english_home, home_in

INTERNAL_URL = "http://alpha.localhost/kb/accounts/unlock-account/"
PUBLIC_URL = "http://alpha.localhost/kb/accounts/reset-password/"


def _client(tenant, role):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


@pytest.fixture
def kb(in_alpha):
    return build_kb(english_home())


def _resolve(ticket, agent, answer: str):
    services.ticket_reply(
        ticket=ticket,
        author=agent,
        body_text=answer,
        set_status=services.status_for_stage(StatusCategory.RESOLVED),
    )
    ticket.refresh_from_db()
    return ticket


# --- finding and inserting links ---------------------------------------------------------


def test_ticket_page_offers_the_kb_search_in_the_customers_language(alpha, new_ticket, people):
    people["customer"].language = "fa"
    people["customer"].save(update_fields=["language"])
    ticket = new_ticket()

    html = _client(alpha, "agent").get(f"/desk/tickets/{ticket.reference}/").content.decode()

    assert 'data-suggest-url="/kb/suggest/"' in html
    assert 'data-target="id_body"' in html and 'data-internal-checkbox="id_internal"' in html
    assert '<option value="fa" selected>' in html
    assert "js/kb-links.js" in html


def test_kb_search_language_follows_the_subjects_script(alpha, new_ticket):
    ticket = new_ticket(subject="كيف أفعل البطاقة", requester=None, requester_email="a@b.example")

    html = _client(alpha, "agent").get(f"/desk/tickets/{ticket.reference}/").content.decode()

    assert '<option value="ar" selected>' in html


def test_agents_find_internal_articles_marked_in_any_language(alpha, kb):
    response = _client(alpha, "agent").get("/kb/suggest/", {"q": "unlock account", "lang": "all"})

    [item] = response.json()["results"]
    assert item["internal"] is True and item["url"] == INTERNAL_URL


@pytest.mark.parametrize(
    "body",
    [
        f"Please read Unlock a locked account\n{INTERNAL_URL}",
        "See (http://alpha.localhost/kb/accounts/unlock-account).",  # no slash, in brackets
        "On our own domain: https://help.alpha.example/kb/accounts/unlock-account/#steps",
    ],
)
def test_a_public_reply_may_not_link_an_internal_article(alpha, kb, new_ticket, body):
    ticket = new_ticket()
    before = Message.objects.filter(ticket=ticket).count()

    response = _client(alpha, "agent").post(
        f"/desk/tickets/{ticket.reference}/reply/", {"body": body}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Customers cannot open internal-only articles" in html
    assert "Unlock a locked account" in html
    assert Message.objects.filter(ticket=ticket).count() == before


def test_an_internal_note_may_link_an_internal_article(alpha, kb, new_ticket):
    ticket = new_ticket()

    response = _client(alpha, "agent").post(
        f"/desk/tickets/{ticket.reference}/reply/",
        {"body": f"Unlock a locked account\n{INTERNAL_URL}", "internal": "on"},
    )

    assert response.status_code == 302
    note = Message.objects.filter(ticket=ticket).latest("id")
    assert note.kind == MessageKind.INTERNAL and INTERNAL_URL in note.body_text


def test_a_public_reply_may_link_a_public_article(alpha, kb, new_ticket):
    ticket = new_ticket()

    response = _client(alpha, "agent").post(
        f"/desk/tickets/{ticket.reference}/reply/",
        {"body": f"Reset your password\n{PUBLIC_URL}"},
    )

    assert response.status_code == 302
    reply = Message.objects.filter(ticket=ticket).latest("id")
    assert reply.kind == MessageKind.PUBLIC and PUBLIC_URL in reply.body_text


# --- resolved ticket -> draft article ----------------------------------------------------


@pytest.fixture
def resolved(new_ticket, people):
    ticket = new_ticket(
        subject="Card refused for Alpha Corp Customer",
        body_text="Hello, this is Alpha Corp Customer (customer@alpha.test, +98 912 345 6789)."
        " My card 4111 1111 1111 1111 is refused at checkout.",
    )
    services.ticket_reply(
        ticket=ticket,
        author=people["agent"],
        body_text="SECRET internal thoughts",
        internal=True,
    )
    return _resolve(
        ticket,
        people["agent"],
        f"Hi Alpha, about {ticket.reference}: open Settings > Cards and press Activate.\n"
        "Regards, Alpha Corp Agent",
    )


def _drafts():
    return ArticlePage.objects.filter(live=False)


def test_resolved_ticket_becomes_a_draft_and_the_editor_lands_on_it(alpha, resolved):
    response = _client(alpha, "owner").post(f"/desk/tickets/{resolved.reference}/draft-article/")

    [article] = _drafts()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/pages/{article.pk}/edit/"
    assert _client(alpha, "owner").get(response["Location"]).status_code == 200
    assert not article.live and article.latest_revision is not None
    assert article.title == "Card refused for [name]"
    # Block values only: a block's random id may contain any digits.
    text = str([block["value"] for block in article.body.raw_data]) + article.summary
    for personal in (
        "Alpha Corp Customer",
        "customer@alpha.test",
        "912",
        "4111",
        resolved.reference,
        "Alpha Corp Agent",
        "SECRET",
    ):
        assert personal not in text
    assert "[email]" in text and "[phone]" in text and "[number]" in text
    assert "[code]" in text and "Hi [name]," in text
    assert "press Activate" in text
    assert article.locale.language_code == "en"


def test_agents_without_the_admin_get_the_draft_made_and_stay_on_the_ticket(
    alpha, resolved, people
):
    client = _client(alpha, "agent")

    response = client.post(f"/desk/tickets/{resolved.reference}/draft-article/")

    assert response.status_code == 302
    assert response["Location"] == f"/desk/tickets/{resolved.reference}/"
    [article] = _drafts()
    assert article.owner == people["agent"]
    page = client.get(response["Location"]).content.decode()
    assert "is waiting for an editor to review it" in page


def test_a_persian_customers_ticket_becomes_a_persian_draft(alpha, new_ticket, people):
    people["customer"].language = "fa"
    people["customer"].save(update_fields=["language"])
    ticket = new_ticket(subject="کارت فعال نمی‌شود", body_text="شماره من ۰۹۱۲۳۴۵۶۷۸۹ است")
    _resolve(ticket, people["agent"], "از تنظیمات کارت را فعال کنید.")

    _client(alpha, "agent").post(f"/desk/tickets/{ticket.reference}/draft-article/")

    [article] = _drafts()
    assert article.locale.language_code == "fa"
    assert "۰۹۱۲" not in str(article.body.raw_data) and "[phone]" in str(article.body.raw_data)
    index = KBIndexPage.objects.child_of(home_in("fa")).get()
    assert article.get_parent().get_parent().pk == index.pk


def test_the_draft_action_shows_on_resolved_tickets_only(alpha, resolved, new_ticket):
    open_ticket = new_ticket(subject="Still open")
    client = _client(alpha, "agent")

    resolved_page = client.get(f"/desk/tickets/{resolved.reference}/").content.decode()
    open_page = client.get(f"/desk/tickets/{open_ticket.reference}/").content.decode()

    assert f"/desk/tickets/{resolved.reference}/draft-article/" in resolved_page
    assert "draft-article/" not in open_page


def test_open_tickets_cannot_become_articles(alpha, new_ticket, people):
    ticket = new_ticket()
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="Try restarting.")

    client = _client(alpha, "agent")

    response = client.post(f"/desk/tickets/{ticket.reference}/draft-article/")

    assert response.status_code == 302
    assert not _drafts().exists()
    page = client.get(response["Location"]).content.decode()
    assert "Only resolved or closed tickets can become articles." in page


def test_a_ticket_without_a_public_answer_cannot_become_an_article(alpha, new_ticket, people):
    ticket = new_ticket()
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="note", internal=True)
    services.ticket_update(
        ticket=ticket,
        actor=people["agent"],
        status=services.status_for_stage(StatusCategory.CLOSED),
    )

    client = _client(alpha, "agent")

    response = client.post(f"/desk/tickets/{ticket.reference}/draft-article/")

    assert not _drafts().exists()
    page = client.get(response["Location"]).content.decode()
    assert "no public answer from an agent" in page


def test_only_agents_draft_articles_and_only_by_post(alpha, resolved):
    url = f"/desk/tickets/{resolved.reference}/draft-article/"

    assert _client(alpha, "customer").post(url).status_code == 403
    anonymous = alpha.client().post(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _client(alpha, "agent").get(url).status_code == 405
    assert not _drafts().exists()


def test_bravo_cannot_draft_from_alphas_tickets(alpha, bravo, resolved):
    response = _client(bravo, "owner").post(f"/desk/tickets/{resolved.reference}/draft-article/")

    assert response.status_code == 404
    with tenant_schema(bravo.schema_name):
        assert not ArticlePage.objects.filter(live=False).exists()
    with tenant_schema(alpha.schema_name):
        assert not _drafts().exists()
