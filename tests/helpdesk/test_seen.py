"""The queue marks tickets an agent has not opened since they last changed."""

from __future__ import annotations

import re

from django.db import connection

from helpdesk.models import Ticket, TicketSeen
from helpdesk.services import tickets as services
from tenants.context import tenant_schema


def _client(tenant, role):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


def _unseen(response) -> set[str]:
    html = response.content.decode()
    rows = re.findall(r'<tr data-reference="([0-9A-Z-]+)"[^>]* class="([^"]*)"', html)
    return {reference for reference, classes in rows if "unseen" in classes.split()}


def test_a_ticket_is_marked_until_opened_and_again_after_someone_else_changes_it(
    alpha, new_ticket, people
):
    ticket, other = new_ticket(subject="Marked"), new_ticket(subject="Also new")
    agent = _client(alpha, "agent")

    first = agent.get("/desk/")
    assert _unseen(first) == {ticket.reference, other.reference}
    assert "Changed since you last opened it" in first.content.decode()

    agent.get(f"/desk/tickets/{ticket.reference}/")
    assert _unseen(agent.get("/desk/")) == {other.reference}

    services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk),
        author=people["customer"],
        body_text="Any news?",
    )
    assert _unseen(agent.get("/desk/")) == {ticket.reference, other.reference}


def test_each_agent_has_their_own_marks(alpha, new_ticket):
    ticket = new_ticket()
    _client(alpha, "agent").get(f"/desk/tickets/{ticket.reference}/")

    assert _unseen(_client(alpha, "agent").get("/desk/")) == set()
    assert ticket.reference in _unseen(_client(alpha, "manager").get("/desk/"))


def test_an_agents_own_bulk_change_is_not_news_to_them(alpha, new_ticket, people):
    tickets = [new_ticket(subject=f"Bulk {i}") for i in range(2)]
    agent = _client(alpha, "agent")

    agent.post(
        "/desk/bulk/",
        {"action": "priority", "priority": 4, "tickets": [t.reference for t in tickets]},
    )

    assert _unseen(agent.get("/desk/")) == set()
    assert {t.reference for t in tickets} <= _unseen(_client(alpha, "manager").get("/desk/"))


def test_opening_a_ticket_one_cannot_see_marks_nothing(alpha, new_ticket, billing):
    hidden = new_ticket(subject="Billing only", department=billing)

    assert _client(alpha, "agent").get(f"/desk/tickets/{hidden.reference}/").status_code == 404
    assert not TicketSeen.objects.filter(ticket=hidden).exists()


def test_marks_stay_in_their_tenant(alpha, bravo, new_ticket, people):
    from accounts.models import User
    from helpdesk.models import Channel, Department

    ticket = new_ticket()
    _client(alpha, "agent").get(f"/desk/tickets/{ticket.reference}/")
    with tenant_schema(bravo.schema_name):
        bravo_ticket = services.ticket_create(
            subject="Bravo ticket",
            body_text="Hello",
            department=Department.objects.get(slug="general"),
            channel=Channel.PORTAL,
            requester=User.objects.get(pk=bravo.users["customer"]),
        )
        assert not TicketSeen.objects.exists()
    assert connection.schema_name == alpha.schema_name

    assert bravo_ticket.reference in _unseen(_client(bravo, "agent").get("/desk/"))
    assert _unseen(_client(alpha, "agent").get("/desk/")) == set()


def test_the_mark_is_explained_in_the_agents_language(alpha, new_ticket):
    from django.conf import settings

    new_ticket()
    agent = _client(alpha, "agent")
    agent.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"

    html = agent.get("/desk/").content.decode()

    assert 'dir="rtl"' in html
    assert "از آخرین باری که بازش کردید تغییر کرده است" in html


def test_a_change_after_the_read_keeps_its_mark_and_marks_never_move_back(
    alpha, new_ticket, people
):
    from helpdesk import selectors

    agent = people["agent"]
    as_read = Ticket.objects.get(pk=new_ticket().pk)  # what the agent's page showed
    services.ticket_reply(ticket=as_read, author=people["customer"], body_text="One more thing")
    latest = Ticket.objects.get(pk=as_read.pk)
    assert latest.updated_at > as_read.updated_at

    services.tickets_mark_seen(user=agent, tickets=[as_read])
    assert selectors.tickets_unseen(user=agent, tickets=[latest]) == {latest.pk}

    services.tickets_mark_seen(user=agent, tickets=[latest])
    services.tickets_mark_seen(user=agent, tickets=[as_read])  # an older read, later
    assert selectors.tickets_unseen(user=agent, tickets=[latest]) == set()
