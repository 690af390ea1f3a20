"""REST API v1 after review: customers see what the portal shows them and search only what
they can read; custom fields are checked; a rejected change changes nothing."""

import json
from urllib.parse import quote

import pytest
from django.utils import translation

from helpdesk import selectors
from helpdesk.models import (
    Category,
    CustomField,
    Department,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from helpdesk.services import tickets as services
from tenants.context import tenant_schema


def _found(api, query: str, role: str = "customer", **kwargs) -> list[str]:
    response = api("get", f"/tickets?q={quote(query)}", role=role, **kwargs)
    assert response.status_code == 200, response.content
    return [t["reference"] for t in response.json()["items"]]


NEW = {
    "subject": "Order never arrived",
    "body": "The parcel is lost.",
    "department": "general",
    "requester_email": "buyer@shop.example",
}


# --- 1. search: a customer matches only what they can read -------------------------------


def test_a_customers_search_never_matches_an_internal_note(api, new_ticket, people):
    ticket = new_ticket(subject="Card declined", body_text="My card was declined twice.")
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="suspected fraud", internal=True
    )
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="Your refund is on its way."
    )

    assert _found(api, "fraud") == []
    assert _found(api, "suspected") == []
    assert _found(api, "refund") == [ticket.reference]  # a public reply
    assert _found(api, "declined") == [ticket.reference]  # subject and first message
    assert _found(api, ticket.reference.lower()) == [ticket.reference]  # the tracking code
    # Agents keep the desk's search, notes included.
    assert _found(api, "fraud", role="agent") == [ticket.reference]


def test_a_customers_search_folds_persian_and_arabic_as_the_desks_does(api, new_ticket, people):
    ticket = new_ticket(subject="مشکل چاپگر", body_text="چاپگر کار نمی‌کند")
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="سفارش ۱۲۳۴ ارسال شد")
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="مشتری مشکوک", internal=True
    )

    # Typed on an Arabic keyboard (ك, ي), with Arabic-Indic and Latin digits.
    assert _found(api, "مشكل") == [ticket.reference]
    assert _found(api, "نميكند") == [ticket.reference]
    assert _found(api, "١٢٣٤") == [ticket.reference]
    assert _found(api, "1234") == [ticket.reference]
    assert _found(api, "مشكوك") == []  # only in the internal note
    assert _found(api, "مشكوك", role="agent") == [ticket.reference]


def test_a_customers_search_keeps_to_their_own_tickets(api, new_ticket, people):
    mine = new_ticket(subject="Lamp flickers")
    theirs = new_ticket(subject="Lamp broken", requester=people["other_customer"])

    assert _found(api, "lamp") == [mine.reference]
    assert _found(api, "lamp", role="other_customer") == [theirs.reference]
    assert set(_found(api, "lamp", role="manager")) == {mine.reference, theirs.reference}


def test_a_customers_search_in_tenant_b_finds_nothing_of_tenant_a(api, alpha, bravo, people):
    # The same address is a customer in both tenants: two people, two sets of tickets.
    services.ticket_create(
        subject="Bluebird codeword", body_text="bluebird", department=Department.objects.get(
            slug="general"
        ), channel="portal", requester=people["shared"],
    )  # fmt: skip

    assert len(_found(api, "bluebird", role="shared")) == 1
    assert _found(api, "bluebird", role="shared", tenant=bravo) == []


# --- 2. what a customer sees of a ticket --------------------------------------------------


@pytest.fixture
def fields(general):
    return {
        "order_no": CustomField.objects.create(
            department=general, key="order_no", label="Order number", field_type="text"
        ),
        "risk": CustomField.objects.create(
            department=general,
            key="risk",
            label="Risk",
            field_type="choice",
            choices="low\nhigh",
            customer_visible=False,
        ),  # fmt: skip
    }


def _desk_only_data_hidden(ticket: dict, *, label: str) -> None:
    assert ticket["status_label"] == label
    assert ticket["custom_fields"] == {"order_no": "A-1"}
    assert ticket["assignee"] is None
    assert ticket["tags"] is None and ticket["tier"] is None and ticket["priority"] is None


def test_customers_get_the_portals_view_of_a_ticket(api, new_ticket, people, fields):
    ticket = new_ticket(custom_fields={"order_no": "A-1", "risk": "high"})
    services.ticket_update(
        ticket=ticket, actor=people["agent"], tags=["vip-watch"],
        status=TicketStatus.objects.get(key="waiting-customer"),
    )  # fmt: skip
    services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["agent"])

    listed = api("get", "/tickets", role="customer")
    detail = api("get", f"/tickets/{ticket.reference}", role="customer")
    patched = api("patch", f"/tickets/{ticket.reference}", role="customer", body={"tags": ["x"]})
    as_agent = api("get", f"/tickets/{ticket.reference}")

    [item] = listed.json()["items"]
    _desk_only_data_hidden(item, label="Awaiting your reply")
    _desk_only_data_hidden(detail.json(), label="Awaiting your reply")
    for text in ("vip-watch", "agent@alpha.test", "high", "risk"):
        assert text not in listed.content.decode() + detail.content.decode()
    assert patched.status_code == 403 and "reference" not in patched.content.decode()
    agent_view = as_agent.json()
    assert agent_view["status_label"] == "Waiting on customer"
    assert agent_view["custom_fields"] == {"order_no": "A-1", "risk": "high"}
    assert agent_view["assignee"]["email"] == "agent@alpha.test"
    assert (agent_view["tags"], agent_view["tier"]) == (["vip-watch"], 1)


def test_a_customers_create_answers_with_the_portals_view(api, fields):
    created = api(
        "post", "/tickets", role="customer",
        body={**NEW, "requester_email": None, "custom_fields": {"order_no": "A-1"}},
    )  # fmt: skip

    assert created.status_code == 201, created.content
    _desk_only_data_hidden(created.json(), label="Received")


def test_an_agents_patch_answers_with_the_desks_view(api, new_ticket, people):
    ticket = new_ticket()

    patched = api("patch", f"/tickets/{ticket.reference}", body={"tags": ["shop"]})

    assert patched.status_code == 200, patched.content
    assert (patched.json()["tags"], patched.json()["status_label"]) == (["shop"], "New")


def test_the_openapi_document_says_which_fields_customers_get_as_null(alpha):
    document = alpha.client().get("/api/v1/openapi.json")

    assert document.status_code == 200
    ticket = document.json()["components"]["schemas"]["TicketOut"]["properties"]
    for name in ("priority", "tier", "assignee", "tags"):
        assert {"type": "null"} in ticket[name]["anyOf"], name


def test_a_customers_list_reads_what_it_shows_with_the_rows(api, new_ticket, fields):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    new_ticket(custom_fields={"order_no": "A-1"})
    api("get", "/tickets", role="customer")  # the site and brand, cached once
    with CaptureQueriesContext(connection) as one:
        api("get", "/tickets", role="customer")
    for _ in range(3):
        new_ticket(custom_fields={"order_no": "A-1"})
    with CaptureQueriesContext(connection) as four:
        listed = api("get", "/tickets", role="customer")

    assert len(listed.json()["items"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


# --- 3. custom fields are checked against the department's definitions --------------------


@pytest.fixture
def typed_fields(general):
    make = CustomField.objects.create
    return [
        make(department=general, key="order", label="Order", field_type="number", required=True),
        make(
            department=general, key="plan", label="Plan", field_type="choice", choices="Free\nPro"
        ),
        make(department=general, key="due", label="Due", field_type="date"),
        make(department=general, key="urgent", label="Urgent", field_type="checkbox"),
        make(department=general, key="note", label="Note", field_type="text"),
        make(
            department=general, key="cost_centre", label="Cost centre", field_type="text",
            customer_visible=False,
        ),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"plan": "Pro"}, "order"),  # required, missing
        ({"order": "", "plan": "Pro"}, "order"),  # required, empty
        ({"order": "twelve"}, "order"),
        ({"order": True}, "order"),
        ({"order": 1, "plan": "Gold"}, "plan"),
        ({"order": 1, "due": "31/12/2026"}, "due"),
        ({"order": 1, "due": 20261231}, "due"),
        ({"order": 1, "urgent": "yes"}, "urgent"),
        ({"order": 1, "note": True}, "note"),
        ({"order": 1, "note": "x" * 501}, "note"),
        ({"order": 1, "colour": "red"}, "colour"),  # no such field
    ],
)
def test_custom_fields_are_checked_before_anything_is_written(api, typed_fields, values, field):
    before = Ticket.objects.count()

    response = api("post", "/tickets", body={**NEW, "custom_fields": values})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == [f"custom_fields.{field}"]
    assert Ticket.objects.count() == before


def test_valid_custom_fields_are_stored_as_the_portal_stores_them(api, typed_fields):
    values = {"order": 12.5, "plan": "Pro", "due": "2026-12-31", "urgent": True, "note": " hi "}

    response = api(
        "post", "/tickets", body={**NEW, "custom_fields": {**values, "cost_centre": "CC-7"}}
    )

    assert response.status_code == 201, response.content
    stored = Ticket.objects.get(reference=response.json()["reference"]).custom_fields
    assert stored == {
        "order": "12.5", "plan": "Pro", "due": "2026-12-31", "urgent": True, "note": "hi",
        "cost_centre": "CC-7",
    }  # fmt: skip


def test_a_customer_may_not_set_a_staff_only_field(api, typed_fields):
    before = Ticket.objects.count()

    refused = api(
        "post", "/tickets", role="customer",
        body={**NEW, "requester_email": None, "custom_fields": {"order": 1, "cost_centre": "X"}},
    )  # fmt: skip
    allowed = api(
        "post", "/tickets", role="customer",
        body={**NEW, "requester_email": None, "custom_fields": {"order": 1}},
    )  # fmt: skip

    assert refused.status_code == 400
    # Worded as for a field that does not exist: a customer learns nothing of staff fields.
    assert refused.json()["error"]["fields"] == {
        "custom_fields.cost_centre": ["No such field in this department."]
    }
    assert allowed.status_code == 201
    assert Ticket.objects.count() == before + 1


def test_a_batch_checks_every_items_custom_fields(api, typed_fields):
    items = [{**NEW, "custom_fields": {"order": i}} for i in range(3)]
    items[1] = {**NEW, "custom_fields": {"plan": "Gold"}}
    before = Ticket.objects.count()

    response = api("post", "/tickets/batch", role="manager", body={"tickets": items})

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {
        "tickets.1.custom_fields.order": ["This field is required."],
        "tickets.1.custom_fields.plan": [
            "Select a valid choice. Gold is not one of the available choices."
        ],
    }
    assert Ticket.objects.count() == before


def test_tenant_bs_fields_are_its_own(api, bravo, typed_fields):
    # Alpha's "order" field means nothing in bravo, whose general department has none.
    response = api(
        "post", "/tickets", role="manager", tenant=bravo,
        body={**NEW, "custom_fields": {"order": 1}},
    )  # fmt: skip

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["custom_fields.order"]
    with tenant_schema(bravo.schema_name):
        assert not Ticket.objects.filter(subject=NEW["subject"]).exists()


# --- 4. PATCH: all or nothing --------------------------------------------------------------


def _state(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.status_id, ticket.priority, ticket.category_id, ticket.tags,
        ticket.assignee_id, ticket.department_id, TicketEvent.objects.filter(ticket=ticket).count(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"status": "resolved", "assignee": 999999}, {"assignee"}),
        ({"status": "resolved", "assignee": "customer"}, {"assignee"}),
        ({"status": "resolved", "assignee": "billing_agent"}, {"assignee"}),
        ({"priority": "critical", "status": "no-such-status"}, {"status"}),
        ({"tags": ["x"], "category": "billing"}, {"category"}),
        ({"status": "resolved", "department": "no-such-department"}, {"department"}),
        (
            {"status": "nope", "category": 999999, "assignee": 999999},
            {"status", "category", "assignee"},
        ),
    ],
)
def test_a_rejected_patch_changes_nothing(api, new_ticket, people, billing, body, fields):
    ticket = new_ticket()
    if body.get("assignee") in people:
        body = {**body, "assignee": people[body["assignee"]].pk}
    if body.get("category") == "billing":
        body = {**body, "category": Category.objects.create(department=billing, name="Refund").pk}
    before = _state(ticket)

    response = api("patch", f"/tickets/{ticket.reference}", body=body)

    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == fields
    assert _state(ticket) == before


def test_a_patch_whose_last_step_fails_leaves_the_earlier_ones_undone(
    api, new_ticket, people, monkeypatch
):
    from django.core.exceptions import ValidationError

    ticket = new_ticket()
    before = _state(ticket)

    def fail(**kwargs):
        raise ValidationError("the assignment failed")

    monkeypatch.setattr(services, "ticket_assign", fail)
    response = api(
        "patch", f"/tickets/{ticket.reference}",
        body={"status": "resolved", "tags": ["a"], "assignee": people["agent"].pk},
    )  # fmt: skip

    assert response.status_code == 400
    assert _state(ticket) == before


def test_a_transfer_with_an_assignee_and_category_of_the_new_department(
    api, new_ticket, people, billing
):
    ticket = new_ticket()
    refunds = Category.objects.create(department=billing, name="Refund")

    response = api(
        "patch", f"/tickets/{ticket.reference}", role="manager",
        body={"department": "billing", "assignee": people["billing_agent"].pk,
              "category": refunds.pk, "status": "open"},
    )  # fmt: skip

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.department_id, ticket.assignee_id, ticket.category_id, ticket.stage) == (
        billing.pk, people["billing_agent"].pk, refunds.pk, "open",
    )  # fmt: skip


# --- 5. an agent files only into their own departments, single or batch -------------------


def test_an_agent_cannot_file_one_ticket_outside_their_departments(api):
    before = Ticket.objects.count()

    response = api("post", "/tickets", body={**NEW, "department": "billing"})

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {
        "department": ["You may file only into your own departments."]
    }
    assert Ticket.objects.count() == before
    assert not Ticket.objects.filter(subject=NEW["subject"]).exists()


def test_agents_file_into_their_own_and_managers_anywhere(api):
    own = api("post", "/tickets", body=NEW)
    anywhere = api("post", "/tickets", role="manager", body={**NEW, "department": "billing"})

    assert own.status_code == 201 and own.json()["department"]["slug"] == "general"
    assert anywhere.status_code == 201 and anywhere.json()["department"]["slug"] == "billing"


# --- 6. the desk's customer sidebar keeps to what the agent may see -----------------------


def test_requester_history_and_related_tickets_keep_to_what_the_user_sees(
    new_ticket, people, billing
):
    here = new_ticket(subject="Printer jam")
    elsewhere = new_ticket(subject="Salary question", department=billing)
    services.ticket_link_related(ticket=here, other=elsewhere, actor=people["manager"])

    def references(tickets):
        return [t.reference for t in tickets]

    agent, manager = people["agent"], people["manager"]
    assert references(selectors.requester_history(ticket=here, user=agent)) == []
    assert references(selectors.related_tickets(ticket=here, user=agent)) == []
    assert references(selectors.requester_history(ticket=here, user=manager)) == [
        elsewhere.reference
    ]
    assert references(selectors.related_tickets(ticket=here, user=manager)) == [elsewhere.reference]
    # Without a user, as before: every ticket of the requester.
    assert references(selectors.requester_history(ticket=here)) == [elsewhere.reference]
    assert references(selectors.related_tickets(ticket=here)) == [elsewhere.reference]


def test_customers_see_agents_names_on_replies_not_their_addresses(api, new_ticket, people):
    ticket = new_ticket()
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="We are on it.")

    detail = api("get", f"/tickets/{ticket.reference}", role="customer").json()
    listed = api("get", f"/tickets/{ticket.reference}/messages", role="customer").json()
    as_agent = api("get", f"/tickets/{ticket.reference}/messages").json()

    for messages in (detail["messages"], listed):
        staff = [m for m in messages if m["from_staff"]]
        assert staff and all(m["author_email"] == "" for m in staff)
        assert all(m["author_name"] for m in staff)
        assert any(m["author_email"] == people["customer"].email for m in messages)
    assert any(m["author_email"] == people["agent"].email for m in as_agent)


@pytest.mark.parametrize("bad", ["²", "٣", "999999999999999999999", "-1"])
def test_a_malformed_department_is_a_clear_error_not_a_crash(api, bad):
    created = api("post", "/tickets", role="manager", body={**NEW, "department": bad})

    assert created.status_code == 400, created.content
    assert created.json()["error"]["fields"]["department"]
    assert not Ticket.objects.filter(subject=NEW["subject"]).exists()


def test_an_invalid_request_is_explained_in_the_callers_language(alpha, token_for):
    client = alpha.client()
    response = client.post(
        "/api/v1/tickets", data=json.dumps({"subject": 5}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for('manager')}", HTTP_ACCEPT_LANGUAGE="fa",
    )  # fmt: skip

    assert response.status_code == 422
    with translation.override("fa"):
        assert response.json()["error"]["message"] == translation.gettext(
            "The request has invalid fields."
        )
    assert response.json()["error"]["message"] != "The request has invalid fields."
