"""Attachments from the user-content host: checked on the tenant's host, then served from
a host that shares no cookies with the portal, by a short-lived signed link."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from helpdesk import usercontent
from tenants.context import tenant_schema
from tests.fixtures.tickets import ticket_with_upload

FILES = "files.helpdesk.test"


@pytest.fixture
def files_host(settings):
    settings.USER_CONTENT_HOST = FILES
    return Client(HTTP_HOST=FILES)


def _ticket_with_file(tenant, content: bytes, name: str = "plan.txt"):
    ticket = ticket_with_upload(tenant, name=name, content=content)
    with tenant_schema(tenant.schema_name):
        return ticket.attachments.get()


def _signed_in(tenant, role: str) -> Client:
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


def test_the_tenant_host_checks_access_then_sends_the_reader_to_the_files_host(alpha, files_host):
    attachment = _ticket_with_file(alpha, b"merger plan")

    checked = _signed_in(alpha, "customer").get(f"/attachments/{attachment.token}/")

    assert checked.status_code == 302
    link = urlsplit(checked["Location"])
    assert link.netloc == FILES and link.path.startswith("/f/")
    served = files_host.get(link.path)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"merger plan"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment;")
    assert not served.cookies  # no session, no CSRF cookie on the files host


def test_nobody_gets_a_link_without_access(alpha, bravo, files_host):
    attachment = _ticket_with_file(alpha, b"secret")

    assert alpha.client().get(f"/attachments/{attachment.token}/").status_code == 404
    assert _signed_in(bravo, "manager").get(f"/attachments/{attachment.token}/").status_code == 404


def test_forged_altered_and_expired_links_are_refused(alpha, bravo, files_host, monkeypatch):
    alpha_file = _ticket_with_file(alpha, b"alpha file")
    bravo_file = _ticket_with_file(bravo, b"bravo file")
    good = urlsplit(usercontent.signed_url(schema_name=alpha.schema_name, attachment=alpha_file))

    # another tenant's schema, or a made-up signature, in a link
    forged = signing.dumps({"s": bravo.schema_name, "a": bravo_file.token}, salt="other")
    # alpha's signature on a payload naming bravo's schema and file
    _, timestamp, signature = good.path.split("/")[2].rsplit(":", 2)
    payload = signing.b64_encode(
        f'{{"s":"{bravo.schema_name}","a":"{bravo_file.token}"}}'.encode()
    ).decode()
    swapped = f"/f/{payload}:{timestamp}:{signature}/"
    for path in (f"/f/{forged}/", swapped, "/f/not-a-link/", good.path[:-5] + "xxxx/"):
        assert files_host.get(path).status_code == 404, path

    assert files_host.get(good.path).status_code == 200
    monkeypatch.setattr(usercontent, "LINK_SECONDS", -1)  # every link is now too old
    assert files_host.get(good.path).status_code == 404


def test_the_files_host_serves_nothing_else(alpha, files_host):
    for path in ("/", "/desk/", "/admin/", "/kb/", f"/attachments/{'x' * 20}/"):
        assert files_host.get(path).status_code == 404, path


def test_without_a_files_host_the_tenant_host_serves_the_file(alpha, settings):
    settings.USER_CONTENT_HOST = ""
    attachment = _ticket_with_file(alpha, b"plain")

    served = _signed_in(alpha, "customer").get(f"/attachments/{attachment.token}/")

    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"plain"


def test_the_link_keeps_the_public_port(alpha, files_host, settings):
    settings.PUBLIC_PORT = 8000
    attachment = _ticket_with_file(alpha, b"ported")

    link = urlsplit(usercontent.signed_url(schema_name=alpha.schema_name, attachment=attachment))

    assert link.netloc == f"{FILES}:8000"
    assert Client(HTTP_HOST=link.netloc).get(link.path).status_code == 200


def test_a_suspended_tenants_links_stop_working(alpha, files_host):
    from tenants.context import public_schema
    from tenants.models import Tenant

    attachment = _ticket_with_file(alpha, b"suspended")
    link = urlsplit(usercontent.signed_url(schema_name=alpha.schema_name, attachment=attachment))
    with public_schema():
        Tenant.objects.filter(pk=alpha.tenant.pk).update(is_active=False)

    assert files_host.get(link.path).status_code == 404
