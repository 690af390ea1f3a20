"""Emails the helpdesk sends, queued in the outbox inside the caller's transaction.

The send task is enqueued in the same transaction (the task queue is a table in the same
database), so a committed reply always has its email queued, and a rolled-back one never
has.
"""

from __future__ import annotations

from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from helpdesk.models import OutboundEmail, Ticket
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
