"""Background work of the helpdesk. Every task runs inside the schema it was given."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from helpdesk.models import OutboundEmail
from tenants.tasks import in_tenant_schema

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


@task(backend="durable", queue_name="email")
@in_tenant_schema
def email_send(*, email_id: int) -> str:
    """Send one outbox row at most once; on SMTP failure, try again later with backoff."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "missing"
        if email.sent_at is not None:
            return "already-sent"
        message = EmailMultiAlternatives(subject=email.subject, body=email.body_text, to=[email.to])
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        try:
            message.send()
        except Exception as error:  # SMTP down, refused, timed out: the row waits
            email.attempts += 1
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            email.save(update_fields=["attempts", "last_error"])
            if email.attempts < MAX_ATTEMPTS:
                delay = dt.timedelta(seconds=min(30 * 2**email.attempts, 3600))
                email_send.using(run_after=timezone.now() + delay).enqueue(
                    schema_name=connection.schema_name, email_id=email.pk
                )
            logger.warning(
                "email %s to %s failed (attempt %s) schema=%s: %s",
                email.pk,
                email.to,
                email.attempts,
                connection.schema_name,
                email.last_error,
            )
            return "retry" if email.attempts < MAX_ATTEMPTS else "gave-up"
        email.sent_at = timezone.now()
        email.save(update_fields=["sent_at"])
    return "sent"


@task(backend="durable", queue_name="email")
@in_tenant_schema
def notifications_send(
    *, kind: str, message_id: int, mentions: list[int], language: str = "en"
) -> str:
    """Render the emails a new ticket, a message or an escalation causes (each then sent
    by email_send)."""
    from helpdesk.services.notifications import notifications_render

    with transaction.atomic():
        notifications_render(kind=kind, message_id=message_id, mentions=mentions, language=language)
    return "queued"


@task(backend="durable", queue_name="email")
@in_tenant_schema
def notifications_send_batch(*, kind: str, items: list[list]) -> str:
    """``notifications_send`` for many messages at once (``[message_id, language]`` pairs):
    an import of 100 tickets queues one task row, not 100.

    Each message renders in its own transaction, and rendering is idempotent (dedupe
    keys), so one failure neither stops the others nor duplicates anything when the task
    is run again; the task then fails naming the messages left to do.
    """
    from helpdesk.services.notifications import notifications_render

    failed = []
    for message_id, language in items:
        try:
            with transaction.atomic():
                notifications_render(
                    kind=kind, message_id=message_id, mentions=[], language=language
                )
        except Exception:
            logger.exception(
                "notifications for message %s failed schema=%s", message_id, connection.schema_name
            )
            failed.append(message_id)
    if failed:
        raise RuntimeError(f"notifications not rendered for messages {failed}")
    return "queued"
