"""Everything that changes a ticket. Each function is one use case, atomic, and writes the
ticket's history row next to the change. Views, the API and tasks call these; nothing
else writes tickets.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts.models import User
from branding.selectors import brand_get
from helpdesk import events, search
from helpdesk.attachments import CheckedUpload
from helpdesk.models import (
    Attachment,
    Category,
    Channel,
    Department,
    Level,
    Message,
    MessageKind,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketSeen,
    TicketStatus,
    Tier,
)
from helpdesk.priorities import priority_for
from helpdesk.references import new_reference
from helpdesk.services.notifications import (
    email_queue,
    notifications_enqueue,
    notifications_enqueue_many,
    ticket_links,
)
from helpdesk.text import html_to_text, sanitise_html, text_to_html

MAX_BODY = 50_000
MENTION = re.compile(r"@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def status_for_stage(stage: str) -> TicketStatus:
    return TicketStatus.objects.get(category=stage, is_default=True)


def _body(*, text: str = "", html: str = "") -> tuple[str, str]:
    body_html = sanitise_html(html) if html else text_to_html(text)
    body_text = html_to_text(body_html)
    if not body_text.strip():
        raise ValidationError(_("Write a message."), code="empty_body")
    if len(body_text) > MAX_BODY:
        raise ValidationError(
            _("A message has at most %(max)d characters.") % {"max": MAX_BODY}, code="too_long"
        )
    return body_html, body_text


def _event(ticket: Ticket, actor: User | None, kind: str, public: bool = False, **data: Any):
    return TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, data=data, is_public=public
    )


def _attach(ticket: Ticket, message: Message, uploads: Sequence[CheckedUpload]) -> None:
    for upload in uploads:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            token=secrets.token_urlsafe(16),
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
        )
        attachment.file.save(upload.filename, upload.file, save=False)
        attachment.save()


def _language_of(user: User | None, fallback: str) -> str:
    return (user.language if user is not None and user.language else None) or fallback


def _ticket_language(said: str) -> str:
    """The language a new ticket keeps for its requester's emails: the one the channel
    said (a page's, an integration's), else the tenant's default."""
    if said:
        try:
            return translation.get_supported_language_variant(said)
        except LookupError:
            pass
    brand = brand_get()
    return brand.default_language if brand is not None else settings.LANGUAGE_CODE


def _headline(ticket: Ticket) -> str:
    return _headline_of(
        ticket.subject, ticket.reference, ticket.requester_name, ticket.requester_email
    )


def _headline_of(subject: str, reference: str, name: str, email: str) -> str:
    return " ".join([subject, reference, name, email])


@dataclass
class NewTicket:
    """One ticket to open: what a form, an email or an API item says."""

    subject: str
    department: Department
    channel: str
    body_text: str = ""
    body_html: str = ""
    requester: User | None = None
    requester_email: str = ""
    requester_name: str = ""
    category: Category | None = None
    impact: int = Level.LOW
    urgency: int = Level.MEDIUM
    custom_fields: dict[str, Any] | None = None
    created_by: User | None = None
    language: str = ""  # empty: the tenant's default language
    follow_up_of: Ticket | None = None  # a closed request of the same requester


@dataclass
class Opened:
    ticket: Ticket
    message: Message


@dataclass
class _Prepared:
    new: NewTicket
    ticket: Ticket  # unsaved, no reference yet
    html: str
    text: str


def ticket_check(new: NewTicket) -> None:
    """Raise the ValidationError ``ticket_open`` would, without writing anything."""
    _prepare(new, None)


def _prepare(new: NewTicket, status: TicketStatus | None) -> _Prepared:
    """Check one new ticket and build its unsaved row; raises ValidationError."""
    subject = " ".join((new.subject or "").split())
    if not subject:
        raise ValidationError(_("Write a subject."), code="empty_subject")
    if new.category is not None and new.category.department_id != new.department.pk:
        raise ValidationError(_("That category belongs to another department."), code="category")
    html, text = _body(text=new.body_text, html=new.body_html)
    requester, email, name = new.requester, new.requester_email, new.requester_name
    if requester is not None:
        email = requester.email
        name = name or requester.name
    if not email:
        raise ValidationError(_("An email address is required."), code="email")
    _follow_up_check(new, email)
    if status is None:
        return _Prepared(new=new, ticket=Ticket(), html=html, text=text)
    profile = getattr(requester, "customer_profile", None) if requester else None
    ticket = Ticket(
        subject=subject[:200],
        department=new.department,
        category=new.category,
        status=status,
        stage=status.category,
        impact=new.impact,
        urgency=new.urgency,
        priority=priority_for(impact=new.impact, urgency=new.urgency),
        channel=new.channel,
        requester=requester,
        requester_email=email.lower(),
        requester_name=name,
        organisation_id=profile.organisation_id if profile else None,
        custom_fields=new.custom_fields or {},
        language=_ticket_language(new.language),
    )
    return _Prepared(new=new, ticket=ticket, html=html, text=text)


# A tracking code is random: two tickets drawing the same one (~1e-12) break this
# constraint, and the whole write runs again with fresh codes (``_fresh_codes``).
REFERENCE_CONSTRAINT = "helpdesk_ticket_reference_key"
REFERENCE_ATTEMPTS = 5


def _reference_clash(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == REFERENCE_CONSTRAINT


def _fresh_codes(write):
    """Run ``write`` atomically, and again with new tracking codes after a clash.

    The retry is the transaction's (inside an outer one, its savepoint) rather than a
    savepoint around each INSERT: two statements fewer for every ticket, for a clash
    that never comes. The clash is the ticket INSERT, before any file is stored.
    """

    @functools.wraps(write)
    def run(*args, **kwargs):
        for attempt in range(1, REFERENCE_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return write(*args, **kwargs)
            except IntegrityError as error:
                if attempt == REFERENCE_ATTEMPTS or not _reference_clash(error):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    return run


def _follow_up_check(new: NewTicket, email: str) -> None:
    """A follow-up continues a closed request of the same person (its page offers it)."""
    old = new.follow_up_of
    if old is None:
        return
    if old.merged_into_id:  # its conversation goes on in the ticket it was merged into
        raise ValidationError(
            _("That request was merged into another: reply there instead."),
            code="follow_up_merged",
        )
    if old.stage != StatusCategory.CLOSED:
        raise ValidationError(
            _("That request is still open: reply on it instead."), code="follow_up_open"
        )
    same = old.requester_email.lower() == email.lower() or (
        new.requester is not None and old.requester_id == new.requester.pk
    )
    if not same:
        raise ValidationError(
            _("A follow-up comes from the person who made the request."), code="follow_up_requester"
        )


def _follow_up_link(ticket: Ticket, old: Ticket, author: User | None) -> None:
    """The new request and the one it follows up are related tickets on the desk, and
    each history says so (the agents see the earlier conversation one click away)."""
    first, second = sorted([ticket, old], key=lambda t: t.pk)
    TicketLink.objects.get_or_create(from_ticket=first, to_ticket=second)
    _event(ticket, author, "follow_up", other=old.reference)
    _event(old, author, "followed_up", other=ticket.reference)
    events.ticket_changed(old, "ticket.updated", ["links"], public=False)


def _insert_tickets(prepared: Sequence[_Prepared]) -> None:
    """INSERT the rows with fresh tracking codes and their search documents."""
    for item in prepared:
        ticket = item.ticket
        ticket.reference = new_reference()
        # The search document goes in with the row: a second UPDATE would write a
        # new version of the row and of every index on a million-row table.
        ticket.search_document = search.ticket_document_expression(
            headline=_headline(ticket), body=item.text
        )
    if len(prepared) == 1:
        prepared[0].ticket.save(force_insert=True)
    else:
        Ticket.objects.bulk_create([item.ticket for item in prepared])
    for item in prepared:
        # The instance holds the SQL expression: make the field deferred instead, so a
        # later save() writes only the loaded fields and never overwrites the document.
        del item.ticket.search_document


def _first_message(item: _Prepared) -> Message:
    new, ticket = item.new, item.ticket
    author = new.created_by or ticket.requester
    return Message(
        ticket=ticket,
        kind=MessageKind.PUBLIC,
        author=author,
        author_name=(author.name if author else ticket.requester_name),
        author_email=(author.email if author else ticket.requester_email),
        from_staff=bool(new.created_by and new.created_by.is_agent),
        channel=new.channel,
        body_html=item.html,
        body_text=item.text,
    )


@_fresh_codes
def ticket_open(new: NewTicket, *, uploads: Sequence[CheckedUpload] = ()) -> Opened:
    """A new ticket with its first public message, confirmation email queued."""
    item = _prepare(new, status_for_stage(StatusCategory.NEW))
    _insert_tickets([item])
    ticket = item.ticket
    message = _first_message(item)
    message.save(force_insert=True)
    _attach(ticket, message, uploads)
    author = new.created_by or new.requester
    _event(ticket, author, "created", public=True, channel=new.channel)
    if new.follow_up_of is not None:
        _follow_up_link(ticket, new.follow_up_of, author)
    events.ticket_changed(ticket, "ticket.created", loaded=True)
    # Emails are rendered by the worker; the task row commits with the ticket.
    notifications_enqueue(
        kind="created", message=message, language=_language_of(new.requester, ticket.language)
    )
    return Opened(ticket, message)


def ticket_create(
    *,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    department: Department,
    channel: str,
    requester: User | None = None,
    requester_email: str = "",
    requester_name: str = "",
    category: Category | None = None,
    impact: int = Level.LOW,
    urgency: int = Level.MEDIUM,
    custom_fields: dict[str, Any] | None = None,
    uploads: Sequence[CheckedUpload] = (),
    created_by: User | None = None,
    language: str = "",
    follow_up_of: Ticket | None = None,
) -> Ticket:
    """A new ticket with its first public message, confirmation email queued;
    ``follow_up_of``: the requester's closed request it continues."""
    new = NewTicket(
        subject=subject, body_text=body_text, body_html=body_html, department=department,
        channel=channel, requester=requester, requester_email=requester_email,
        requester_name=requester_name, category=category, impact=impact, urgency=urgency,
        custom_fields=custom_fields, created_by=created_by, language=language,
        follow_up_of=follow_up_of,
    )  # fmt: skip
    return ticket_open(new, uploads=uploads).ticket


MAX_BATCH = 100


@_fresh_codes
def tickets_open_many(items: Sequence[NewTicket]) -> list[Opened]:
    """Up to MAX_BATCH tickets in one transaction (an integration's import): all or none.

    The same checks, rows, history, events and emails as ``ticket_open``, written with
    one INSERT per table. A ValidationError names the item: ``{"3": [...]}``.
    """
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError(
            _("Send between 1 and %(max)d tickets.") % {"max": MAX_BATCH}, code="batch_size"
        )
    status = status_for_stage(StatusCategory.NEW)
    # Each requester's organisation comes from their profile: one query for the batch
    # rather than one per ticket (a missing profile is cached as missing).
    prefetch_related_objects([new.requester for new in items if new.requester], "customer_profile")
    prepared, errors = [], {}
    for index, new in enumerate(items):
        try:
            prepared.append(_prepare(new, status))
        except ValidationError as error:
            errors[str(index)] = error.messages
    if errors:
        raise ValidationError(errors, code="invalid_item")
    _insert_tickets(prepared)
    messages = Message.objects.bulk_create([_first_message(item) for item in prepared])
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket=item.ticket,
                actor=item.new.created_by or item.new.requester,
                kind="created",
                data={"channel": item.new.channel},
                is_public=True,
            )
            for item in prepared
        ]
    )
    tickets = [item.ticket for item in prepared]
    events.tickets_created(tickets)
    notifications_enqueue_many(
        kind="created",
        messages=[
            (message, _language_of(item.new.requester, item.ticket.language))
            for item, message in zip(prepared, messages, strict=True)
        ],
    )
    return [Opened(t, m) for t, m in zip(tickets, messages, strict=True)]


def _move_to_stage(
    ticket: Ticket, stage: str, actor: User | None, *, status=None, cascade: bool = True
) -> bool:
    """Give the (locked) ticket a new status and its history row; the caller saves it.

    A master incident that reaches resolved or closed, by whatever path, resolves its
    linked tickets here. ``cascade`` off: the move says nothing about the incident (a
    master closed as a duplicate of another ticket) or the ticket cannot be a master.
    """
    status = status or status_for_stage(stage)
    if ticket.status_id == status.pk:
        return False
    old = ticket.status
    ticket.status = status
    ticket.stage = status.category
    now = timezone.now()
    if status.category == StatusCategory.RESOLVED:
        ticket.resolved_at = now
    elif status.category == StatusCategory.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    _event(
        ticket, actor, "status", public=True,
        old=old.key, new=status.key, old_label=old.customer_label, new_label=status.customer_label,
        old_agent_label=old.agent_label, new_agent_label=status.agent_label,
    )  # fmt: skip
    if cascade and status.category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        _resolve_linked(ticket, actor)
    return True


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User | None,
    body_text: str = "",
    body_html: str = "",
    internal: bool = False,
    uploads: Sequence[CheckedUpload] = (),
    channel: str = Channel.PORTAL,
    set_status: TicketStatus | None = None,
    guest_email: str = "",
) -> Message:
    """A public reply (agent or customer) or an internal note (agents only)."""
    ticket = Ticket.objects.select_for_update().select_related("status").get(pk=ticket.pk)
    from_staff = bool(author and author.is_agent)
    if internal and not from_staff:
        raise PermissionDenied("only agents write internal notes")
    if ticket.stage == StatusCategory.CLOSED and not from_staff:
        raise ValidationError(_("This ticket is closed. Please open a new ticket."), code="closed")
    if ticket.merged_into_id and not from_staff:
        raise ValidationError(_("This ticket was merged into another one."), code="merged")
    html, text = _body(text=body_text, html=body_html)
    mentions = _mentioned_agents(text) if internal else []
    message = Message.objects.create(
        ticket=ticket,
        kind=MessageKind.INTERNAL if internal else MessageKind.PUBLIC,
        author=author,
        author_name=author.name if author else ticket.requester_name,
        author_email=author.email if author else (guest_email or ticket.requester_email),
        from_staff=from_staff,
        channel=channel,
        body_html=html,
        body_text=text,
        mentions=[m.pk for m in mentions],
    )
    _attach(ticket, message, uploads)
    update = ["updated_at"]
    if not internal and from_staff:
        if ticket.first_response_at is None:
            ticket.first_response_at = message.created_at
            update.append("first_response_at")
        target = set_status or (
            status_for_stage(StatusCategory.OPEN) if ticket.stage == StatusCategory.NEW else None
        )
        if target is not None and _move_to_stage(ticket, target.category, author, status=target):
            update += ["status", "stage", "resolved_at", "closed_at"]
    elif internal and set_status is not None:
        if _move_to_stage(ticket, set_status.category, author, status=set_status):
            update += ["status", "stage", "resolved_at", "closed_at"]
    elif not from_staff and ticket.stage in (StatusCategory.PENDING, StatusCategory.RESOLVED):
        # The customer answered (or disagreed with the resolution): back to the agents.
        if _move_to_stage(ticket, StatusCategory.OPEN, author):
            update += ["status", "stage", "resolved_at", "closed_at"]
    ticket.save(update_fields=update)
    search.ticket_document_append(ticket_id=ticket.pk, text=text)
    events.message_created(ticket, message)
    events.ticket_changed(
        ticket, "ticket.updated", ["status"] if "status" in update else ["activity"],
        public="status" in update,
    )  # fmt: skip
    notifications_enqueue(kind="reply", message=message, mentions=[m.pk for m in mentions])
    if not internal and from_staff:
        for linked in ticket.linked_incidents.exclude(stage=StatusCategory.CLOSED):
            _copy_master_reply(linked, message, author)
    return message


def _mentioned_agents(text: str) -> list[User]:
    emails = {m.lower() for m in MENTION.findall(text)}
    if not emails:
        return []
    return [u for u in User.objects.filter(email__in=emails, is_active=True) if u.is_agent]


def _copy_master_reply(linked: Ticket, message: Message, author: User | None) -> None:
    """A public reply on a master incident reaches every linked ticket's requester."""
    copy = Message.objects.create(
        ticket=linked,
        kind=MessageKind.PUBLIC,
        author=author,
        author_name=message.author_name,
        author_email=message.author_email,
        from_staff=True,
        channel=message.channel,
        body_html=message.body_html,
        body_text=message.body_text,
    )
    _event(linked, author, "master_reply", master=message.ticket.reference)
    linked.save(update_fields=["updated_at"])
    events.message_created(linked, copy)
    # As for a reply on the ticket itself: the customer's copy of the message is news
    # enough for them, the queues' activity is the desk's.
    events.ticket_changed(linked, "ticket.updated", ["activity"], public=False)
    notifications_enqueue(kind="reply", message=copy)


def _require_agent(actor: User) -> None:
    if not actor.is_agent:
        raise PermissionDenied("agents only")


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    status: TicketStatus | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    priority: int | None = None,
    category: Category | None | type[Ellipsis] = ...,
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> Ticket:
    """Field changes by an agent; one history row per field that changed."""
    _require_agent(actor)
    ticket = Ticket.objects.select_for_update().select_related("status").get(pk=ticket.pk)
    update: list[str] = []
    if status is not None and _move_to_stage(ticket, status.category, actor, status=status):
        update += ["status", "stage", "resolved_at", "closed_at"]
    if impact is not None or urgency is not None:
        ticket.impact = impact or ticket.impact
        ticket.urgency = urgency or ticket.urgency
        priority = priority or priority_for(impact=ticket.impact, urgency=ticket.urgency)
        update += ["impact", "urgency"]
    if priority is not None and priority != ticket.priority:
        _event(ticket, actor, "priority", old=ticket.priority, new=priority)
        ticket.priority = priority
        update.append("priority")
    if category is not ... and category != ticket.category:
        if category is not None and category.department_id != ticket.department_id:
            raise ValidationError(_("That category belongs to another department."))
        _event(ticket, actor, "category", old=str(ticket.category or ""), new=str(category or ""))
        ticket.category = category
        update.append("category")
    if tags is not None:
        clean = sorted({t.strip().lower()[:50] for t in tags if t.strip()})
        if clean != sorted(ticket.tags):
            _event(ticket, actor, "tags", old=ticket.tags, new=clean)
            ticket.tags = clean
            update.append("tags")
    if custom_fields is not None and custom_fields != ticket.custom_fields:
        _event(ticket, actor, "fields", old=ticket.custom_fields, new=custom_fields)
        ticket.custom_fields = custom_fields
        update.append("custom_fields")
    if update:
        ticket.save(update_fields=[*dict.fromkeys(update), "updated_at"])
        events.ticket_changed(
            ticket, "ticket.updated", sorted(set(update) - {"stage", "resolved_at", "closed_at"}),
            public="status" in update,
        )  # fmt: skip
    return ticket


def _resolve_linked(master: Ticket, actor: User | None) -> None:
    """The master's resolution reaches every report of it still open. A closed master
    resolves them rather than closing them: their requesters may still confirm or reopen.
    """
    status = (
        master.status
        if master.status.category == StatusCategory.RESOLVED
        else status_for_stage(StatusCategory.RESOLVED)
    )
    for linked in master.linked_incidents.select_for_update().exclude(
        stage__in=[StatusCategory.RESOLVED, StatusCategory.CLOSED]
    ):
        # A linked ticket is never a master itself (ticket_link_to_master): no cascade.
        _move_to_stage(linked, StatusCategory.RESOLVED, actor, status=status, cascade=False)
        linked.save(update_fields=["status", "stage", "resolved_at", "closed_at", "updated_at"])
        events.ticket_changed(linked, "ticket.updated", ["status"])


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    _require_agent(actor)
    if assignee is not None and not assignee.is_agent:
        raise ValidationError(_("Tickets can only be assigned to agents."), code="assignee")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    _event(
        ticket, actor, "assigned",
        old=ticket.assignee_id, new=assignee.pk if assignee else None,
        new_name=str(assignee) if assignee else "",
    )  # fmt: skip
    previous = [f"user.{ticket.assignee_id}"] if ticket.assignee_id else []
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    events.ticket_changed(
        ticket, "ticket.assigned", ["assignee"], previous_audiences=previous, public=False
    )
    if assignee is not None and assignee != actor:
        email_queue(
            dedupe_key=f"assigned:{ticket.pk}:{assignee.pk}:{timezone.now().timestamp()}",
            to=assignee.email,
            template="assigned",
            context={"ticket": ticket, "agent": assignee, "actor": actor, **ticket_links(ticket)},
            language=_language_of(assignee, "en"),
        )
    return ticket


@transaction.atomic
def ticket_transfer(
    *, ticket: Ticket, actor: User, department: Department, reason: str = ""
) -> Ticket:
    """Move the ticket, its whole conversation and history, to another department."""
    _require_agent(actor)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.department_id == department.pk:
        return ticket
    _event(
        ticket, actor, "transferred",
        old=ticket.department.name, new=department.name, reason=reason,
    )  # fmt: skip
    previous = [f"dept.{ticket.department_id}"]
    if ticket.assignee_id:
        previous.append(f"user.{ticket.assignee_id}")
    ticket.department = department
    ticket.category = None
    ticket.assignee = None
    ticket.save(update_fields=["department", "category", "assignee", "updated_at"])
    events.ticket_changed(
        ticket, "ticket.updated", ["department", "assignee"], previous_audiences=previous,
        public=False,
    )  # fmt: skip
    if reason:
        ticket_reply(ticket=ticket, author=actor, body_text=reason, internal=True)
    return ticket


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, actor: User, reason: str) -> Ticket:
    """Tier 1 -> tier 2 within the department, with the reason as an internal note."""
    _require_agent(actor)
    if not reason.strip():
        raise ValidationError(_("Say why you are escalating."), code="reason")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.tier == Tier.L2:
        raise ValidationError(_("This ticket is already at tier 2."), code="tier")
    previous = [f"user.{ticket.assignee_id}"] if ticket.assignee_id else []
    ticket.tier = Tier.L2
    ticket.assignee = None
    ticket.save(update_fields=["tier", "assignee", "updated_at"])
    events.ticket_changed(
        ticket, "ticket.updated", ["tier", "assignee"], previous_audiences=previous, public=False
    )
    _event(ticket, actor, "escalated", old=Tier.L1, new=Tier.L2, reason=reason)
    note = ticket_reply(ticket=ticket, author=actor, body_text=reason, internal=True)
    # The department's tier-2 agents hear of it by email, the note being the reason.
    notifications_enqueue(kind="escalated", message=note)
    return ticket


def _same_requester(first: Ticket, second: Ticket) -> bool:
    if first.requester_id and second.requester_id:
        return first.requester_id == second.requester_id
    # A guest is known by the address (and an account's address is a verified one).
    return first.requester_email.lower() == second.requester_email.lower()


QUOTE_BUDGET = 20_000  # characters of the duplicate quoted in the target's note


def _merge_note_html(source: Ticket) -> str:
    """The internal note that brings another requester's duplicate to the agents' eyes
    on the target: a link to it and a quote of its public conversation (trimmed)."""
    link = f'<a href="/desk/tickets/{escape(source.reference)}/">{escape(source.reference)}</a>'
    intro = _(
        "Merged from %(code)s, a request by %(requester)s. Its conversation stays on that "
        "ticket, out of this requester's sight."
    ) % {"code": link, "requester": escape(source.requester_name or source.requester_email)}
    parts, budget = [f"<p>{intro}</p>"], QUOTE_BUDGET
    for message in source.messages.filter(kind=MessageKind.PUBLIC):
        if budget <= 0:
            parts.append("<p>…</p>")
            break
        text = message.body_text[:budget]
        budget -= len(text)
        author = escape(message.author_name or message.author_email)
        when = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f"<blockquote><p><strong>{author}</strong> ({when})</p>")
        parts.append(text_to_html(text) + "</blockquote>")
    return "".join(parts)


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Fold a duplicate into ``target``: it is closed and points there.

    One requester's conversation never enters another's: a duplicate from the same
    requester moves its messages over, one from someone else keeps them, and the target
    gets an internal note quoting it. The duplicate's requester is told where it went.
    """
    _require_agent(actor)
    if source.pk == target.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."), code="self")
    source, target = (
        Ticket.objects.select_for_update().get(pk=source.pk),
        Ticket.objects.select_for_update().get(pk=target.pk),
    )
    if target.merged_into_id:
        raise ValidationError(
            _("That ticket was already merged into another one."), code="target_merged"
        )
    texts = list(source.messages.values_list("body_text", flat=True))
    note = None
    if _same_requester(source, target):
        source.messages.update(ticket=target)
        source.attachments.update(ticket=target)
    else:
        html, text = _body(html=_merge_note_html(source))
        note = Message.objects.create(
            ticket=target, kind=MessageKind.INTERNAL, author=actor, author_name=actor.name,
            author_email=actor.email, from_staff=True, channel=Channel.AGENT,
            body_html=html, body_text=text,
        )  # fmt: skip
    source.merged_into = target
    # Closed as a duplicate, not solved: a master's reports stay as they are.
    _move_to_stage(source, StatusCategory.CLOSED, actor, cascade=False)
    source.save(
        update_fields=["merged_into", "status", "stage", "resolved_at", "closed_at", "updated_at"]
    )
    with translation.override(_language_of(source.requester, source.language)):
        notice_text = _("This request was merged into %(code)s.") % {"code": target.reference}
    notice = Message.objects.create(
        ticket=source, kind=MessageKind.PUBLIC, author=actor, author_name=actor.name,
        author_email=actor.email, from_staff=True, channel=Channel.AGENT,
        body_html=text_to_html(notice_text), body_text=notice_text,
    )  # fmt: skip
    _event(source, actor, "merged_into", target=target.reference)
    _event(target, actor, "merged_from", source=source.reference, requester=source.requester_email)
    target.save(update_fields=["updated_at"])
    events.message_created(source, notice)
    events.ticket_changed(source, "ticket.merged", ["merged_into"])
    if note is not None:
        events.message_created(target, note)
    events.ticket_changed(target, "ticket.updated", ["messages"], public=False)
    # Agents search the target for the duplicate's words (the search is the desk's only).
    search.ticket_document_append(
        ticket_id=target.pk, text=" ".join([source.subject, source.reference, *texts])
    )
    notifications_enqueue(kind="reply", message=notice)
    return target


@transaction.atomic
def ticket_link_to_master(*, ticket: Ticket, master: Ticket | None, actor: User) -> Ticket:
    """Make ``ticket`` one report of the ``master`` incident (or unlink it with None)."""
    _require_agent(actor)
    if master is not None and master.pk == ticket.pk:
        raise ValidationError(_("A ticket cannot be its own master incident."))
    if master is not None and master.master_id:
        raise ValidationError(_("That ticket is itself linked to a master incident."))
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.linked_incidents.exists():
        raise ValidationError(_("A master incident cannot be linked to another one."))
    previous_master_id = ticket.master_id
    ticket.master = master
    ticket.save(update_fields=["master", "updated_at"])
    _event(ticket, actor, "master", master=master.reference if master else None)
    events.ticket_changed(ticket, "ticket.updated", ["master"], public=False)
    # The masters' pages list their reports. Their rows are not written (that would lock
    # a master after its report, the reverse of a master reply): only the desk is told.
    for master_id in dict.fromkeys([previous_master_id, master.pk if master else None]):
        if master_id is not None:
            events.ticket_changed(
                Ticket(pk=master_id), "ticket.updated", ["linked_incidents"], public=False
            )
    return ticket


@transaction.atomic
def ticket_link_related(*, ticket: Ticket, other: Ticket, actor: User) -> TicketLink:
    """Mark two tickets as related (both pages show the link)."""
    _require_agent(actor)
    if ticket.pk == other.pk:
        raise ValidationError(_("A ticket cannot be linked to itself."), code="self")
    first, second = sorted([ticket, other], key=lambda t: t.pk)
    link, created = TicketLink.objects.get_or_create(from_ticket=first, to_ticket=second)
    if created:
        _event(ticket, actor, "linked", other=other.reference)
        _event(other, actor, "linked", other=ticket.reference)
        # Staff only, and neither row is written: a link is no news in the queues.
        events.ticket_changed(ticket, "ticket.updated", ["links"], public=False)
        events.ticket_changed(other, "ticket.updated", ["links"], public=False)
    return link


@transaction.atomic
def ticket_customer_resolve(*, ticket: Ticket, actor: User | None) -> Ticket:
    """The customer confirms the answer solved it."""
    ticket = Ticket.objects.select_for_update().select_related("status").get(pk=ticket.pk)
    if ticket.stage in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        return ticket
    _move_to_stage(ticket, StatusCategory.RESOLVED, actor)
    ticket.save(update_fields=["status", "stage", "resolved_at", "closed_at", "updated_at"])
    events.ticket_changed(ticket, "ticket.updated", ["status"])
    return ticket


@transaction.atomic
def ticket_customer_reopen(*, ticket: Ticket, actor: User | None) -> Ticket:
    ticket = Ticket.objects.select_for_update().select_related("status").get(pk=ticket.pk)
    if ticket.stage == StatusCategory.CLOSED:
        raise ValidationError(_("This ticket is closed. Please open a new ticket."), code="closed")
    if ticket.stage != StatusCategory.RESOLVED:
        return ticket
    _move_to_stage(ticket, StatusCategory.OPEN, actor)
    ticket.save(update_fields=["status", "stage", "resolved_at", "closed_at", "updated_at"])
    events.ticket_changed(ticket, "ticket.updated", ["status"])
    return ticket


def tickets_mark_seen(
    *, user: User, tickets: Sequence[Ticket], as_of: dt.datetime | None = None
) -> None:
    """``user`` has now seen ``tickets`` as they were read (their ``updated_at``): the queue
    stops marking them until they change again. A change that commits after the read
    keeps its mark; a mark never moves back. One statement whatever the number.

    ``as_of``: the change the user saw, when it is older than the row read now (a live
    page reports the last change it showed); never later than the row's own.
    """
    if not tickets:
        return
    seen = [t.updated_at if as_of is None else min(as_of, t.updated_at) for t in tickets]
    table = connection.ops.quote_name(TicketSeen._meta.db_table)

    def upsert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, ticket_id, seen_at)"
                " SELECT %s, t.id, t.seen"
                " FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, seen)"
                " ON CONFLICT (user_id, ticket_id) DO UPDATE"
                " SET seen_at = EXCLUDED.seen_at"
                # A mark never moves back, and an unchanged one writes no new row version.
                f" WHERE EXCLUDED.seen_at > {table}.seen_at",
                [user.pk, [t.pk for t in tickets], seen],
            )

    if connection.in_atomic_block:  # part of the caller's change, as durable as it is
        upsert()
        return
    with transaction.atomic():
        # On its own (a page view) it need not wait for the disk: a crash that loses the
        # last marks only shows those tickets as changed again.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        upsert()
