"""Reads for pages and the API, with their joins spelled out."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from helpdesk.access import tickets_visible_to
from helpdesk.models import (
    ACTIVE_CATEGORIES,
    Attachment,
    Department,
    Message,
    MessageKind,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketLink,
)
from helpdesk.search import tsquery_for

PAGE_SIZE = 50
SORTS = {
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-priority": ("-priority", "-updated_at", "-id"),
}
QUEUES = ("mine", "unassigned", "open", "waiting", "all", "resolved")


@dataclass
class TicketFilters:
    queue: str = "open"
    stages: list[str] = field(default_factory=list)
    priorities: list[int] = field(default_factory=list)
    department_id: int | None = None
    category_id: int | None = None
    assignee_id: int | None = None
    requester: str = ""
    organisation_id: int | None = None
    tag: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    q: str = ""
    sort: str = "-updated"
    cursor: str = ""


@dataclass
class TicketPage:
    tickets: list[Ticket]
    next_cursor: str | None


def _queue_filter(queue: str, user: User) -> Q:
    active = Q(stage__in=ACTIVE_CATEGORIES)
    if queue == "mine":
        return active & Q(assignee=user)
    if queue == "unassigned":
        return active & Q(assignee__isnull=True) & Q(department__members__user=user)
    if queue == "waiting":
        return Q(stage=StatusCategory.PENDING)
    if queue == "resolved":
        return Q(stage__in=[StatusCategory.RESOLVED, StatusCategory.CLOSED])
    if queue == "all":
        return Q()
    return active


def _cursor_values(ticket: Ticket, sort: str) -> list:
    values = []
    for key in SORTS[sort]:
        value = getattr(ticket, key.lstrip("-").replace("updated_at", "updated_at"))
        values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    return values


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(SORTS[sort]):
        return None
    keys = SORTS[sort]
    parsed = []
    for key, value in zip(keys, values, strict=True):
        name = key.lstrip("-")
        try:
            parsed.append(dt.datetime.fromisoformat(value) if name.endswith("_at") else int(value))
        except (TypeError, ValueError):
            return None
    return parsed


def _after_cursor(values: list, sort: str) -> Q:
    """Rows strictly after ``values`` in the sort order (keyset pagination)."""
    keys = SORTS[sort]
    condition = Q(pk__in=[])
    for i, key in enumerate(keys):
        name = key.lstrip("-")
        op = "lt" if key.startswith("-") else "gt"
        term = Q(**{f"{name}__{op}": values[i]})
        for j in range(i):
            term &= Q(**{keys[j].lstrip("-"): values[j]})
        condition |= term
    return condition


def desk_tickets(*, user: User, filters: TicketFilters) -> TicketPage:
    sort = filters.sort if filters.sort in SORTS else "-updated"
    query = Ticket.objects.filter(merged_into__isnull=True)
    query = query.filter(_queue_filter(filters.queue, user))
    if filters.stages:
        query = query.filter(stage__in=filters.stages)
    if filters.priorities:
        query = query.filter(priority__in=filters.priorities)
    if filters.department_id:
        query = query.filter(department_id=filters.department_id)
    if filters.category_id:
        query = query.filter(category_id=filters.category_id)
    if filters.assignee_id:
        query = query.filter(assignee_id=filters.assignee_id)
    if filters.requester:
        query = query.filter(requester_email__iexact=filters.requester.strip())
    if filters.organisation_id:
        query = query.filter(organisation_id=filters.organisation_id)
    if filters.tag:
        query = query.filter(tags__contains=[filters.tag.strip().lower()])
    if filters.created_from:
        query = query.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        query = query.filter(created_at__date__lte=filters.created_to)
    if filters.q:
        tsquery = tsquery_for(filters.q)
        if tsquery is None:
            return TicketPage([], None)
        query = query.filter(
            RawSQL("search_document @@ %s::tsquery", [tsquery], output_field=BooleanField())
        )
    query = tickets_visible_to(user, query)
    if filters.cursor:
        values = _decode_cursor(filters.cursor, sort)
        if values is not None:
            query = query.filter(_after_cursor(values, sort))
    rows = list(
        query.select_related("department", "status", "assignee", "category")
        .only(
            "id",
            "reference",
            "subject",
            "stage",
            "priority",
            "tier",
            "requester_name",
            "requester_email",
            "created_at",
            "updated_at",
            "tags",
            "department__name",
            "status__agent_label",
            "status__key",
            "assignee__name",
            "assignee__email",
            "category__name",
        )  # fmt: skip
        .order_by(*SORTS[sort])[: PAGE_SIZE + 1]
    )
    next_cursor = (
        _encode_cursor(_cursor_values(rows[PAGE_SIZE - 1], sort)) if len(rows) > PAGE_SIZE else None
    )
    return TicketPage(rows[:PAGE_SIZE], next_cursor)


def queue_counts(*, user: User) -> dict[str, int]:
    counts = {}
    for queue in ("mine", "unassigned", "open", "waiting"):
        counts[queue] = tickets_visible_to(
            user, Ticket.objects.filter(merged_into__isnull=True).filter(_queue_filter(queue, user))
        ).count()
    return counts


def customer_tickets(*, user: User) -> QuerySet[Ticket]:
    return (
        tickets_visible_to(user)
        .filter(merged_into__isnull=True)
        .select_related("status", "department")
        .order_by("-updated_at", "-id")
    )


def ticket_conversation(*, ticket: Ticket, include_internal: bool) -> list[Message]:
    messages = ticket.messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if not include_internal:
        messages = messages.filter(kind=MessageKind.PUBLIC)
    return list(messages)


def ticket_timeline(*, ticket: Ticket, include_internal: bool) -> list[TicketEvent]:
    events = ticket.events.select_related("actor")
    if not include_internal:
        events = events.filter(is_public=True)
    return list(events)


def requester_history(*, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    if not ticket.requester_email:
        return []
    return list(
        Ticket.objects.filter(requester_email=ticket.requester_email)
        .exclude(pk=ticket.pk)
        .select_related("status")
        .only("reference", "subject", "stage", "created_at", "status__agent_label")
        .order_by("-created_at")[:limit]
    )


def related_tickets(*, ticket: Ticket) -> list[Ticket]:
    ids = TicketLink.objects.filter(Q(from_ticket=ticket) | Q(to_ticket=ticket)).values_list(
        "from_ticket_id", "to_ticket_id"
    )
    other_ids = {a if b == ticket.pk else b for a, b in ids}
    return list(
        Ticket.objects.filter(pk__in=other_ids)
        .select_related("status")
        .only("reference", "subject", "status__agent_label")
    )


def departments_for_agent(*, user: User) -> QuerySet[Department]:
    if user.is_manager:
        return Department.objects.all()
    return Department.objects.filter(members__user=user).distinct()
