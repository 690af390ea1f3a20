"""A ticket of tenant A is invisible from tenant B: pages, search, attachments, codes."""

from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.access import guest_ticket_token
from helpdesk.attachments import check_upload
from helpdesk.models import Channel, Department, Ticket
from helpdesk.services.tickets import ticket_create
from tenants.context import tenant_schema


def _alpha_ticket(alpha):
    with tenant_schema(alpha.schema_name):
        from accounts.models import User

        ticket = ticket_create(
            subject="Alpha confidential merger",
            body_text="Codeword bluebird",
            department=Department.objects.get(slug="general"),
            channel=Channel.PORTAL,
            requester=User.objects.get(pk=alpha.users["customer"]),
            uploads=[check_upload(SimpleUploadedFile("plan.txt", b"merger plan", "text/plain"))],
        )
        return ticket, ticket.attachments.get().token, guest_ticket_token(ticket)


def test_a_ticket_of_a_is_invisible_from_b(alpha, bravo):
    ticket, attachment_token, guest_token = _alpha_ticket(alpha)
    manager = bravo.client()
    manager.cookies["sessionid"] = bravo.sessions["manager"]

    queue = manager.get("/desk/", {"queue": "all"}).content.decode()
    search = manager.get("/desk/", {"queue": "all", "q": "bluebird"}).content.decode()

    assert ticket.reference not in queue and ticket.reference not in search
    assert manager.get(f"/desk/tickets/{ticket.reference}/").status_code == 404
    assert manager.get(f"/attachments/{attachment_token}/").status_code == 404
    assert manager.get(f"/t/{guest_token}/").status_code == 404
    tracked = manager.post(
        "/track/", {"reference": ticket.reference, "email": "customer@alpha.test"}
    )
    assert tracked.status_code == 400
    with tenant_schema(bravo.schema_name):
        assert not Ticket.objects.filter(reference=ticket.reference).exists()


def test_the_same_code_in_a_is_found_in_a(alpha):
    ticket, attachment_token, _ = _alpha_ticket(alpha)
    manager = alpha.client()
    manager.cookies["sessionid"] = alpha.sessions["manager"]

    assert manager.get(f"/desk/tickets/{ticket.reference}/").status_code == 200
    assert manager.get(f"/attachments/{attachment_token}/").status_code == 200


def test_attachment_files_live_under_the_tenants_folder(alpha, settings):
    ticket, _, _ = _alpha_ticket(alpha)
    with tenant_schema(alpha.schema_name):
        path = ticket.attachments.get().file.path

    assert f"/{alpha.schema_name}/attachments/" in path
