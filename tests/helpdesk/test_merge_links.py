"""Merging duplicates, master incidents and related links: whose conversation goes where,
which linked tickets a resolved master reaches, and the live events of each change."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from wagtail.models import APIToken

from helpdesk.attachments import check_upload
from helpdesk.models import Message, MessageKind, OutboundEmail, StatusCategory, Ticket
from helpdesk.services import tickets as services

SECRET = "My home address is 12 Elm Street"


def _client(alpha, role):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions[role]
    return client


def _api_get(alpha, people, role, path):
    _token, plaintext = APIToken.create_token(user=people[role], name=f"{role} test")
    response = alpha.client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 200, response.content
    return json.dumps(response.json())


def _stage(ticket):
    return Ticket.objects.get(pk=ticket.pk).stage


@pytest.fixture
def two_requesters(new_ticket, people):
    """The customer's ticket and another customer's duplicate of it, with a file."""
    original = new_ticket(subject="VPN down", body_text="The VPN drops every minute.")
    duplicate = new_ticket(
        subject="VPN not working",
        body_text=SECRET,
        requester=people["other_customer"],
        uploads=[check_upload(SimpleUploadedFile("passport.txt", b"scan", "text/plain"))],
    )
    return original, duplicate


def test_merging_another_customers_duplicate_shows_the_target_requester_nothing_of_it(
    alpha, people, two_requesters, run_tasks
):
    original, duplicate = two_requesters
    attachment = duplicate.attachments.get()

    services.ticket_merge(source=duplicate, target=original, actor=people["agent"])
    run_tasks()

    customer = _client(alpha, "customer")
    page = customer.get(f"/tickets/{original.reference}/").content.decode()
    assert "The VPN drops every minute." in page
    assert SECRET not in page and "passport.txt" not in page
    for path in (f"/tickets/{original.reference}", f"/tickets/{original.reference}/messages"):
        shown = _api_get(alpha, people, "customer", path)
        assert "The VPN drops every minute." in shown
        assert SECRET not in shown and "passport.txt" not in shown
    assert customer.get(f"/attachments/{attachment.token}/").status_code == 404
    assert not OutboundEmail.objects.filter(
        to="customer@alpha.test", body_text__contains=SECRET
    ).exists()
    # The agents still have it all in one place: an internal note naming the duplicate.
    note = original.messages.get(kind=MessageKind.INTERNAL)
    assert duplicate.reference in note.body_text and SECRET in note.body_text


def test_a_merged_duplicate_keeps_its_conversation_and_tells_its_requester(
    alpha, people, two_requesters, run_tasks
):
    original, duplicate = two_requesters
    attachment = duplicate.attachments.get()

    services.ticket_merge(source=duplicate, target=original, actor=people["agent"])
    run_tasks()

    duplicate.refresh_from_db()
    assert duplicate.merged_into == original and duplicate.stage == StatusCategory.CLOSED
    notice = duplicate.messages.last()
    assert notice.kind == MessageKind.PUBLIC and notice.from_staff
    assert original.reference in notice.body_text
    assert duplicate.messages.filter(body_text=SECRET).exists()
    assert duplicate.attachments.get().pk == attachment.pk
    email = OutboundEmail.objects.get(dedupe_key=f"reply-to-customer:{notice.pk}")
    assert email.to == "other.customer@alpha.test" and original.reference in email.body_text

    other = _client(alpha, "other_customer")
    page = other.get(f"/tickets/{duplicate.reference}/").content.decode()
    assert SECRET in page and "passport.txt" in page
    assert "This request was merged into" in page and original.reference in page
    # Not theirs to open: the code is named, never linked.
    assert f'href="/tickets/{original.reference}/"' not in page
    assert other.get(f"/attachments/{attachment.token}/").status_code == 200
    assert other.get(f"/tickets/{original.reference}/").status_code == 404


def test_the_merged_notice_speaks_the_duplicate_requesters_language(
    people, two_requesters, monkeypatch
):
    original, duplicate = two_requesters
    other = people["other_customer"]
    other.language = "fa"
    other.save(update_fields=["language"])
    # Which language the notice is written in, whatever the catalogue holds today.
    monkeypatch.setattr(services, "_", lambda text: f"[{translation.get_language()}] {text}")

    with translation.override("en"):  # the agent's request
        services.ticket_merge(source=duplicate, target=original, actor=people["agent"])

    assert duplicate.messages.last().body_text.startswith("[fa] This request was merged into")


def test_merging_a_duplicate_of_the_same_requester_keeps_the_conversation_together(
    alpha, new_ticket, people, run_tasks
):
    original = new_ticket(subject="VPN down", body_text="The VPN drops every minute.")
    duplicate = new_ticket(
        subject="VPN again",
        body_text="Still dropping, see the log.",
        uploads=[check_upload(SimpleUploadedFile("vpn.log", b"timeout", "text/plain"))],
    )

    services.ticket_merge(source=duplicate, target=original, actor=people["agent"])
    run_tasks()

    customer = _client(alpha, "customer")
    page = customer.get(f"/tickets/{original.reference}/").content.decode()
    assert "The VPN drops every minute." in page
    assert "Still dropping, see the log." in page and "vpn.log" in page
    assert not original.messages.filter(kind=MessageKind.INTERNAL).exists()
    merged = customer.get(f"/tickets/{duplicate.reference}/").content.decode()
    assert "This request was merged into" in merged
    assert f'href="/tickets/{original.reference}/"' in merged


def test_bulk_merge_keeps_another_customers_messages_out_of_the_target(
    alpha, people, two_requesters
):
    original, duplicate = two_requesters

    _client(alpha, "agent").post(
        "/desk/bulk/", {"action": "merge", "tickets": [original.reference, duplicate.reference]}
    )

    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == original.pk
    assert not original.messages.filter(kind=MessageKind.PUBLIC, body_text=SECRET).exists()
    assert duplicate.messages.filter(body_text=SECRET).exists()


# --- master incidents ----------------------------------------------------------------


@pytest.fixture
def incident(new_ticket, people):
    master = new_ticket(subject="Email outage")
    reports = [
        new_ticket(subject="No email", requester=people["customer"]),
        new_ticket(subject="Mail broken", requester=people["other_customer"]),
    ]
    for report in reports:
        services.ticket_link_to_master(ticket=report, master=master, actor=people["agent"])
    return master, reports


def test_a_reply_that_resolves_the_master_resolves_its_linked_tickets(people, incident):
    master, reports = incident

    services.ticket_reply(
        ticket=master,
        author=people["agent"],
        body_text="Fixed at 10:00.",
        set_status=services.status_for_stage(StatusCategory.RESOLVED),
    )

    assert _stage(master) == StatusCategory.RESOLVED
    for report in reports:
        assert _stage(report) == StatusCategory.RESOLVED
        assert Message.objects.filter(ticket=report, body_text="Fixed at 10:00.").exists()


def test_closing_the_master_resolves_its_linked_tickets(people, incident):
    master, reports = incident

    services.ticket_update(
        ticket=master, actor=people["agent"],
        status=services.status_for_stage(StatusCategory.CLOSED),
    )  # fmt: skip

    assert _stage(master) == StatusCategory.CLOSED
    assert [_stage(report) for report in reports] == [StatusCategory.RESOLVED] * 2


def test_bulk_close_of_the_master_resolves_its_linked_tickets(alpha, incident):
    master, reports = incident

    _client(alpha, "agent").post("/desk/bulk/", {"action": "close", "tickets": [master.reference]})

    assert _stage(master) == StatusCategory.CLOSED
    assert [_stage(report) for report in reports] == [StatusCategory.RESOLVED] * 2


def test_the_master_requester_confirming_resolves_its_linked_tickets(people, incident):
    master, reports = incident

    services.ticket_customer_resolve(ticket=master, actor=people["customer"])

    assert [_stage(report) for report in reports] == [StatusCategory.RESOLVED] * 2


def test_merging_a_master_away_does_not_resolve_its_linked_tickets(new_ticket, people, incident):
    master, reports = incident
    target = new_ticket(subject="Email outage, the real one")

    services.ticket_merge(source=master, target=target, actor=people["agent"])

    assert [_stage(report) for report in reports] == [StatusCategory.NEW] * 2


# --- live events ---------------------------------------------------------------------


def _staff(ticket):
    return sorted(["managers", f"dept.{ticket.department_id}", f"ticket.{ticket.pk}"])


def test_linking_to_a_master_tells_the_desk_about_both_tickets(
    alpha, people, new_ticket, capture_realtime_events
):
    master = new_ticket(subject="Email outage")
    report = new_ticket(subject="No email", requester=people["other_customer"])
    capture_realtime_events.take()

    services.ticket_link_to_master(ticket=report, master=master, actor=people["agent"])
    linked = capture_realtime_events.take()
    services.ticket_link_to_master(ticket=report, master=None, actor=people["agent"])
    unlinked = capture_realtime_events.take()

    for taken in (linked, unlinked):
        assert {e.schema_name for e in taken} == {alpha.schema_name}
        assert [(e.type, list(e.audiences), e.payload["ticket"]["reference"]) for e in taken] == [
            ("ticket.updated", _staff(report), report.reference),
            ("ticket.updated", _staff(master), master.reference),
        ]  # staff only: neither requester hears of it
    assert linked[0].payload["changes"] == ["master"]


def test_linking_related_tickets_tells_the_desk_about_both(
    alpha, people, new_ticket, capture_realtime_events
):
    first = new_ticket(subject="Printer jam")
    second = new_ticket(subject="Printer noise", requester=people["other_customer"])
    capture_realtime_events.take()

    services.ticket_link_related(ticket=first, other=second, actor=people["agent"])
    taken = capture_realtime_events.take()
    services.ticket_link_related(ticket=first, other=second, actor=people["agent"])

    assert [(e.type, list(e.audiences), e.payload["changes"]) for e in taken] == [
        ("ticket.updated", _staff(first), ["links"]),
        ("ticket.updated", _staff(second), ["links"]),
    ]
    assert capture_realtime_events.take() == []  # already linked: nothing changed


def test_a_master_reply_tells_the_desk_each_linked_ticket_changed(
    people, incident, capture_realtime_events
):
    master, reports = incident
    before = {t.pk: t.updated_at for t in Ticket.objects.filter(master=master)}
    capture_realtime_events.take()

    services.ticket_reply(ticket=master, author=people["agent"], body_text="Working on it.")

    taken = capture_realtime_events.take()
    for report in reports:
        updates = [
            e
            for e in taken
            if e.type == "ticket.updated" and e.payload["ticket"]["reference"] == report.reference
        ]
        assert [(list(e.audiences), e.payload["changes"]) for e in updates] == [
            (_staff(report), ["activity"])
        ]
        assert Ticket.objects.get(pk=report.pk).updated_at > before[report.pk]


def test_my_requests_keeps_a_duplicate_merged_into_someone_elses_not_into_my_own(
    alpha, new_ticket, people, two_requesters
):
    original, duplicate = two_requesters
    mine_first = new_ticket(subject="Printer jams")
    mine_again = new_ticket(subject="Printer jams again")
    services.ticket_merge(source=duplicate, target=original, actor=people["agent"])
    services.ticket_merge(source=mine_again, target=mine_first, actor=people["agent"])

    other = _client(alpha, "other_customer").get("/tickets/").content.decode()
    mine = _client(alpha, "customer").get("/tickets/").content.decode()

    # Their conversation stayed on it: the other customer still finds it in their list.
    assert duplicate.reference in other and original.reference not in other
    # Merged into my own request: its conversation is there, the empty one is left out.
    assert mine_first.reference in mine and mine_again.reference not in mine
