"""Emails the helpdesk sends, queued in the outbox inside the caller's transaction.

The send task is enqueued in the same transaction (the task queue is a table in the same
database), so a committed reply always has its email queued, and a rolled-back one never
has.
"""

from __future__ import annotations

from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User
from branding.selectors import brand_get
from helpdesk.models import DepartmentMember, Message, MessageKind, OutboundEmail, Ticket, Tier
from tenants.urls_helpers import current_tenant_url


def email_queue(
    *,
    dedupe_key: str,
    to: str,
    template: str,
    context: dict,
    language: str = "en",
) -> OutboundEmail | None:
    """Render ``helpdesk/email/<template>.{subject,txt,html}`` in ``language`` and queue it.

    Returns None when an email with the same ``dedupe_key`` was queued before.
    """
    from helpdesk.tasks import email_send

    if not to:
        return None
    context = {"brand": brand_get(), **context}  # the tenant's name, header, signature
    with translation.override(language):
        subject = " ".join(render_to_string(f"helpdesk/email/{template}.subject", context).split())
        body_text = render_to_string(f"helpdesk/email/{template}.txt", context)
        body_html = render_to_string(
            f"helpdesk/email/{template}.html",
            {
                **context,
                "LANGUAGE_CODE": language,
                "LANGUAGE_BIDI": translation.get_language_bidi(),
            },
        )
    email, created = OutboundEmail.objects.get_or_create(
        dedupe_key=dedupe_key[:120],
        defaults={
            "to": to,
            "subject": subject[:250],
            "body_text": body_text,
            "body_html": body_html,
            "language": language,
        },
    )
    if not created:
        return None
    email_send.enqueue(schema_name=connection.schema_name, email_id=email.pk)
    return email


def ticket_links(ticket: Ticket) -> dict[str, str]:
    from helpdesk.access import guest_ticket_token

    return {
        "portal_url": current_tenant_url(f"/tickets/{ticket.reference}/"),
        "guest_url": current_tenant_url(f"/t/{guest_ticket_token(ticket)}/"),
        "desk_url": current_tenant_url(f"/desk/tickets/{ticket.reference}/"),
    }


def notifications_enqueue(
    *, kind: str, message: Message, mentions: list[int] | None = None, language: str = "en"
) -> None:
    """Queue the emails a new ticket or message causes, for the worker to render and send.

    Called inside the service's transaction: the task row commits with the change, so the
    emails are never lost, and rendering them costs the request nothing.
    """
    from helpdesk.tasks import notifications_send

    notifications_send.enqueue(
        schema_name=connection.schema_name,
        kind=kind,
        message_id=message.pk,
        mentions=mentions or [],
        language=language,
    )


def notifications_enqueue_many(*, kind: str, messages: list[tuple[Message, str]]) -> None:
    """``notifications_enqueue`` for several messages without mentions, as one task row
    ((message, language) pairs)."""
    from helpdesk.tasks import notifications_send_batch

    if messages:
        notifications_send_batch.enqueue(
            schema_name=connection.schema_name,
            kind=kind,
            items=[[message.pk, language] for message, language in messages],
        )


def _language_of(user: User | None, fallback: str) -> str:
    return (user.language if user is not None and user.language else None) or fallback


def _department_agents(department_id: int, *, tier: int | None = None) -> list[User]:
    members = DepartmentMember.objects.filter(department_id=department_id, user__is_active=True)
    if tier is not None:
        members = members.filter(tier=tier)
    return [member.user for member in members.select_related("user").order_by("user_id")]


def notifications_render(*, kind: str, message_id: int, mentions: list[int], language: str):
    """Write the outbox rows for a new ticket (``created``), a message (``reply``) or an
    escalation to tier 2 (``escalated``, ``message`` being the note with the reason).

    Idempotent: each email's dedupe key names the message and the recipient. The
    requester's emails are in their account's language, else the ticket's (a guest's).
    """
    message = (
        Message.objects.select_related(
            "ticket__requester", "ticket__assignee", "ticket__department"
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    ticket = message.ticket
    links = ticket_links(ticket)
    about = {"ticket": ticket, "message": message, **links}
    if kind == "escalated":
        # The reason is an internal note: agents only, and not the one who wrote it.
        escalation = [
            agent
            for agent in _department_agents(ticket.department_id, tier=Tier.L2)
            if agent.is_agent and agent.pk != message.author_id
        ]
        _email_agents(escalation, key=f"escalated:{message.pk}", template="escalated", about=about)
        return
    if kind == "created":
        email_queue(
            dedupe_key=f"ticket-created:{ticket.pk}",
            to=ticket.requester_email,
            template="ticket_created",
            context=about,
            language=_language_of(ticket.requester, language),
        )
        _email_agents(
            _department_agents(ticket.department_id),
            key=f"ticket-new-for-agent:{ticket.pk}",
            template="agent_new_ticket",
            about=about,
        )
        return
    if message.kind == MessageKind.PUBLIC and message.from_staff:
        email_queue(
            dedupe_key=f"reply-to-customer:{message.pk}",
            to=ticket.requester_email,
            template="agent_reply",
            context=about,
            language=_language_of(ticket.requester, ticket.language),
        )
    elif message.kind == MessageKind.PUBLIC:
        agents = [ticket.assignee] if ticket.assignee else _department_agents(ticket.department_id)
        _email_agents(
            agents, key=f"reply-to-agent:{message.pk}", template="customer_reply", about=about
        )
    _email_agents(
        User.objects.filter(pk__in=mentions, is_active=True),
        key=f"mention:{message.pk}",
        template="mention",
        about=about,
    )


def _email_agents(agents, *, key: str, template: str, about: dict) -> None:
    """One email per agent, each in the agent's language; ``key`` and the agent's id
    make its dedupe key."""
    for agent in agents:
        email_queue(
            dedupe_key=f"{key}:{agent.pk}",
            to=agent.email,
            template=template,
            context={**about, "agent": agent},
            language=_language_of(agent, "en"),
        )
