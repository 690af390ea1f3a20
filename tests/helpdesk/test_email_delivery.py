"""Email leaves through the outbox: once, over real SMTP, surviving a dead mail server."""

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from helpdesk.models import Message, OutboundEmail
from helpdesk.services import tickets as services
from helpdesk.tasks import email_send


@pytest.fixture(autouse=True)
def _keep_the_test_transaction(monkeypatch):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def _run_worker():
    call_command(
        "db_worker", "--backend", "durable", "--queue-name", "*", "--batch", "--no-reload",
        "--no-startup-delay", "--interval", "0", verbosity=0,
    )  # fmt: skip


def test_ticket_confirmation_and_agent_reply_arrive_over_smtp(new_ticket, people, smtp):
    ticket = new_ticket()
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="We are on it")

    _run_worker()

    to_customer = [m for m in smtp.messages if m["To"] == "customer@alpha.test"]
    subjects = sorted(m["Subject"] for m in to_customer)
    assert len(to_customer) == 2
    assert all(ticket.reference in s for s in subjects)
    assert any("We are on it" in smtp.body(m) for m in to_customer)
    assert any(m["To"] == "agent@alpha.test" for m in smtp.messages)  # new-ticket alert
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()


def test_internal_notes_never_reach_the_customer_by_email(new_ticket, people, smtp):
    ticket = new_ticket()
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="TOP SECRET", internal=True
    )

    _run_worker()

    assert not any(
        "TOP SECRET" in smtp.body(m) for m in smtp.messages if m["To"] == "customer@alpha.test"
    )


def test_a_dead_mail_server_loses_no_reply_and_the_email_goes_out_later(
    new_ticket, people, settings
):
    from tests.fixtures.smtp import SMTPServer, free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.EMAIL_TIMEOUT = 2
    ticket = new_ticket()
    message = services.ticket_reply(ticket=ticket, author=people["agent"], body_text="Patched")

    _run_worker()

    assert Message.objects.filter(pk=message.pk).exists()
    email = OutboundEmail.objects.get(dedupe_key=f"reply-to-customer:{message.pk}")
    assert email.sent_at is None and email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    retry = DBTaskResult.objects.filter(
        status="READY", args_kwargs__kwargs__email_id=email.pk, run_after__gt=timezone.now()
    ).first()
    assert retry is not None  # scheduled later, with backoff

    with SMTPServer() as server:
        settings.EMAIL_PORT = server.port
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
        _run_worker()

    email.refresh_from_db()
    assert email.sent_at is not None
    assert any("Patched" in SMTPServer.body(m) for m in server.messages)


def test_an_email_is_never_sent_twice(new_ticket, alpha, smtp):
    ticket = new_ticket()
    _run_worker()
    email = OutboundEmail.objects.get(dedupe_key=f"ticket-created:{ticket.pk}")
    sent = len(smtp.messages)

    result = email_send.call(schema_name=alpha.schema_name, email_id=email.pk)

    assert result == "already-sent"
    assert len(smtp.messages) == sent


def test_emails_are_written_in_the_customers_language_right_to_left(new_ticket, people, smtp):
    people["customer"].language = "fa"
    people["customer"].save()

    ticket = new_ticket()
    _run_worker()

    message = next(m for m in smtp.messages if m["To"] == "customer@alpha.test")
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    html_body = html.get_payload(decode=True).decode()
    assert 'dir="rtl"' in html_body and 'lang="fa"' in html_body
    with translation.override("fa"):
        assert translation.gettext("Tracking code") != "Tracking code"
        assert translation.gettext("Tracking code") in html_body
    assert ticket.reference in html_body
