"""Outgoing emails wear the brand, over real SMTP, and stay right-to-left in fa and ar."""

import pytest
from django.utils import translation

from accounts.models import User
from helpdesk.models import Channel, Department
from helpdesk.services.tickets import ticket_create
from tests.branding.support import make_image, set_brand


def _html(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode()


def _text(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode().replace("\r\n", "\n")  # SMTP line ends


@pytest.fixture
def customer(in_alpha):
    return User.objects.get(pk=in_alpha.users["customer"])


def _submit(customer):
    return ticket_create(
        subject="Printer on fire",
        body_text="The printer on floor 2 is on fire.",
        department=Department.objects.get(slug="general"),
        channel=Channel.PORTAL,
        requester=customer,
    )


def _brand_everything():
    set_brand(
        portal_name="Alpha Care",
        logo=make_image("Mail logo"),
        primary_colour="#aa3300",
        email_header="Support hours: 9-17",
        email_footer="Alpha Corp · 1 Main Street",
        email_signature="The Alpha Care team",
    )


def test_the_confirmation_email_carries_the_brand_in_english(customer, smtp, run_tasks):
    _brand_everything()

    ticket = _submit(customer)
    run_tasks()

    message = next(m for m in smtp.messages if m["To"] == customer.email)
    html, text = _html(message), _text(message)
    assert 'dir="ltr"' in html and 'lang="en"' in html
    for part in (html, text):
        assert "Alpha Care" in part
        assert "Support hours: 9-17" in part
        assert "The Alpha Care team" in part
        assert "Alpha Corp · 1 Main Street" in part
        assert ticket.reference in part
    assert "border-top: 4px solid #aa3300" in html
    assert '<img src="http://alpha.localhost/media/' in html  # absolute: read in a mail client
    # The agent's new-ticket alert is branded too.
    agent_mail = next(m for m in smtp.messages if m["To"] == "agent@alpha.test")
    assert "The Alpha Care team" in _text(agent_mail)


def test_a_persian_email_is_right_to_left_with_the_brands_signature(customer, smtp, run_tasks):
    _brand_everything()
    customer.language = "fa"
    customer.save()

    _submit(customer)
    run_tasks()

    message = next(m for m in smtp.messages if m["To"] == customer.email)
    html = _html(message)
    assert 'dir="rtl"' in html and 'lang="fa"' in html and "direction: rtl" in html
    with translation.override("fa"):
        tracking = translation.gettext("Tracking code")
    assert tracking != "Tracking code" and tracking in html
    assert '<p class="brand-signature" dir="auto">The Alpha Care team</p>' in html
    assert "Alpha Care" in html and "The Alpha Care team" in _text(message)


def test_script_in_email_texts_is_escaped_in_html_and_left_plain_in_text(customer, smtp, run_tasks):
    attack = '</style><script>alert("x")</script> & co'
    set_brand(email_header=attack, email_footer=attack, email_signature=attack)

    _submit(customer)
    run_tasks()

    message = next(m for m in smtp.messages if m["To"] == customer.email)
    html = _html(message)
    assert "<script>" not in html
    assert (
        html.count("&lt;/style&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co") == 3
    )
    assert _text(message).count(attack) == 3  # plain text is not HTML: no entities


def test_without_a_brand_emails_name_the_organisation(customer, smtp, run_tasks):
    _submit(customer)
    run_tasks()

    message = next(m for m in smtp.messages if m["To"] == customer.email)
    assert "Alpha Corp" in _html(message) and _text(message).startswith("Alpha Corp\n")
    assert "brand-signature" not in _html(message)
