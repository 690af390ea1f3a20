"""A guest's emails stay in the language they wrote in; an escalation reaches tier 2.

Over real SMTP, through the outbox and the task worker, as the product sends them.
"""

from email.header import decode_header, make_header

import pytest
from django.utils import translation

from accounts.models import Role
from accounts.services import user_create
from helpdesk.models import Channel, Department, DepartmentMember, OutboundEmail, Ticket, Tier
from helpdesk.services import tickets as services
from helpdesk.tasks import notifications_send
from tenants.context import tenant_schema
from tests.branding.support import set_brand
from tests.fixtures.smtp import SMTPServer


@pytest.fixture
def worker(run_tasks):
    return run_tasks


def _html(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode()


def _translated(text: str, language: str) -> str:
    with translation.override(language):
        translated = translation.gettext(text)
    assert translated != text  # the catalogue has it, or the test proves nothing
    return translated


def _guest_ticket(general, language: str = "fa", email: str = "guest@example.com") -> Ticket:
    return services.ticket_create(
        subject="چاپگر کار نمی‌کند",
        body_text="چاپگر طبقه دوم روشن نمی‌شود.",
        department=general,
        channel=Channel.EMAIL,
        requester_email=email,
        language=language,
    )


def _to(smtp, address: str) -> list:
    return [m for m in smtp.messages if m["To"] == address]


def _agent(name: str, email: str, department: Department, tier: int, language: str = ""):
    agent = user_create(
        email=email, password="correct-horse-battery-9", name=name, role=Role.AGENT,
        email_verified=True,
    )  # fmt: skip
    if language:
        agent.language = language
        agent.save(update_fields=["language"])
    DepartmentMember.objects.create(department=department, user=agent, tier=tier)
    return agent


# --- 1. The requester's language, guests included -----------------------------------------


def test_a_persian_guest_from_the_portal_gets_agent_replies_in_persian_right_to_left(
    alpha, in_alpha, general, people, smtp, worker
):
    client = alpha.client(HTTP_ACCEPT_LANGUAGE="fa")
    response = client.post(
        "/tickets/new/",
        {
            "department": general.pk,
            "category": general.categories.first().pk,
            "subject": "ورود ممکن نیست",
            "urgency": 2,
            "body": "رمز عبورم پذیرفته نمی‌شود.",
            "email": "guest@example.com",
            "name": "گیتا",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester is None and ticket.language == "fa"

    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="We are on it")
    worker()

    emails = _to(smtp, "guest@example.com")
    assert len(emails) == 2
    (reply,) = [m for m in emails if "We are on it" in SMTPServer.body(m)]
    (confirmation,) = [m for m in emails if m is not reply]
    for email in (confirmation, reply):
        html = _html(email)
        assert 'dir="rtl"' in html and 'lang="fa"' in html
        assert _translated("Tracking code", "fa") in html
    assert _translated("Reply or confirm that this solved your problem", "fa") in _html(reply)


def test_an_accounts_own_language_wins_over_the_tickets(in_alpha, new_ticket, people, smtp, worker):
    people["customer"].language = "ar"
    people["customer"].save(update_fields=["language"])
    ticket = new_ticket(language="fa")
    assert ticket.language == "fa"

    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="Fixed")
    worker()

    reply = next(m for m in _to(smtp, "customer@alpha.test") if "Fixed" in SMTPServer.body(m))
    assert 'lang="ar"' in _html(reply) and 'dir="rtl"' in _html(reply)


@pytest.mark.parametrize(
    ("said", "default", "kept"),
    [("fa-IR", "en", "fa"), ("", "ar", "ar"), ("xx", "fa", "fa"), ("", "en", "en")],
)
def test_a_tickets_language_is_one_we_offer_else_the_tenants_default(
    in_alpha, general, said, default, kept
):
    set_brand(default_language=default)

    ticket = _guest_ticket(general, language=said)

    assert ticket.language == kept
    assert Ticket.objects.get(pk=ticket.pk).language == kept


def test_a_batch_keeps_each_tickets_language_and_emails_in_it(in_alpha, general, smtp, worker):
    items = [
        services.NewTicket(
            subject=f"Batch {language}",
            body_text="x",
            department=general,
            channel=Channel.API,
            requester_email=f"{language}@example.com",
            language=language,
        )  # fmt: skip
        for language in ("fa", "en")
    ]

    opened = services.tickets_open_many(items)
    worker()

    assert [o.ticket.language for o in opened] == ["fa", "en"]
    assert 'lang="fa"' in _html(_to(smtp, "fa@example.com")[0])
    assert 'lang="en"' in _html(_to(smtp, "en@example.com")[0])


def test_a_persian_guests_merged_notice_is_in_persian(
    in_alpha, general, new_ticket, people, smtp, worker
):
    duplicate = _guest_ticket(general)
    target = new_ticket()

    services.ticket_merge(source=duplicate, target=target, actor=people["agent"])
    worker()

    notice = duplicate.messages.filter(from_staff=True).get()
    emails = [m for m in _to(smtp, "guest@example.com") if target.reference in _html(m)]
    assert len(emails) == 1 and notice.body_text in SMTPServer.body(emails[0])
    assert 'lang="fa"' in _html(emails[0]) and 'dir="rtl"' in _html(emails[0])
    assert _translated("Reply or confirm that this solved your problem", "fa") in _html(emails[0])


def test_a_master_incidents_reply_reaches_a_persian_guest_in_persian(
    in_alpha, general, new_ticket, people, smtp, worker
):
    master = new_ticket(subject="Outage")
    report = _guest_ticket(general)
    services.ticket_link_to_master(ticket=report, master=master, actor=people["agent"])

    services.ticket_reply(ticket=master, author=people["agent"], body_text="Power is back")
    worker()

    (copy,) = [m for m in _to(smtp, "guest@example.com") if "Power is back" in SMTPServer.body(m)]
    assert 'lang="fa"' in _html(copy) and 'dir="rtl"' in _html(copy)
    assert report.reference in _html(copy)


# --- 2. Escalation reaches the department's tier 2 ----------------------------------------


def test_an_escalation_emails_the_departments_tier_two_with_the_reason_once(
    alpha, in_alpha, general, billing, new_ticket, people, smtp, worker
):
    l2_fa = _agent("Second Line", "l2.fa@alpha.test", general, Tier.L2, language="fa")
    l2_en = _agent("Second Too", "l2.en@alpha.test", general, Tier.L2)
    _agent("First Line", "l1@alpha.test", general, Tier.L1)
    _agent("Billing Two", "billing.l2@alpha.test", billing, Tier.L2)
    gone = _agent("Gone", "gone@alpha.test", general, Tier.L2)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    ticket = new_ticket()
    worker()  # the new-ticket alerts, out of the way
    smtp.messages.clear()

    escalated = services.ticket_escalate(
        ticket=ticket, actor=people["agent"], reason="Needs a database restore"
    )
    assert escalated.tier == Tier.L2
    worker()

    assert sorted(m["To"] for m in smtp.messages) == [l2_en.email, l2_fa.email]
    for email in smtp.messages:
        assert "Needs a database restore" in SMTPServer.body(email)
        assert f"/desk/tickets/{ticket.reference}/" in SMTPServer.body(email)
        assert ticket.reference in str(make_header(decode_header(email["Subject"])))
    (in_persian,) = _to(smtp, l2_fa.email)
    subject = str(make_header(decode_header(in_persian["Subject"])))
    assert subject.startswith(f"[{ticket.reference}] ") and "ارجاع به سطح ۲" in subject
    assert 'dir="rtl"' in _html(in_persian)
    assert _translated("Open the ticket", "fa") in _html(in_persian)
    assert not any(m["To"] == "customer@alpha.test" for m in smtp.messages)

    # The task again (a retry, a redelivered row), and the worker again: nothing new.
    note = ticket.messages.filter(kind="internal").get()
    queued = OutboundEmail.objects.filter(dedupe_key__startswith="escalated:").count()
    notifications_send.call(
        schema_name=alpha.schema_name, kind="escalated", message_id=note.pk, mentions=[]
    )
    worker()
    assert OutboundEmail.objects.filter(dedupe_key__startswith="escalated:").count() == queued == 2
    assert len(smtp.messages) == 2


def test_an_escalation_still_tells_the_desk_live(
    in_alpha, new_ticket, people, capture_realtime_events
):
    ticket = new_ticket()
    capture_realtime_events.take()

    services.ticket_escalate(ticket=ticket, actor=people["agent"], reason="L2 please")

    changes = [e.payload.get("changes") for e in capture_realtime_events.take()]
    assert ["tier", "assignee"] in changes


def test_an_escalation_in_one_tenant_tells_no_tier_two_agent_of_another(
    alpha, bravo, new_ticket, people, smtp, worker
):
    with tenant_schema(bravo.schema_name):
        bravo_general = Department.objects.get(slug="general")
        _agent("Bravo Two", "l2@bravo.test", bravo_general, Tier.L2)
    with tenant_schema(alpha.schema_name):
        alpha_general = Department.objects.get(slug="general")
        _agent("Alpha Two", "l2@alpha.test", alpha_general, Tier.L2)
        ticket = new_ticket()
        services.ticket_escalate(ticket=ticket, actor=people["agent"], reason="Disk full")
    worker()

    assert [m["To"] for m in smtp.messages if "Disk full" in SMTPServer.body(m)] == [
        "l2@alpha.test"
    ]
    assert not any(m["To"].endswith("@bravo.test") for m in smtp.messages)
    with tenant_schema(bravo.schema_name):
        assert not OutboundEmail.objects.exists()
