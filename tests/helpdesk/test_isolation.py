"""A ticket of tenant A is invisible from tenant B: pages, search, attachments, codes."""

from helpdesk.access import guest_ticket_token
from helpdesk.models import Ticket
from tenants.context import tenant_schema
from tests.fixtures.tickets import ticket_with_upload


def _alpha_ticket(alpha):
    ticket = ticket_with_upload(
        alpha, name="plan.txt", content=b"merger plan",
        subject="Alpha confidential merger", body="Codeword bluebird",
    )  # fmt: skip
    with tenant_schema(alpha.schema_name):
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
