"""Desk and portal actions refuse what they do not understand: unknown customer actions,
ids that name nobody, malformed ids; the queue's category and organisation filters;
renaming and deleting saved views."""

import re

import pytest

from accounts.models import User
from helpdesk.access import guest_ticket_token
from helpdesk.models import (
    Category,
    CustomerProfile,
    Department,
    Organisation,
    SavedView,
    StatusCategory,
    Ticket,
)
from helpdesk.services import tickets as services
from tenants.context import tenant_schema

MALFORMED_IDS = ["abc", "999999999999999999999", "-1", "1.5", "²", "①", "٣"]


def _client(tenant, role, **kwargs):
    client = tenant.client(**kwargs)
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


def _references(response) -> set[str]:
    return set(re.findall(r'data-reference="([0-9A-Z-]+)"', response.content.decode()))


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# Portal: resolve and reopen only.


def test_a_customer_action_other_than_resolve_or_reopen_answers_404_and_changes_nothing(
    alpha, new_ticket, people
):
    ticket = new_ticket()
    services.ticket_customer_resolve(ticket=ticket, actor=people["customer"])
    client = _client(alpha, "customer")

    unknown = [
        client.post(f"/tickets/{ticket.reference}/{action}/")
        for action in ("foo", "REOPEN", "reopen.", "delete")
    ]

    assert [response.status_code for response in unknown] == [404, 404, 404, 404]
    assert _fresh(ticket).stage == StatusCategory.RESOLVED
    # The one word that does reopen still does.
    assert client.post(f"/tickets/{ticket.reference}/reopen/").status_code == 302
    assert _fresh(ticket).stage == StatusCategory.OPEN


def test_a_guests_unknown_action_answers_404_and_changes_nothing(alpha, new_ticket):
    ticket = new_ticket(requester=None, requester_email="guest@example.com")
    services.ticket_customer_resolve(ticket=ticket, actor=None)
    base = f"/t/{guest_ticket_token(ticket)}/"
    client = alpha.client()

    unknown = client.post(base + "foo/")

    assert unknown.status_code == 404
    assert _fresh(ticket).stage == StatusCategory.RESOLVED
    assert client.post(base + "reopen/").status_code == 302
    assert _fresh(ticket).stage == StatusCategory.OPEN


def test_the_new_ticket_page_ignores_a_department_that_is_not_a_number(alpha):
    client = alpha.client()

    for value in MALFORMED_IDS:
        assert client.get(f"/tickets/new/?department={value}").status_code == 200


# Desk: assign.


@pytest.mark.parametrize("assignee", ["999999", "customer", "inactive_agent", *MALFORMED_IDS])
def test_bulk_assign_to_someone_who_is_not_an_agent_is_refused_and_changes_nothing(
    alpha, new_ticket, people, assignee
):
    tickets = [new_ticket(subject=f"Bulk {i}") for i in range(2)]
    for ticket in tickets:
        services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["agent"])
    if assignee == "customer":
        assignee = people["customer"].pk
    elif assignee == "inactive_agent":
        assignee = people["billing_agent"].pk
        User.objects.filter(pk=assignee).update(is_active=False)

    response = _client(alpha, "agent").post(
        "/desk/bulk/",
        {"action": "assign", "assignee": assignee, "tickets": [t.reference for t in tickets]},
        follow=True,
    )

    assert "Choose an agent from the list, or “Nobody” to unassign." in response.content.decode()
    assert [_fresh(t).assignee_id for t in tickets] == [people["agent"].pk] * 2


def test_bulk_assign_to_nobody_unassigns_and_a_missing_choice_is_refused(alpha, new_ticket, people):
    ticket = new_ticket()
    services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["agent"])
    client = _client(alpha, "agent")

    client.post("/desk/bulk/", {"action": "assign", "tickets": [ticket.reference]})
    still = _fresh(ticket).assignee_id
    client.post("/desk/bulk/", {"action": "assign", "assignee": "", "tickets": [ticket.reference]})

    assert still == people["agent"].pk
    assert _fresh(ticket).assignee_id is None


@pytest.mark.parametrize("assignee", ["999999", "customer", *MALFORMED_IDS])
def test_assigning_one_ticket_to_someone_who_is_not_an_agent_is_refused(
    alpha, new_ticket, people, assignee
):
    ticket = new_ticket()
    services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["agent"])
    if assignee == "customer":
        assignee = people["customer"].pk

    response = _client(alpha, "agent").post(
        f"/desk/tickets/{ticket.reference}/assign/", {"assignee": assignee}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/desk/tickets/{ticket.reference}/"
    assert _fresh(ticket).assignee_id == people["agent"].pk


# Desk: the other actions.


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("assign", {"assignee": "abc"}),
        ("transfer", {"department": "abc"}),
        ("merge", {"target": "nope"}),
        ("link", {"other": "nope"}),
        ("master", {"master": "nope"}),
        ("escalate", {}),
    ],
)
def test_an_action_on_an_unknown_ticket_answers_404_whatever_was_posted(
    alpha, new_ticket, billing, action, data
):
    hidden = new_ticket(department=billing)  # not the agent's department
    client = _client(alpha, "agent")

    unknown = client.post(f"/desk/tickets/ZZZZ-ZZZZ/{action}/", data)
    not_theirs = client.post(f"/desk/tickets/{hidden.reference}/{action}/", data)

    assert unknown.status_code == not_theirs.status_code == 404


@pytest.mark.parametrize("value", MALFORMED_IDS)
def test_malformed_ids_are_refused_never_a_server_error(alpha, new_ticket, people, value):
    ticket = new_ticket()
    client = _client(alpha, "agent")
    base = f"/desk/tickets/{ticket.reference}/"
    refs = [ticket.reference]

    responses = [
        client.post(base + "assign/", {"assignee": value}),
        client.post(base + "transfer/", {"department": value}),
        client.post("/desk/bulk/", {"action": "status", "status": value, "tickets": refs}),
        client.post("/desk/bulk/", {"action": "priority", "priority": value, "tickets": refs}),
        client.post("/desk/bulk/", {"action": "assign", "assignee": value, "tickets": refs}),
        client.post("/desk/bulk/", {"action": "close", "tickets": [value]}),
    ]
    queue = client.get(
        f"/desk/?category={value}&organisation={value}&department={value}&priority={value}"
    )

    assert [r.status_code for r in responses] == [302] * len(responses)
    assert queue.status_code == 200
    fresh = _fresh(ticket)
    assert (fresh.assignee_id, fresh.department_id, fresh.stage, fresh.priority) == (
        None,
        ticket.department_id,
        ticket.stage,
        ticket.priority,
    )


def test_a_bulk_action_with_an_unknown_or_hidden_ticket_changes_none_of_them(
    alpha, new_ticket, billing
):
    mine = [new_ticket(subject=f"Mine {i}") for i in range(2)]
    hidden = new_ticket(subject="Billing", department=billing)
    client = _client(alpha, "agent")
    refs = [t.reference for t in mine]

    batches = [refs + ["ZZZZ-ZZZZ"], refs + ["not a code"], refs + [hidden.reference]]
    pages = [
        client.post("/desk/bulk/", {"action": "close", "tickets": batch}, follow=True)
        for batch in batches
    ]

    assert all("Nothing was changed" in page.content.decode() for page in pages)
    assert {_fresh(t).stage for t in [*mine, hidden]} == {StatusCategory.NEW}
    client.post("/desk/bulk/", {"action": "close", "tickets": refs})
    assert {_fresh(t).stage for t in mine} == {StatusCategory.CLOSED}


def test_bulk_merge_needs_two_tickets(alpha, new_ticket):
    ticket = new_ticket()

    page = _client(alpha, "agent").post(
        "/desk/bulk/", {"action": "merge", "tickets": [ticket.reference]}, follow=True
    )

    assert "Choose at least two tickets to merge." in page.content.decode()
    assert "1 ticket updated." not in page.content.decode()


# Desk: category and organisation filters.


@pytest.fixture
def acme(people):
    acme = Organisation.objects.create(name="Acme & Sons")
    CustomerProfile.objects.update_or_create(
        user=people["customer"], defaults={"organisation": acme}
    )
    return acme


def test_the_queue_filters_by_category_through_the_page(alpha, new_ticket, general, billing):
    printers = Category.objects.create(department=general, name="Printers")
    Category.objects.create(department=general, name="Laptops")
    invoices = Category.objects.create(department=billing, name="Invoices")
    printer = new_ticket(subject="Jam", category=printers)
    new_ticket(subject="No category")
    client = _client(alpha, "agent")

    page = client.get(f"/desk/?queue=open&category={printers.pk}")
    html = page.content.decode()

    assert _references(page) == {printer.reference}
    assert '<select name="category" aria-label="Category">' in html
    assert f'<optgroup label="{general.name}">' in html
    assert f'<option value="{printers.pk}" selected>Printers</option>' in html
    # Only the agent's departments' categories: billing's is offered to a manager only.
    assert "Invoices" not in html
    manager_page = _client(alpha, "manager").get("/desk/").content.decode()
    assert '<optgroup label="Billing">' in manager_page
    assert f'<option value="{invoices.pk}">Invoices</option>' in manager_page


def test_the_queue_filters_by_organisation_through_the_page(alpha, new_ticket, people, acme):
    theirs = new_ticket(subject="From Acme")
    new_ticket(subject="From someone else", requester=people["other_customer"])
    client = _client(alpha, "agent")

    page = client.get(f"/desk/?queue=open&organisation={acme.pk}")
    html = page.content.decode()

    assert theirs.organisation_id == acme.pk
    assert _references(page) == {theirs.reference}
    assert '<select name="organisation" aria-label="Organisation">' in html
    assert f'<option value="{acme.pk}" selected>Acme &amp; Sons</option>' in html


def test_another_tenants_organisation_or_category_filters_nothing_here(
    alpha, bravo, new_ticket, general, acme
):
    printers = Category.objects.create(department=general, name="Printers")
    ticket = new_ticket(category=printers)
    assert ticket.organisation_id == acme.pk
    with tenant_schema(bravo.schema_name):
        # Each schema counts its own ids: take ids that name nothing in alpha.
        theirs_org = Organisation.objects.create(name="Bravo Org Secret")
        if theirs_org.pk == acme.pk:
            theirs_org = Organisation.objects.create(name="Bravo Org Secret")
        bravo_general = Department.objects.get(slug="general")
        theirs_cat = Category.objects.create(department=bravo_general, name="Bravo Cat Secret")
        if theirs_cat.pk == printers.pk:
            theirs_cat = Category.objects.create(department=bravo_general, name="Bravo Cat Secret")
    assert not Organisation.objects.filter(pk=theirs_org.pk).exists()
    assert not Category.objects.filter(pk=theirs_cat.pk).exists()
    client = _client(alpha, "manager")

    by_org = client.get(f"/desk/?queue=all&organisation={theirs_org.pk}")
    by_cat = client.get(f"/desk/?queue=all&category={theirs_cat.pk}")

    assert _references(client.get("/desk/?queue=all")) == {ticket.reference}
    assert _references(by_org) == _references(by_cat) == set()
    for page in (by_org, by_cat):
        assert "Bravo Org Secret" not in page.content.decode()
        assert "Bravo Cat Secret" not in page.content.decode()
    assert "An organisation not on this list" in by_org.content.decode()
    assert "A category not on this list" in by_cat.content.decode()


# Desk: saved views.


def _view_of(tenant, role, name="Mine", query="queue=mine"):
    return SavedView.objects.create(owner_id=tenant.users[role], name=name, query=query)


def test_an_agent_renames_and_deletes_their_saved_view_from_the_queue(alpha, in_alpha):
    client = _client(alpha, "agent")
    client.post("/desk/views/", {"name": "VPN", "query": "queue=open&tag=vpn"})
    view = SavedView.objects.get(owner_id=alpha.users["agent"])
    page = client.get("/desk/").content.decode()

    renamed = client.post(f"/desk/views/{view.pk}/rename/", {"name": "  VPN, all  "})
    view.refresh_from_db()
    deleted = client.post(f"/desk/views/{view.pk}/delete/")

    assert f'action="/desk/views/{view.pk}/rename/"' in page
    assert f'action="/desk/views/{view.pk}/delete/"' in page
    assert renamed.status_code == deleted.status_code == 302
    assert view.name == "VPN, all"
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_renaming_a_saved_view_to_nothing_is_refused(alpha, in_alpha):
    view = _view_of(alpha, "agent")

    page = _client(alpha, "agent").post(
        f"/desk/views/{view.pk}/rename/", {"name": "   "}, follow=True
    )

    view.refresh_from_db()
    assert view.name == "Mine"
    assert "Give the view a name." in page.content.decode()


def test_someone_elses_saved_view_answers_404_and_stays(alpha, in_alpha):
    theirs = _view_of(alpha, "billing_agent", name="Theirs")
    client = _client(alpha, "agent")

    rename = client.post(f"/desk/views/{theirs.pk}/rename/", {"name": "Mine now"})
    delete = client.post(f"/desk/views/{theirs.pk}/delete/")

    theirs.refresh_from_db()
    assert rename.status_code == delete.status_code == 404
    assert theirs.name == "Theirs"


def test_another_tenants_saved_view_id_answers_404_and_stays(alpha, in_alpha, bravo):
    with tenant_schema(bravo.schema_name):
        theirs = _view_of(bravo, "agent", name="Bravo view")
    assert not SavedView.objects.filter(pk=theirs.pk).exists()
    client = _client(alpha, "agent")

    rename = client.post(f"/desk/views/{theirs.pk}/rename/", {"name": "Hijacked"})
    delete = client.post(f"/desk/views/{theirs.pk}/delete/")

    assert rename.status_code == delete.status_code == 404
    with tenant_schema(bravo.schema_name):
        assert SavedView.objects.get(pk=theirs.pk).name == "Bravo view"


def test_saved_view_changes_need_post_csrf_an_agent_and_a_real_id(alpha, in_alpha):
    view = _view_of(alpha, "agent")
    strict = _client(alpha, "agent", enforce_csrf_checks=True)
    agent = _client(alpha, "agent")

    assert strict.post(f"/desk/views/{view.pk}/delete/").status_code == 403
    assert agent.get(f"/desk/views/{view.pk}/delete/").status_code == 405
    assert _client(alpha, "customer").post(f"/desk/views/{view.pk}/delete/").status_code == 403
    assert agent.post("/desk/views/999999999999999999999/delete/").status_code == 404
    assert agent.post("/desk/views/abc/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_a_saved_view_keeps_only_the_queues_filters(alpha, in_alpha):
    client = _client(alpha, "agent")

    response = client.post(
        "/desk/views/",
        {"name": "Odd", "query": "queue=open&tag=vpn&cursor=abc&evil=1&q=a b\r\nSet-Cookie: x=1"},
    )

    view = SavedView.objects.get(owner_id=alpha.users["agent"], name="Odd")
    assert view.query == "queue=open&tag=vpn&q=a+b%0D%0ASet-Cookie%3A+x%3D1"
    assert response.status_code == 302 and response["Location"] == f"/desk/?{view.query}"
