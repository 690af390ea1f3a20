"""The customer portal over HTTP: submit, follow, reply, confirm; bad input on purpose."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.models import Attachment, Message, OutboundEmail, StatusCategory, Ticket
from helpdesk.services import tickets as services

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def customer_client(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]
    return client


def _form(general, **changes):
    return {
        "department": general.pk,
        "category": general.categories.first().pk,
        "subject": "Cannot log in",
        "urgency": 2,
        "body": "It says my password is wrong.",
        **changes,
    }


def test_customer_submits_a_ticket_and_sees_the_tracking_code(customer_client, general):
    response = customer_client.post(
        "/tickets/new/",
        {**_form(general), "attachments": [SimpleUploadedFile("screen.png", PNG, "image/png")]},
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Cannot log in")
    assert response["Location"] == f"/tickets/{ticket.reference}/submitted/"
    page = customer_client.get(response["Location"])
    assert ticket.reference in page.content.decode()
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.filename, attachment.content_type) == ("screen.png", "image/png")
    assert attachment.file.name.startswith(f"attachments/{ticket.pk}/")
    assert customer_client.get(f"/attachments/{attachment.token}/").status_code == 200


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("evil.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png"),
            "not a file type",
        ),
        (
            SimpleUploadedFile("run.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/x-msdownload"),
            "not a file type",
        ),
        (
            SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html"),
            "not a file type",
        ),
        (SimpleUploadedFile("photo.pdf", PNG, "application/pdf"), "not a file type"),
        (SimpleUploadedFile("empty.txt", b"", "text/plain"), "is empty"),
        (
            SimpleUploadedFile("binary.txt", b"\x00\x01\x02\xff" * 10, "text/plain"),
            "not a text file",
        ),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_saved(
    customer_client, general, upload, message
):
    before = Ticket.objects.count()

    response = customer_client.post("/tickets/new/", {**_form(general), "attachments": [upload]})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Ticket.objects.count() == before


def test_oversized_attachment_is_refused(customer_client, general, settings):
    settings.HELPDESK_MAX_ATTACHMENT_BYTES = 1024
    big = SimpleUploadedFile("log.txt", b"a" * 2048, "text/plain")

    response = customer_client.post("/tickets/new/", {**_form(general), "attachments": [big]})

    assert response.status_code == 400
    assert "larger than 1.0\xa0KB" in response.content.decode()


def test_path_tricks_in_filenames_are_neutralised(customer_client, general):
    upload = SimpleUploadedFile("../../etc/passwd.txt", b"hello", "text/plain")

    customer_client.post("/tickets/new/", {**_form(general), "attachments": [upload]})

    attachment = Attachment.objects.get(ticket__subject="Cannot log in")
    assert attachment.filename == "passwd.txt"
    assert ".." not in attachment.file.name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject": ""}, "This field is required"),
        ({"subject": "x" * 201}, "at most 200 characters"),
        ({"body": ""}, "This field is required"),
        ({"urgency": "9"}, "Select a valid choice"),
        ({"department": "999999"}, "Select a valid choice"),
        ({"department": "abc"}, "Select a valid choice"),
    ],
)
def test_bad_fields_get_clear_errors(customer_client, general, changes, message):
    response = customer_client.post("/tickets/new/", _form(general, **changes))

    assert response.status_code == 400
    assert message in response.content.decode()


def test_internal_departments_are_not_offered_to_customers(customer_client, general, billing):
    billing.is_public = False
    billing.save()

    page = customer_client.get("/tickets/new/").content.decode()
    response = customer_client.post(
        "/tickets/new/", _form(general, department=billing.pk, category="")
    )

    assert "Billing" not in page
    assert response.status_code == 400


def test_xss_in_a_ticket_shows_as_text(customer_client, general):
    customer_client.post(
        "/tickets/new/",
        _form(general, subject="<img src=x onerror=alert(1)>", body="<script>alert(2)</script>"),
    )
    ticket = Ticket.objects.get()

    page = customer_client.get(f"/tickets/{ticket.reference}/").content.decode()

    assert "<script>alert(2)</script>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_customer_never_sees_internal_notes(customer_client, new_ticket, people):
    ticket = new_ticket()
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="SECRET NOTE", internal=True
    )
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="Public answer")

    page = customer_client.get(f"/tickets/{ticket.reference}/").content.decode()

    assert "Public answer" in page
    assert "SECRET NOTE" not in page


def test_internal_note_attachment_is_hidden_from_the_customer(customer_client, new_ticket, people):
    ticket = new_ticket()
    from helpdesk.attachments import check_upload

    note = services.ticket_reply(
        ticket=ticket,
        author=people["agent"],
        body_text="see log",
        internal=True,
        uploads=[check_upload(SimpleUploadedFile("internal.txt", b"secret", "text/plain"))],
    )
    attachment = note.attachments.get()

    assert customer_client.get(f"/attachments/{attachment.token}/").status_code == 404


def test_reply_confirm_and_reopen_from_the_portal(customer_client, new_ticket, people):
    ticket = new_ticket()
    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text="Try turning it off and on"
    )

    reply = customer_client.post(f"/tickets/{ticket.reference}/reply/", {"body": "It worked!"})
    resolve = customer_client.post(f"/tickets/{ticket.reference}/resolve/")

    assert reply.status_code == resolve.status_code == 302
    assert Message.objects.filter(ticket=ticket, body_text="It worked!").exists()
    assert Ticket.objects.get(pk=ticket.pk).stage == StatusCategory.RESOLVED
    customer_client.post(f"/tickets/{ticket.reference}/reopen/")
    assert Ticket.objects.get(pk=ticket.pk).stage == StatusCategory.OPEN


def test_my_tickets_lists_only_mine_with_customer_labels(customer_client, new_ticket, people):
    mine = new_ticket(subject="Mine")
    new_ticket(subject="Someone else's", requester=people["other_customer"])

    page = customer_client.get("/tickets/").content.decode()

    assert "Mine" in page and "Someone else" not in page
    assert "Received" in page  # the customer label of "new"
    assert mine.reference in page


def test_another_customers_ticket_is_a_404_not_a_403(customer_client, new_ticket, people):
    theirs = new_ticket(requester=people["other_customer"])

    assert customer_client.get(f"/tickets/{theirs.reference}/").status_code == 404
    assert customer_client.get("/tickets/ZZZZ-ZZZZ/").status_code == 404
    assert (
        customer_client.post(f"/tickets/{theirs.reference}/reply/", {"body": "x"}).status_code
        == 404
    )


def test_organisation_managers_see_their_organisations_tickets(alpha, new_ticket, people):
    from helpdesk.models import CustomerProfile, Organisation

    acme = Organisation.objects.create(name="Acme")
    CustomerProfile.objects.update_or_create(
        user=people["customer"],
        defaults={"organisation": acme, "sees_organisation_tickets": True},
    )
    CustomerProfile.objects.update_or_create(
        user=people["other_customer"], defaults={"organisation": acme}
    )
    colleague = new_ticket(subject="Colleague's request", requester=people["other_customer"])
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]

    assert client.get(f"/tickets/{colleague.reference}/").status_code == 200


def test_guest_submits_with_email_and_follows_the_signed_link(alpha, general, smtp):
    client = alpha.client()

    response = client.post(
        "/tickets/new/", {**_form(general), "email": "Guest@Example.com", "name": "Gita Guest"}
    )

    ticket = Ticket.objects.get()
    assert ticket.requester is None and ticket.requester_email == "guest@example.com"
    assert response.status_code == 302 and response["Location"].startswith("/t/")
    page = client.get(response["Location"]).content.decode()
    assert ticket.reference in page
    reply = client.post(response["Location"].split("?")[0] + "reply/", {"body": "More details"})
    assert reply.status_code == 302
    assert Message.objects.filter(ticket=ticket, body_text="More details").exists()


def test_guest_needs_an_email(alpha, general):
    response = alpha.client().post("/tickets/new/", _form(general))

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_track_by_code_and_email(alpha, new_ticket):
    ticket = new_ticket()
    client = alpha.client()

    found = client.post(
        "/track/", {"reference": ticket.reference.lower(), "email": "CUSTOMER@alpha.test"}
    )
    wrong_email = client.post("/track/", {"reference": ticket.reference, "email": "x@y.test"})
    tampered = client.get("/t/not-a-real-token/")

    assert found.status_code == 302 and found["Location"].startswith("/t/")
    assert ticket.reference in client.get(found["Location"]).content.decode()
    assert wrong_email.status_code == 400
    assert "No request matches" in wrong_email.content.decode()
    assert tampered.status_code == 404


def test_confirmation_email_carries_the_code_and_a_link(new_ticket, run_tasks):
    ticket = new_ticket()
    run_tasks()

    email = OutboundEmail.objects.get(dedupe_key=f"ticket-created:{ticket.pk}")

    assert ticket.reference in email.subject
    assert re.search(rf"http://alpha\.localhost/tickets/{ticket.reference}/", email.body_text)
