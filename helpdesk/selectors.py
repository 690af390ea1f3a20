"""Reads for pages and the API, with their joins spelled out."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import BooleanField, F, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import User
from helpdesk.access import agent_department_ids, tickets_visible_to, visibility_branches
from helpdesk.models import (
    ACTIVE_CATEGORIES,
    Attachment,
    Category,
    Department,
    Message,
    MessageKind,
    Organisation,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketSeen,
)
from helpdesk.search import tsquery_for
from helpdesk.text import name_key, tokenize

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


def _departments_of(user: User) -> list[int] | None:
    """The agent's department ids, read once per selector; None when not needed."""
    return agent_department_ids(user) if user.is_agent and not user.is_manager else None


def _queue_filter(queue: str, user: User, departments: list[int] | None = None) -> Q:
    active = Q(stage__in=ACTIVE_CATEGORIES)
    if queue == "mine":
        return active & Q(assignee=user)
    if queue == "unassigned":
        if departments is None:
            departments = agent_department_ids(user)
        return active & Q(assignee__isnull=True) & Q(department_id__in=departments)
    if queue == "waiting":
        return Q(stage=StatusCategory.PENDING)
    if queue == "resolved":
        return Q(stage__in=[StatusCategory.RESOLVED, StatusCategory.CLOSED])
    if queue == "all":
        return Q()
    return active


def _queue_within_visibility(queue: str, user: User) -> bool:
    """Whether ``_queue_filter(queue, user)`` alone keeps to tickets ``user`` may see: an
    agent's own tickets and the unassigned ones of their departments are each one branch
    of ``visibility_branches``. ANDing the whole ``department OR assignee`` filter on top
    changed nothing but the plan: a bitmap OR over every active ticket of the department,
    sorted (31 ms for an agent's unassigned queue on 1M tickets, against a walk down the
    department's index)."""
    return user.is_agent and not user.is_manager and queue in ("mine", "unassigned")


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


LIST_FIELDS = (
    "id", "reference", "subject", "stage", "priority", "tier", "requester_name",
    "requester_email", "created_at", "updated_at", "tags", "department__name",
    "status__agent_label", "status__key", "assignee__name", "assignee__email", "category__name",
)  # fmt: skip
# What the API's ticket list shows besides: read with the rows, not one query per ticket.
API_LIST_FIELDS = (
    *LIST_FIELDS, "channel", "custom_fields", "first_response_at", "resolved_at",
    "department__slug", "department__is_public", "status__customer_label",
)  # fmt: skip
# Matches above which a word counts as common (see _newest_matches_first).
COMMON_WORD_MATCHES = 3000


def _newest_matches_first(query: QuerySet[Ticket], *, before: dt.datetime | None) -> list[Ticket]:
    """The newest PAGE_SIZE + 1 matches of a full-text query, whatever the word's frequency.

    PostgreSQL has two ways and often picks the wrong one at a million tickets: walk the
    updated_at index newest first and test each row (fast for a common word, whose matches
    are dense: 310 ms the other way), or let the GIN index find every match and sort them
    (fast for a rare word: 1.2 s the other way). The planner's own estimate of the matches
    decides (ANALYZE keeps lexeme frequencies for tsvector columns): counting them instead
    built the whole GIN bitmap of a common word, 35-90 ms, before the page's query ran.
    """
    if _estimated_rows(query) >= COMMON_WORD_MATCHES:
        return list(query[: PAGE_SIZE + 1])
    # Sorting by an expression keeps the planner off the updated_at index.
    unindexed_order = (Coalesce("updated_at", "created_at").desc(), "-id")
    return list(query.order_by(*unindexed_order)[: PAGE_SIZE + 1])


def _estimated_rows(query: QuerySet) -> float:
    """The planner's estimate of the rows ``query`` matches (EXPLAIN, nothing executed)."""
    sql, params = query.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _customer_matches(query: QuerySet[Ticket], *, user: User, tsquery: str) -> QuerySet[Ticket]:
    """``query`` narrowed to the tickets whose subject, tracking code or public messages
    match: what a customer may see of them, never an internal note.

    The ticket's search document holds every message, notes included, so it is not used
    here: the few tickets a customer sees are read with their public messages, tokenised
    as the document is (same Persian/Arabic folding) and matched by PostgreSQL against
    the same tsquery the desk's search uses.
    """
    candidates = tickets_visible_to(user, query).order_by()
    words = {
        pk: tokenize(f"{subject} {reference}")
        for pk, subject, reference in candidates.values_list("pk", "subject", "reference")
    }
    if not words:
        return query.none()
    public = Message.objects.filter(ticket_id__in=list(words), kind=MessageKind.PUBLIC)
    for ticket_id, text in public.values_list("ticket_id", "body_text"):
        words[ticket_id] += tokenize(text)
    # Tokens hold no spaces: each ticket's words travel as one string.
    return query.filter(
        pk__in=RawSQL(
            "SELECT d.id FROM unnest(%s::bigint[], %s::text[]) AS d(id, words)"
            " WHERE array_to_tsvector(string_to_array(d.words, ' ')) @@ %s::tsquery",
            [list(words), [" ".join(tokens) for tokens in words.values()], tsquery],
        )
    )


def desk_tickets(
    *, user: User, filters: TicketFilters, fields: Sequence[str] = LIST_FIELDS
) -> TicketPage:
    """A page of the tickets ``user`` may see; ``fields``: the columns read."""
    sort = filters.sort if filters.sort in SORTS else "-updated"
    departments = _departments_of(user)
    query = Ticket.objects.filter(merged_into__isnull=True)
    query = query.filter(_queue_filter(filters.queue, user, departments))
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
        # Stored lower-cased; an exact match can use the requester-email index.
        query = query.filter(requester_email=filters.requester.strip().lower())
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
        if user.is_agent:
            query = query.filter(
                RawSQL("search_document @@ %s::tsquery", [tsquery], output_field=BooleanField())
            )
        else:
            query = _customer_matches(query, user=user, tsquery=tsquery)
    if not _queue_within_visibility(filters.queue, user):
        query = tickets_visible_to(user, query, departments=departments)
    cursor_values = _decode_cursor(filters.cursor, sort) if filters.cursor else None
    if cursor_values is not None:
        query = query.filter(_after_cursor(cursor_values, sort))
    query = (
        query.select_related("department", "status", "assignee", "category")
        .only(*fields)
        .order_by(*SORTS[sort])
    )
    if filters.q and sort == "-updated" and user.is_agent:
        rows = _newest_matches_first(query, before=cursor_values[0] if cursor_values else None)
    else:
        rows = list(query[: PAGE_SIZE + 1])
    next_cursor = (
        _encode_cursor(_cursor_values(rows[PAGE_SIZE - 1], sort)) if len(rows) > PAGE_SIZE else None
    )
    return TicketPage(rows[:PAGE_SIZE], next_cursor)


# A badge reads "99+" past this: exact figures for the queues people empty, and no
# counting of 150,000 open tickets (each counted row is an index entry and, on the
# recently changed pages open tickets live on, a heap visit).
COUNT_CAP = 100


def queue_counts(*, user: User) -> dict[str, str]:
    """Tickets per queue, counted up to COUNT_CAP ("99+" past it): a badge needs no exact
    figure, and counting 150,000 open tickets on every page view would cost more than the
    page itself.

    An agent sees their departments' tickets or their own: each part is counted up to the
    cap on its own index and the parts' union is counted (at most 2 x COUNT_CAP ids, the
    same capped figure). Counting through the OR walked one index past every other
    department's tickets: 10-14 ms for an agent of a later department, on 1M tickets.
    """
    queues = ("mine", "unassigned", "open", "waiting")
    departments = _departments_of(user)
    branches = visibility_branches(user, departments=departments) or [Q()]
    parts, params = [], []
    for queue in queues:
        base = Ticket.objects.filter(merged_into__isnull=True).filter(
            _queue_filter(queue, user, departments)
        )
        selects = []
        for branch in branches:
            try:
                sql, query_params = (
                    base.filter(branch).order_by().values("pk")[:COUNT_CAP].query.sql_with_params()
                )
            except EmptyResultSet:  # e.g. "unassigned in my departments" with no department
                continue
            selects.append(f"({sql})")
            params.extend(query_params)
        parts.append(f"(SELECT count(*) FROM ({' UNION '.join(selects)}) AS q)" if selects else "0")
    with connection.cursor() as cursor:  # every queue's capped count, one round trip
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return {
        queue: f"{COUNT_CAP - 1}+" if n >= COUNT_CAP else str(n)
        for queue, n in zip(queues, found, strict=True)
    }


def tickets_unseen(*, user: User, tickets: list[Ticket]) -> set[int]:
    """Which of ``tickets`` changed since ``user`` last opened them, or were never opened
    by them (one query for a queue page)."""
    seen = dict(
        TicketSeen.objects.filter(user=user, ticket__in=tickets).values_list("ticket_id", "seen_at")
    )
    return {
        ticket.pk
        for ticket in tickets
        if (seen_at := seen.get(ticket.pk)) is None or ticket.updated_at > seen_at
    }


def customer_tickets(*, user: User) -> QuerySet[Ticket]:
    """A customer's list. A request merged into another of the same requester is left
    out (its conversation moved there); one merged into someone else's stays, as its
    conversation and the "merged into" notice stayed on it."""
    return (
        tickets_visible_to(user)
        .exclude(merged_into__isnull=False, merged_into__requester_email=F("requester_email"))
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


def requester_history(*, ticket: Ticket, limit: int = 10, user: User | None = None) -> list[Ticket]:
    """The requester's other tickets; with ``user``, only those ``user`` may see."""
    if not ticket.requester_email:
        return []
    tickets = Ticket.objects.all() if user is None else tickets_visible_to(user)
    return list(
        tickets.filter(requester_email=ticket.requester_email)  # indexed
        .exclude(pk=ticket.pk)
        .select_related("status")
        .only("reference", "subject", "stage", "created_at", "status__agent_label")
        .order_by("-created_at")[:limit]
    )


def public_replies_since(*, ticket: Ticket, message_id: int, exclude: User) -> list[Message]:
    return list(
        ticket.messages.filter(pk__gt=message_id, kind=MessageKind.PUBLIC)
        .exclude(author=exclude)
        .only("author_name", "author_email")
    )


def related_tickets(*, ticket: Ticket, user: User | None = None) -> list[Ticket]:
    """Tickets linked to ``ticket``; with ``user``, only those ``user`` may see."""
    ids = TicketLink.objects.filter(Q(from_ticket=ticket) | Q(to_ticket=ticket)).values_list(
        "from_ticket_id", "to_ticket_id"
    )
    other_ids = {a if b == ticket.pk else b for a, b in ids}
    tickets = Ticket.objects.all() if user is None else tickets_visible_to(user)
    return list(
        tickets.filter(pk__in=other_ids)
        .select_related("status")
        .only("reference", "subject", "status__agent_label")
    )


def departments_for_agent(*, user: User) -> QuerySet[Department]:
    if user.is_manager:
        return Department.objects.all()
    return Department.objects.filter(members__user=user).distinct()


def categories_by_department(
    *, departments: Sequence[Department]
) -> list[tuple[str, list[tuple[int, str]]]]:
    """(department name, [(category id, name)]) for ``departments``, in their order:
    the desk's category filter offers the categories of the agent's own departments."""
    grouped: dict[int, list[tuple[int, str]]] = {d.pk: [] for d in departments}
    rows = Category.objects.filter(department_id__in=list(grouped)).values_list(
        "pk", "name", "department_id"
    )
    for pk, name, department_id in rows:  # in the model's order: position, name
        grouped[department_id].append((pk, name))
    return [(d.name, grouped[d.pk]) for d in departments if grouped[d.pk]]


def organisation_choices(*, limit: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the tenant's organisations by name, the first ``limit`` of them, for
    the desk's filter."""
    return list(Organisation.objects.order_by("name", "pk").values_list("pk", "name")[:limit])


def organisation_get(*, organisation_id: int) -> tuple[int, str] | None:
    """(id, name) of one organisation, or None."""
    return Organisation.objects.filter(pk=organisation_id).values_list("pk", "name").first()


ORGANISATION_SUGGESTIONS = 20


def organisation_suggestions(
    *, text: str, limit: int = ORGANISATION_SUGGESTIONS
) -> list[tuple[int, str]]:
    """(id, name) of the first ``limit`` organisations by name whose name contains
    ``text``, both folded by name_key: found whichever keyboard typed either (ی/ي, ک/ك,
    ZWNJ, digits of three scripts), whatever the case."""
    return _organisations_by_key(name_key(text), whole=False, limit=limit)


def organisations_named(*, name: str, limit: int = 2) -> list[tuple[int, str]]:
    """(id, name) of the first ``limit`` organisations whose whole name folds to what
    ``name`` does (see organisation_suggestions): two say the name is ambiguous."""
    return _organisations_by_key(name_key(name), whole=True, limit=limit)


def organisation_resolve(*, name: str, picked: tuple[int, str] | None = None) -> tuple[int, str]:
    """(id, name) of the organisation a typed ``name`` means: ``picked`` (a suggestion
    chosen, even among namesakes) while the name still folds to its name, else the one
    organisation whose name folds to it. ValidationError, translated, for none or several."""
    if picked is not None and name_key(picked[1]) == name_key(name):
        return picked
    named = organisations_named(name=name)
    if len(named) == 1:
        return named[0]
    message = (
        _("More than one organisation is called “%(name)s”.")
        if named
        else _("No organisation is called “%(name)s”.")
    )
    raise ValidationError(message % {"name": name}, code="organisation_name")


def _organisations_by_key(key: str, *, whole: bool, limit: int) -> list[tuple[int, str]]:
    """Organisations whose folded name (``Organisation.name_key``) contains ``key``
    (``whole``: is ``key``), by name."""
    if not key or "\x00" in key:  # PostgreSQL text holds no NUL: no name has one
        return []
    found = (
        Organisation.objects.filter(name_key=key)
        if whole
        else (Organisation.objects.filter(name_key__contains=key))
    )
    return list(found.order_by("name", "pk").values_list("pk", "name")[:limit])
