"""Live events of the helpdesk: their shapes (versioned) and who hears them.

Staff events carry what agents see; public events carry only what the requester may see
and go only to the requester's audiences. Internal notes and staff-only fields never
produce a public event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from django.db import connection

from helpdesk.models import Message, MessageKind, Ticket
from realtime.publish import publish_many_on_commit

VERSION = 1


class TicketSummary(TypedDict):
    reference: str
    subject: str
    department_id: int
    department: str
    status: str
    status_label: str
    stage: str
    priority: int
    priority_label: str
    tier: int
    assignee_id: int | None
    assignee: str
    requester: str
    updated_at: str


class PublicTicketSummary(TypedDict):
    reference: str
    subject: str
    status: str
    status_label: str
    stage: str
    updated_at: str


class TicketEventPayload(TypedDict):
    type: Literal["ticket.created", "ticket.updated", "ticket.assigned", "ticket.merged"]
    v: int
    ticket: TicketSummary
    changes: list[str]


class PublicTicketEventPayload(TypedDict):
    # A customer's view: new (their list gains a row) or changed; assignments, merges and
    # the like are changes to them.
    type: Literal["ticket.created", "ticket.updated"]
    v: int
    ticket: PublicTicketSummary


class MessagePayload(TypedDict):
    id: int
    kind: Literal["public", "internal"]
    author_name: str
    from_staff: bool
    body_html: str
    created_at: str


class StaffMessagePayload(MessagePayload):
    mentions: list[int]  # agents an internal note @mentions (a public message: none)
    author_id: int | None  # whose it is (an agent's open page warns of others' replies)


class MessageEventPayload(TypedDict):
    """What a customer's socket gets of a public message."""

    type: Literal["message.created"]
    v: int
    ticket: str
    message: MessagePayload


class StaffMessageEventPayload(TypedDict):
    """What agents get: also whose ticket it is, for their notifications."""

    type: Literal["message.created"]
    v: int
    ticket: str
    message: StaffMessagePayload
    department_id: int
    assignee_id: int | None


# --- audiences ------------------------------------------------------------------------


def staff_audiences(ticket: Ticket) -> list[str]:
    audiences = ["managers", f"dept.{ticket.department_id}", f"ticket.{ticket.pk}"]
    if ticket.assignee_id:
        audiences.append(f"user.{ticket.assignee_id}")
    return audiences


def public_audiences(ticket: Ticket) -> list[str]:
    audiences = [f"ticket.{ticket.pk}.public"]
    if ticket.requester_id:
        audiences.append(f"user.{ticket.requester_id}.portal")
    if ticket.organisation_id:  # the organisation's managers, who see its tickets
        audiences.append(f"org.{ticket.organisation_id}.portal")
    return audiences


# --- payloads -------------------------------------------------------------------------


def _summary(ticket: Ticket) -> TicketSummary:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "department_id": ticket.department_id,
        "department": ticket.department.name,
        "status": ticket.status.key,
        "status_label": ticket.status.agent_label,
        "stage": ticket.stage,
        "priority": ticket.priority,
        "priority_label": str(ticket.get_priority_display()),
        "tier": ticket.tier,
        "assignee_id": ticket.assignee_id,
        "assignee": str(ticket.assignee) if ticket.assignee_id else "",
        "requester": ticket.requester_name or ticket.requester_email,
        "updated_at": ticket.updated_at.isoformat(),
    }


def _public_summary(ticket: Ticket) -> PublicTicketSummary:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status.key,
        "status_label": ticket.status.customer_label,
        "stage": ticket.stage,
        "updated_at": ticket.updated_at.isoformat(),
    }


# --- emitters (called by services, inside their transaction) ---------------------------


Batch = list[tuple[list[str], Mapping[str, Any]]]


def _ticket_events(
    ticket: Ticket,
    kind: Literal["ticket.created", "ticket.updated", "ticket.assigned", "ticket.merged"],
    changes: list[str] | None,
    previous_audiences: list[str] | None,
    public: bool,
) -> Batch:
    """The staff event of a ticket change and, unless ``public`` is off, its public view."""
    staff: TicketEventPayload = {
        "type": kind, "v": VERSION, "ticket": _summary(ticket), "changes": changes or [],
    }  # fmt: skip
    # A transfer or reassignment must also reach the queues the ticket just left.
    batch: Batch = [(staff_audiences(ticket) + (previous_audiences or []), staff)]
    if public:
        customer: PublicTicketEventPayload = {
            "type": "ticket.created" if kind == "ticket.created" else "ticket.updated",
            "v": VERSION, "ticket": _public_summary(ticket),
        }  # fmt: skip
        batch.append((public_audiences(ticket), customer))
    return batch


def ticket_changed(
    ticket: Ticket,
    kind: Literal["ticket.created", "ticket.updated", "ticket.assigned", "ticket.merged"],
    changes: list[str] | None = None,
    *,
    previous_audiences: list[str] | None = None,
    public: bool = True,
    loaded: bool = False,
) -> None:
    """``loaded``: the caller's ``ticket`` is current, relations included (a ticket it just
    created); otherwise it is read again, as another writer may have changed it."""
    if not loaded:
        ticket = Ticket.objects.select_related("department", "status", "assignee").get(pk=ticket.pk)
    publish_many_on_commit(
        schema_name=connection.schema_name,
        events=_ticket_events(ticket, kind, changes, previous_audiences, public),
    )


def tickets_created(tickets: Sequence[Ticket]) -> None:
    """``ticket.created`` (staff and public) for tickets just made in one batch, relations
    loaded; one INSERT for all their events."""
    batch: Batch = []
    for ticket in tickets:
        batch += _ticket_events(ticket, "ticket.created", None, None, public=True)
    publish_many_on_commit(schema_name=connection.schema_name, events=batch)


def message_created(ticket: Ticket, message: Message) -> None:
    """One event for the agents and, for a public message, one for the customer: the
    customer's carries nothing of the desk (mentions, department, assignee)."""
    shown: MessagePayload = {
        "id": message.pk,
        "kind": message.kind,
        "author_name": message.author_name or message.author_email,
        "from_staff": message.from_staff,
        "body_html": message.body_html,
        "created_at": message.created_at.isoformat(),
    }
    internal = message.kind == MessageKind.INTERNAL
    staff: StaffMessageEventPayload = {
        "type": "message.created",
        "v": VERSION,
        "ticket": ticket.reference,
        "message": {
            **shown,
            "mentions": list(message.mentions) if internal else [],
            "author_id": message.author_id,
        },
        "department_id": ticket.department_id,
        "assignee_id": ticket.assignee_id,
    }
    batch: Batch = [(staff_audiences(ticket), staff)]
    if not internal:
        public: MessageEventPayload = {
            "type": "message.created",
            "v": VERSION,
            "ticket": ticket.reference,
            "message": shown,
        }
        batch.append((public_audiences(ticket), public))
    publish_many_on_commit(schema_name=connection.schema_name, events=batch)
