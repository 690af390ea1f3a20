"""The ticket life cycle through its services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from helpdesk.models import (
    Level,
    Message,
    OutboundEmail,
    Priority,
    StatusCategory,
    Ticket,
    TicketStatus,
    Tier,
)
from helpdesk.services import tickets as services


def _stage(ticket):
    return Ticket.objects.get(pk=ticket.pk).stage


def test_create_gives_a_tracking_code_history_and_confirmation_email(new_ticket, people, run_tasks):
    ticket = new_ticket()
    run_tasks()

    assert len(ticket.reference) == 9
    assert ticket.stage == StatusCategory.NEW
    assert ticket.requester_email == "customer@alpha.test"
    assert [e.kind for e in ticket.events.all()] == ["created"]
    assert ticket.messages.get().body_text == "The printer on floor 2 is on fire."
    emails = OutboundEmail.objects.filter(dedupe_key__startswith=f"ticket-created:{ticket.pk}")
    assert emails.get().to == "customer@alpha.test"
    assert ticket.reference in emails.get().subject
    # The department's agent hears about it too.
    assert OutboundEmail.objects.filter(
        dedupe_key__startswith=f"ticket-new-for-agent:{ticket.pk}:", to="agent@alpha.test"
    ).exists()


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        (Level.LOW, Level.LOW, Priority.LOW),
        (Level.MEDIUM, Level.MEDIUM, Priority.MEDIUM),
        (Level.HIGH, Level.MEDIUM, Priority.HIGH),
        (Level.HIGH, Level.HIGH, Priority.CRITICAL),
    ],
)
def test_priority_comes_from_impact_and_urgency(new_ticket, impact, urgency, priority):
    assert new_ticket(impact=impact, urgency=urgency).priority == priority


def test_tracking_codes_are_unique(new_ticket):
    codes = {new_ticket().reference for _ in range(30)}

    assert len(codes) == 30


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"subject": "   "}, "empty_subject"),
        ({"body_text": "  \n "}, "empty_body"),
        ({"body_text": "x" * 50_001}, "too_long"),
    ],
)
def test_bad_input_saves_nothing(new_ticket, changes, code):
    before = Ticket.objects.count()

    with pytest.raises(ValidationError) as error:
        new_ticket(**changes)

    assert error.value.code == code
    assert Ticket.objects.count() == before


def test_category_must_belong_to_the_department(new_ticket, billing, general):
    with pytest.raises(ValidationError):
        new_ticket(department=billing, category=general.categories.first())


def test_agent_reply_sets_first_response_opens_and_emails_the_customer(
    new_ticket, people, run_tasks
):
    ticket = new_ticket()

    message = services.ticket_reply(ticket=ticket, author=people["agent"], body_text="On it.")
    run_tasks()

    ticket.refresh_from_db()
    assert ticket.first_response_at == message.created_at
    assert ticket.stage == StatusCategory.OPEN
    email = OutboundEmail.objects.get(dedupe_key=f"reply-to-customer:{message.pk}")
    assert email.to == "customer@alpha.test" and "On it." in email.body_text


def test_internal_notes_never_email_the_customer_and_mention_agents(new_ticket, people, run_tasks):
    ticket = new_ticket()

    note = services.ticket_reply(
        ticket=ticket,
        author=people["agent"],
        body_text="@manager@alpha.test the customer is a VIP",
        internal=True,
    )
    run_tasks()

    assert note.is_internal
    assert note.mentions == [people["manager"].pk]
    assert not OutboundEmail.objects.filter(
        to="customer@alpha.test", dedupe_key__contains=str(note.pk)
    ).exists()
    assert OutboundEmail.objects.get(dedupe_key=f"mention:{note.pk}:{people['manager'].pk}")


def test_customers_cannot_write_internal_notes(new_ticket, people):
    with pytest.raises(PermissionDenied):
        services.ticket_reply(
            ticket=new_ticket(), author=people["customer"], body_text="x", internal=True
        )


def test_customer_reply_on_waiting_ticket_goes_back_to_open(new_ticket, people):
    ticket = new_ticket()
    waiting = TicketStatus.objects.get(key="waiting-customer")
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="Which printer?", set_status=waiting
    )
    assert _stage(ticket) == StatusCategory.PENDING

    services.ticket_reply(ticket=ticket, author=people["customer"], body_text="The big one.")

    assert _stage(ticket) == StatusCategory.OPEN


def test_customer_confirms_or_reopens_and_closed_tickets_refuse_replies(new_ticket, people):
    ticket = new_ticket()
    services.ticket_customer_resolve(ticket=ticket, actor=people["customer"])
    assert _stage(ticket) == StatusCategory.RESOLVED
    services.ticket_customer_reopen(ticket=ticket, actor=people["customer"])
    assert _stage(ticket) == StatusCategory.OPEN

    services.ticket_update(
        ticket=ticket, actor=people["agent"], status=TicketStatus.objects.get(key="closed")
    )

    with pytest.raises(ValidationError, match="closed"):
        services.ticket_reply(ticket=ticket, author=people["customer"], body_text="Hello?")


def test_assign_transfer_and_escalate_keep_the_whole_history(new_ticket, people, billing):
    ticket = new_ticket()

    services.ticket_assign(ticket=ticket, actor=people["manager"], assignee=people["agent"])
    services.ticket_escalate(ticket=ticket, actor=people["agent"], reason="Needs a technician")
    services.ticket_transfer(
        ticket=ticket, actor=people["agent"], department=billing, reason="It is about an invoice"
    )

    ticket.refresh_from_db()
    assert ticket.tier == Tier.L2
    assert ticket.department == billing
    assert ticket.assignee is None
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "escalated", "transferred"]
    notes = list(ticket.messages.filter(kind="internal").values_list("body_text", flat=True))
    assert notes == ["Needs a technician", "It is about an invoice"]
    assert ticket.messages.count() == 3  # the conversation travelled with the ticket


def test_escalation_needs_a_reason_and_only_agents_assign(new_ticket, people):
    ticket = new_ticket()
    with pytest.raises(ValidationError):
        services.ticket_escalate(ticket=ticket, actor=people["agent"], reason="  ")
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket=ticket, actor=people["customer"], assignee=people["agent"])
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["customer"])


def test_merge_closes_another_requesters_duplicate_and_notes_it_for_the_agents(new_ticket, people):
    from helpdesk.models import MessageKind

    original = new_ticket(subject="VPN down")
    duplicate = new_ticket(subject="VPN not working", requester=people["other_customer"])

    services.ticket_merge(source=duplicate, target=original, actor=people["agent"])

    duplicate.refresh_from_db()
    assert duplicate.merged_into == original
    assert duplicate.stage == StatusCategory.CLOSED
    # Their words stay on their ticket: the target gains an internal note about it.
    assert [m.kind for m in original.messages.order_by("pk")] == [
        MessageKind.PUBLIC,
        MessageKind.INTERNAL,
    ]
    assert duplicate.messages.filter(kind=MessageKind.PUBLIC).count() == 2  # + the notice
    with pytest.raises(ValidationError):
        services.ticket_merge(source=original, target=original, actor=people["agent"])


def test_master_incident_reply_reaches_every_linked_requester_and_resolves_them(
    new_ticket, people, run_tasks
):
    master = new_ticket(subject="Email outage")
    reports = [
        new_ticket(subject="No email", requester=people["customer"]),
        new_ticket(subject="Mail broken", requester=people["other_customer"]),
    ]
    for report in reports:
        services.ticket_link_to_master(ticket=report, master=master, actor=people["agent"])

    services.ticket_reply(ticket=master, author=people["agent"], body_text="Fixed at 10:00.")
    services.ticket_update(
        ticket=master, actor=people["agent"], status=TicketStatus.objects.get(key="resolved")
    )

    run_tasks()
    for report in reports:
        assert Message.objects.filter(ticket=report, body_text="Fixed at 10:00.").exists()
        assert _stage(report) == StatusCategory.RESOLVED
    recipients = set(
        OutboundEmail.objects.filter(body_text__contains="Fixed at 10:00.").values_list(
            "to", flat=True
        )
    )
    assert {"customer@alpha.test", "other.customer@alpha.test"} <= recipients


def test_updates_write_one_history_row_per_change(new_ticket, people, general):
    ticket = new_ticket()

    services.ticket_update(
        ticket=ticket,
        actor=people["agent"],
        priority=Priority.CRITICAL,
        tags=["VPN", " outage ", "vpn"],
        category=general.categories.first(),
    )

    ticket.refresh_from_db()
    assert ticket.tags == ["outage", "vpn"]
    assert set(ticket.events.values_list("kind", flat=True)) == {
        "created", "priority", "tags", "category",
    }  # fmt: skip


def test_a_tracking_code_clash_writes_the_ticket_once_with_a_fresh_code(
    new_ticket, people, general, monkeypatch, run_tasks
):
    first = new_ticket()
    fresh = iter([first.reference, first.reference, "FRESH2345"])
    monkeypatch.setattr(services, "new_reference", lambda: next(fresh))

    second = new_ticket(subject="Second")
    run_tasks()

    assert second.reference == "FRESH2345"
    assert Ticket.objects.count() == 2
    assert Message.objects.filter(ticket=second).count() == 1
    assert [e.kind for e in second.events.all()] == ["created"]
    # One confirmation, not one per attempt: the clashing attempts' queued emails went
    # with their rolled-back rows.
    assert (
        OutboundEmail.objects.filter(dedupe_key__startswith=f"ticket-created:{second.pk}").count()
        == 1
    )


def test_a_batch_retries_a_clash_as_a_whole(new_ticket, people, general, monkeypatch):
    first = new_ticket()
    fresh = iter([first.reference, "BATCH2345", "BATCH2346", "BATCH2347"])
    monkeypatch.setattr(services, "new_reference", lambda: next(fresh))
    items = [
        services.NewTicket(subject=f"Batch {n}", body_text="x", department=general,
                           channel="api", requester_email=f"b{n}@example.com")
        for n in range(2)
    ]  # fmt: skip

    opened = services.tickets_open_many(items)

    assert [o.ticket.reference for o in opened] == ["BATCH2346", "BATCH2347"]
    assert Ticket.objects.filter(subject__startswith="Batch").count() == 2


def test_other_unique_violations_are_not_retried(new_ticket, general, monkeypatch):
    from django.db import IntegrityError

    calls = []
    real = services._first_message

    def clashing_message(item):
        # A real unique violation of another constraint, from PostgreSQL itself.
        calls.append(1)
        message = real(item)
        message.pk = Message.objects.values_list("pk", flat=True).first()
        return message

    new_ticket()
    monkeypatch.setattr(services, "_first_message", clashing_message)
    with pytest.raises(IntegrityError):
        new_ticket(subject="Second")
    assert len(calls) == 1
    assert Ticket.objects.count() == 1
