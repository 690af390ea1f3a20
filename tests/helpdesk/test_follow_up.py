"""A closed request cannot take replies; its page offers a follow-up instead, as
Zendesk's does: a new request from the same person, linked to the closed one so the
team has the earlier conversation one click away."""

from urllib.parse import quote

import pytest

from helpdesk.access import guest_ticket_token
from helpdesk.models import Channel, StatusCategory, Ticket, TicketLink, TicketStatus
from helpdesk.services import tickets as services
from tenants.context import tenant_schema


@pytest.fixture
def customer_client(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]
    return client


def _close(ticket: Ticket, agent) -> Ticket:
    closed = TicketStatus.objects.get(category=StatusCategory.CLOSED, is_default=True)
    return services.ticket_update(ticket=ticket, actor=agent, status=closed)


def _form(department, **changes):
    return {
        "department": department.pk,
        "subject": "Printer on fire again",
        "urgency": 2,
        "body": "It started again this morning.",
        **changes,
    }


def test_a_customer_follows_up_a_closed_request(customer_client, new_ticket, people, general):
    old = _close(new_ticket(), people["agent"])

    page = customer_client.get(f"/tickets/{old.reference}/").content.decode()
    form = customer_client.get(f"/tickets/new/?follow_up={old.reference}").content.decode()
    sent = customer_client.post(
        "/tickets/new/", _form(general, follow_up=old.reference, subject=old.subject)
    )

    assert f"/tickets/new/?follow_up={old.reference}" in page
    assert f'data-follow-up-of="{old.reference}"' in form
    assert f'value="{old.subject}"' in form  # the subject carried over
    assert sent.status_code == 302, sent.content.decode()[:2000]
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.requester == people["customer"]
    assert TicketLink.objects.filter(from_ticket=old, to_ticket=new).exists()
    assert new.events.filter(kind="follow_up", data__other=old.reference).exists()
    assert old.events.filter(kind="followed_up", data__other=new.reference).exists()
    # The agent's page of the new request lists the closed one as related.
    agent = customer_client.__class__(HTTP_HOST=customer_client.defaults["HTTP_HOST"])
    agent.force_login(people["agent"])
    assert old.reference in agent.get(f"/desk/tickets/{new.reference}/").content.decode()


def test_a_guest_follows_up_with_the_link_of_their_closed_request(alpha, general, people):
    old = services.ticket_create(
        subject="Refund", body_text="Where is it?", department=general,
        channel=Channel.PORTAL, requester_email="guest@example.com", requester_name="Gita",
    )  # fmt: skip
    _close(old, people["agent"])
    token = guest_ticket_token(old)
    client = alpha.client()

    page = client.get(f"/t/{token}/").content.decode()
    form = client.get(f"/tickets/new/?follow_up={quote(token)}").content.decode()
    sent = client.post(
        "/tickets/new/",
        _form(general, follow_up=token, email="Guest@Example.com", name="Gita"),
    )

    assert "follow_up=" in page
    assert 'value="guest@example.com"' in form
    assert sent.status_code == 302
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert TicketLink.objects.filter(from_ticket=old, to_ticket=new).exists()


def test_a_guest_cannot_follow_up_from_another_address(alpha, general, people):
    old = services.ticket_create(
        subject="Refund", body_text="Where is it?", department=general,
        channel=Channel.PORTAL, requester_email="guest@example.com",
    )  # fmt: skip
    _close(old, people["agent"])

    sent = alpha.client().post(
        "/tickets/new/",
        _form(general, follow_up=guest_ticket_token(old), email="else@example.com", name="E"),
    )

    assert sent.status_code == 400
    assert "A follow-up comes from the person who made the request." in sent.content.decode()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("which", ["open", "someone_elses", "unknown", "tampered"])
def test_a_follow_up_of_what_is_not_ones_closed_request_is_refused_and_nothing_saved(
    customer_client, new_ticket, people, general, which
):
    own = new_ticket()
    theirs = _close(new_ticket(requester=people["other_customer"]), people["agent"])
    value = {
        "open": own.reference,  # still open: reply on it instead
        "someone_elses": theirs.reference,
        "unknown": "ZZZZ99999",
        "tampered": guest_ticket_token(theirs)[:-2] + "xx",
    }[which]

    form = customer_client.get(f"/tickets/new/?follow_up={quote(value)}").content.decode()
    sent = customer_client.post("/tickets/new/", _form(general, follow_up=value))

    assert "data-follow-up-of" not in form  # offered as a plain new request
    assert sent.status_code == 400
    page = sent.content.decode()
    assert "still open" in page if which == "open" else "cannot be followed up from here" in page
    assert Ticket.objects.count() == 2 and not TicketLink.objects.exists()


def test_an_organisation_manager_is_not_offered_a_colleagues_follow_up(
    alpha, new_ticket, people, general
):
    from helpdesk.models import CustomerProfile, Organisation

    acme = Organisation.objects.create(name="Acme")
    CustomerProfile.objects.filter(user=people["customer"]).update(
        organisation=acme, sees_organisation_tickets=True
    )
    CustomerProfile.objects.filter(user=people["other_customer"]).update(organisation=acme)
    colleague = _close(
        new_ticket(requester=people["other_customer"]), people["agent"]
    )  # their organisation's
    manager = alpha.client()
    manager.cookies["sessionid"] = alpha.sessions["customer"]

    page = manager.get(f"/tickets/{colleague.reference}/")

    assert page.status_code == 200  # they read it ...
    assert "data-follow-up" not in page.content.decode()  # ... but it is not theirs to continue


def test_a_reference_of_tenant_a_follows_up_nothing_on_tenant_b(
    alpha, bravo, new_ticket, people, general
):
    old = _close(new_ticket(), people["agent"])
    with tenant_schema(bravo.schema_name):
        from helpdesk.models import Department

        bravo_general = Department.objects.get(slug="general")
    client = bravo.client()
    client.cookies["sessionid"] = bravo.sessions["customer"]

    sent = client.post("/tickets/new/", _form(bravo_general, follow_up=old.reference))

    assert sent.status_code == 400
    with tenant_schema(bravo.schema_name):
        assert not Ticket.objects.exists() and not TicketLink.objects.exists()


def test_a_signed_in_person_follows_up_with_an_old_guest_link(alpha, general, people):
    # They asked as a guest, then made an account: the older email's link still works.
    old = services.ticket_create(
        subject="Refund", body_text="Where is it?", department=general,
        channel=Channel.PORTAL, requester_email="customer@alpha.test",
    )  # fmt: skip
    _close(old, people["agent"])
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]
    token = guest_ticket_token(old)

    form = client.get(f"/tickets/new/?follow_up={quote(token)}").content.decode()
    # The form posts to its page's address: the query string comes along, the hidden
    # field decides.
    sent = client.post(f"/tickets/new/?follow_up={quote(token)}", _form(general, follow_up=token))

    assert f'data-follow-up-of="{old.reference}"' in form
    assert sent.status_code == 302, sent.content.decode()[:2000]
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.requester == people["customer"]
    assert TicketLink.objects.filter(from_ticket=old, to_ticket=new).exists()


def test_a_refused_follow_up_link_still_lets_the_plain_request_be_sent(
    customer_client, new_ticket, general
):
    still_open = new_ticket()
    url = f"/tickets/new/?follow_up={still_open.reference}"

    form = customer_client.get(url).content.decode()
    sent = customer_client.post(url, _form(general))  # the plain form has no follow-up

    assert "data-follow-up-of" not in form
    assert sent.status_code == 302
    assert not TicketLink.objects.exists()


def test_a_merged_request_offers_no_follow_up(customer_client, new_ticket, people, general):
    duplicate, target = new_ticket(), new_ticket(subject="Target")
    services.ticket_merge(source=duplicate, target=target, actor=people["agent"])

    page = customer_client.get(f"/tickets/{duplicate.reference}/").content.decode()
    sent = customer_client.post("/tickets/new/", _form(general, follow_up=duplicate.reference))

    assert "data-follow-up" not in page
    assert sent.status_code == 400
    assert "merged into another" in sent.content.decode()


def test_a_long_guest_address_still_gets_a_working_follow_up_link(alpha, general, people):
    address = "g@" + "ب" * 40 + ".example"
    old = services.ticket_create(
        subject="Refund", body_text="Where is it?", department=general,
        channel=Channel.PORTAL, requester_email=address,
    )  # fmt: skip
    _close(old, people["agent"])
    token = guest_ticket_token(old)
    assert len(token) > 400

    sent = alpha.client().post(
        "/tickets/new/", _form(general, follow_up=token, email=address, name="G")
    )

    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert TicketLink.objects.count() == 1


def test_a_guest_links_follow_up_of_an_accounts_request_is_the_accounts(alpha, general, people):
    # Asked as a guest, then made an account (the request became theirs); the follow-up
    # sent from the old link while signed out lands in the account too.
    old = services.ticket_create(
        subject="Refund", body_text="Where is it?", department=general,
        channel=Channel.PORTAL, requester_email="customer@alpha.test",
    )  # fmt: skip
    Ticket.objects.filter(pk=old.pk).update(requester=people["customer"])
    old.refresh_from_db()
    _close(old, people["agent"])

    sent = alpha.client().post(
        "/tickets/new/",
        _form(general, follow_up=guest_ticket_token(old), email="Customer@alpha.test", name="C"),
    )

    assert sent.status_code == 302, sent.content.decode()[:2000]
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.requester == people["customer"]
    # Without a follow-up, a guest's address never makes a request an account's.
    alpha.client().post(
        "/tickets/new/", _form(general, email="customer@alpha.test", name="C", subject="Plain")
    )
    assert Ticket.objects.get(subject="Plain").requester is None
