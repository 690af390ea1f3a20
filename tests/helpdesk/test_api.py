"""REST API v1: tokens per tenant, the pages' permission rules, one error shape."""

import json

import pytest
from wagtail.models import APIToken

from helpdesk.models import Message, Ticket
from helpdesk.services import tickets as services

NEW = {
    "subject": "Order 1234 never arrived",
    "body": "Customer says the parcel is lost.",
    "department": "general",
    "requester_email": "Buyer@Shop.example",
    "requester_name": "Bea Buyer",
    "urgency": "high",
}


def test_openapi_document_and_docs_are_served(alpha):
    schema = alpha.client().get("/api/v1/openapi.json")
    docs = alpha.client().get("/api/v1/docs")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/tickets", "/api/v1/tickets/{reference}", "/api/v1/departments"} <= set(paths)
    assert docs.status_code == 200


def test_an_integration_creates_reads_lists_and_updates_a_ticket(api, people):
    created = api("post", "/tickets", body=NEW)

    assert created.status_code == 201, created.content
    ticket = created.json()
    assert ticket["reference"] and ticket["channel"] == "api"
    assert (ticket["requester_email"], ticket["priority"]) == ("buyer@shop.example", "medium")
    assert ticket["messages"][0]["body_text"] == "Customer says the parcel is lost."

    read = api("get", f"/tickets/{ticket['reference']}")
    listed = api("get", "/tickets?queue=open&q=parcel")
    updated = api(
        "patch", f"/tickets/{ticket['reference']}",
        body={"status": "resolved", "priority": "critical", "tags": ["Shop"],
              "assignee": people["agent"].pk},
    )  # fmt: skip

    assert read.status_code == 200 and read.json()["subject"] == NEW["subject"]
    assert [t["reference"] for t in listed.json()["items"]] == [ticket["reference"]]
    assert updated.status_code == 200, updated.content
    body = updated.json()
    assert (body["stage"], body["priority"], body["tags"]) == ("resolved", "critical", ["shop"])
    assert body["assignee"]["email"] == "agent@alpha.test"


def test_an_integrations_ticket_for_a_known_customer_carries_their_organisation(api, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpdesk.models import CustomerProfile, Organisation

    acme = Organisation.objects.create(name="Acme")
    CustomerProfile.objects.update_or_create(
        user=people["customer"], defaults={"organisation": acme}
    )
    known = {**NEW, "requester_email": "Customer@Alpha.test"}

    with CaptureQueriesContext(connection) as queries:
        created = api("post", "/tickets", body=known)
        batch = api("post", "/tickets/batch", body={"tickets": [known, NEW]})

    assert created.status_code == 201 and batch.status_code == 201, batch.content
    references = [created.json()["reference"], *(t["reference"] for t in batch.json()["items"])]
    tickets = {t.reference: t for t in Ticket.objects.filter(reference__in=references)}
    assert [tickets[r].organisation_id for r in references] == [acme.pk, acme.pk, None]
    assert tickets[references[0]].requester_id == people["customer"].pk
    # The profile is read with the person, not by a query of its own.
    assert not [
        q for q in queries.captured_queries if 'FROM "helpdesk_customerprofile"' in q["sql"]
    ]


def test_replies_and_notes_through_the_api(api, new_ticket):
    ticket = new_ticket()

    note = api(
        "post", f"/tickets/{ticket.reference}/messages", body={"body": "n", "internal": True}
    )
    reply = api("post", f"/tickets/{ticket.reference}/messages", body={"body": "Hello"})
    as_customer = api("get", f"/tickets/{ticket.reference}/messages", role="customer")

    assert note.status_code == reply.status_code == 201
    assert [m["kind"] for m in as_customer.json()] == ["public", "public"]
    assert Message.objects.filter(ticket=ticket).count() == 3


def test_customers_see_only_their_tickets_and_never_internal_notes(api, new_ticket, people):
    mine = new_ticket()
    theirs = new_ticket(requester=people["other_customer"])
    services.ticket_reply(ticket=mine, author=people["agent"], body_text="SECRET", internal=True)

    listed = api("get", "/tickets", role="customer").json()["items"]
    detail = api("get", f"/tickets/{mine.reference}", role="customer").json()
    other = api("get", f"/tickets/{theirs.reference}", role="customer")
    note = api(
        "post", f"/tickets/{mine.reference}/messages", role="customer",
        body={"body": "x", "internal": True},
    )  # fmt: skip
    patch = api("patch", f"/tickets/{mine.reference}", role="customer", body={"status": "closed"})

    assert [t["reference"] for t in listed] == [mine.reference]
    assert "SECRET" not in json.dumps(detail)
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert note.status_code == 403 and patch.status_code == 403
    assert note.json() == {"error": {"code": "forbidden", "message": "You may not do this."}}


def test_customer_creates_for_themselves(api):
    created = api("post", "/tickets", role="customer", body={**NEW, "requester_email": None})

    assert created.status_code == 201
    assert created.json()["requester_email"] == "customer@alpha.test"


def test_an_agent_sees_only_their_departments(api, new_ticket, billing):
    billing_ticket = new_ticket(department=billing)

    assert api("get", f"/tickets/{billing_ticket.reference}").status_code == 404
    assert (
        api("get", f"/tickets/{billing_ticket.reference}", role="billing_agent").status_code == 200
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "subject": ""}, "subject"),
        ({**NEW, "subject": "x" * 201}, "subject"),
        ({**NEW, "urgency": "apocalyptic"}, "urgency"),
        ({k: v for k, v in NEW.items() if k != "body"}, "body"),
        ({**NEW, "custom_fields": {"a": {"nested": 1}}}, "custom_fields.a.str"),
    ],
)
def test_invalid_fields_get_422_with_the_field_named(api, body, field):
    before = Ticket.objects.count()

    response = api("post", "/tickets", body=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(name.startswith(field.split(".")[0]) for name in error["fields"])
    assert Ticket.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"department": "no-such-dept"}, "department"),
        ({"requester_email": "not an email"}, "requester_email"),
        ({"requester_email": None}, "requester_email"),
        ({"category": 999999}, "category"),
    ],
)
def test_rejected_values_get_400_with_the_field_named(api, changes, field):
    response = api("post", "/tickets", body={**NEW, **changes})

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_malformed_json_and_wrong_types(api):
    assert api("post", "/tickets", body="{not json").status_code in (400, 422)
    assert api("post", "/tickets", body=[1, 2, 3]).status_code == 422
    assert api("get", "/tickets?sort=DROP").status_code == 422
    assert api("get", "/tickets?department=abc").status_code == 422


def test_no_token_a_bad_token_or_a_revoked_token_is_401(api, alpha, token_for):
    plaintext = token_for("agent")
    APIToken.objects.filter(user_id=alpha.users["agent"]).update(revoked_at="2026-01-01T00:00Z")

    assert alpha.client().get("/api/v1/tickets").status_code == 401
    assert api("get", "/tickets", token="wagtail_nonsense").status_code == 401
    revoked = api("get", "/tickets", token=plaintext)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthenticated"


def test_a_token_of_tenant_a_means_nothing_on_tenant_b(alpha, bravo, token_for):
    plaintext = token_for("manager")

    response = bravo.client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert response.status_code == 401


def test_cursor_pagination(api, new_ticket, monkeypatch):
    monkeypatch.setattr("helpdesk.selectors.PAGE_SIZE", 2)
    made = {new_ticket(subject=f"P{i}").reference for i in range(5)}

    seen, cursor = [], None
    while True:
        page = api(
            "get", "/tickets" + (f"?cursor={cursor}" if cursor else ""), role="manager"
        ).json()
        seen += [t["reference"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert sorted(seen) == sorted(made)


# --- batch creation ---------------------------------------------------------------------


def _batch(n: int, **changes) -> dict:
    return {
        "tickets": [
            {**NEW, "subject": f"Import {i}", "requester_email": f"c{i}@shop.example", **changes}
            for i in range(n)
        ]
    }


def test_a_batch_opens_every_ticket_with_its_message_history_events_and_emails(api, run_tasks):
    from django_tasks_db.models import DBTaskResult

    from helpdesk.models import OutboundEmail, TicketEvent
    from realtime.models import Event
    from tenants.context import public_schema

    last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with public_schema():
        queued_before = DBTaskResult.objects.filter(
            task_path__endswith="notifications_send_batch"
        ).count()

    response = api("post", "/tickets/batch", role="manager", body=_batch(3))

    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [i["subject"] for i in items] == ["Import 0", "Import 1", "Import 2"]
    assert len({i["reference"] for i in items}) == 3
    tickets = Ticket.objects.filter(reference__in=[i["reference"] for i in items])
    assert sorted(t.requester_email for t in tickets) == [f"c{i}@shop.example" for i in range(3)]
    assert Message.objects.filter(ticket__in=tickets).count() == 3
    assert TicketEvent.objects.filter(ticket__in=tickets, kind="created").count() == 3
    # Found by search like any other ticket: the document went in with the row.
    found = api("get", "/tickets?queue=all&q=parcel", role="manager").json()["items"]
    assert {i["reference"] for i in items} <= {t["reference"] for t in found}
    emitted = Event.objects.filter(pk__gt=last_event).order_by("pk")
    assert [e.payload["type"] for e in emitted] == ["ticket.created", "ticket.created"] * 3
    assert [e.payload["ticket"]["reference"] for e in emitted][::2] == [
        i["reference"] for i in items
    ]
    with public_schema():  # one task row renders the whole batch's emails
        queued = DBTaskResult.objects.filter(task_path__endswith="notifications_send_batch").count()
    assert queued - queued_before == 1
    run_tasks()
    for ticket in tickets:
        confirmation = OutboundEmail.objects.get(dedupe_key=f"ticket-created:{ticket.pk}")
        assert (
            confirmation.to == ticket.requester_email and ticket.reference in confirmation.subject
        )
        assert OutboundEmail.objects.filter(
            dedupe_key__startswith=f"ticket-new-for-agent:{ticket.pk}:"
        ).exists()


def test_a_batch_notification_task_renders_the_rest_when_one_message_fails(api, alpha, monkeypatch):
    from helpdesk.models import OutboundEmail
    from helpdesk.services import notifications
    from helpdesk.tasks import notifications_send_batch

    items = api("post", "/tickets/batch", role="manager", body=_batch(3)).json()["items"]
    tickets = list(Ticket.objects.filter(reference__in=[i["reference"] for i in items]))
    messages = {t.pk: Message.objects.get(ticket=t).pk for t in tickets}
    broken = messages[tickets[1].pk]
    render = notifications.notifications_render

    def render_or_fail(**kwargs):
        if kwargs["message_id"] == broken:
            raise ConnectionError("template storage unavailable")
        return render(**kwargs)

    monkeypatch.setattr(notifications, "notifications_render", render_or_fail)
    pairs = [[messages[t.pk], "fa"] for t in tickets]

    with pytest.raises(RuntimeError, match=str(broken)):
        notifications_send_batch.call(schema_name=alpha.schema_name, kind="created", items=pairs)
    done = set(
        OutboundEmail.objects.filter(dedupe_key__startswith="ticket-created:").values_list(
            "dedupe_key", flat=True
        )
    )
    assert done == {f"ticket-created:{tickets[0].pk}", f"ticket-created:{tickets[2].pk}"}

    # Run again once the fault is gone: the missing one is rendered, nothing twice.
    monkeypatch.setattr(notifications, "notifications_render", render)
    notifications_send_batch.call(schema_name=alpha.schema_name, kind="created", items=pairs)
    keys = list(
        OutboundEmail.objects.filter(dedupe_key__startswith="ticket-created:").values_list(
            "dedupe_key", flat=True
        )
    )
    assert sorted(keys) == sorted(f"ticket-created:{t.pk}" for t in tickets)


def test_a_batch_with_one_bad_item_saves_nothing_and_names_the_item(api):
    body = _batch(3)
    body["tickets"][1]["department"] = "no-such-department"
    body["tickets"][2]["body"] = "   "  # passes the schema, not the service
    before = Ticket.objects.count()

    response = api("post", "/tickets/batch", role="manager", body=body)

    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"tickets.1.department", "tickets.2"}
    assert Ticket.objects.count() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"tickets": []}, 422, "invalid"),
        ({"tickets": [NEW] * 101}, 422, "invalid"),
        ({"tickets": "nope"}, 422, "invalid"),
        ("not json", 400, "error"),
    ],
)
def test_batch_size_and_shape_are_checked(api, body, status, code):
    before = Ticket.objects.count()

    response = api("post", "/tickets/batch", role="manager", body=body)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Ticket.objects.count() == before


def test_customers_cannot_batch_and_agents_only_into_their_departments(api):
    customer = api("post", "/tickets/batch", role="customer", body=_batch(1))
    outside = api("post", "/tickets/batch", role="agent", body=_batch(1, department="billing"))
    inside = api("post", "/tickets/batch", role="agent", body=_batch(1))

    assert customer.status_code == 403
    assert outside.status_code == 400
    assert outside.json()["error"]["fields"] == {
        "tickets.0.department": ["You may file only into your own departments."]
    }
    assert inside.status_code == 201


def test_errors_speak_the_callers_language(api):
    response = api(
        "post", "/tickets", role="manager", body={**NEW, "department": "nope"},
        HTTP_ACCEPT_LANGUAGE="fa",
    )  # fmt: skip
    missing = api("get", "/tickets/ZZZZ-ZZZZ", role="manager", HTTP_ACCEPT_LANGUAGE="ar")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["department"] == ["چنین بخشی وجود ندارد."]
    assert missing.json()["error"]["message"] == "غير موجود."


def test_a_batch_made_in_tenant_a_stays_in_tenant_a(api, alpha, bravo, token_for):
    from tenants.context import tenant_schema

    plaintext = token_for("manager")
    made = api("post", "/tickets/batch", role="manager", body=_batch(2)).json()["items"]
    codes = {item["reference"] for item in made}

    foreign = bravo.client().post(
        "/api/v1/tickets/batch", data=json.dumps(_batch(1)), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plaintext}",
    )  # fmt: skip

    assert foreign.status_code == 401
    with tenant_schema(bravo.schema_name):
        assert not Ticket.objects.filter(reference__in=codes).exists()
        assert not Ticket.objects.filter(requester_email="c0@shop.example").exists()


@pytest.mark.parametrize("query", ["requester=%00", "tag=a%00b", "q=%00", "cursor=%00"])
def test_a_nul_in_a_ticket_filter_is_a_clear_error_not_a_server_error(api, query):
    response = api("get", f"/tickets?{query}")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_a_nul_in_the_desks_filters_is_ignored_not_a_server_error(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["agent"]

    for query in ("requester=%00", "tag=a%00b", "q=%00x", "cursor=%00"):
        assert client.get(f"/desk/?{query}").status_code == 200, query
