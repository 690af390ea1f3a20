"""Custom domains: the tenant admin adds one, sees the DNS record, and is served on it;
nobody else is, and names that are ours, taken or malformed are refused."""

import re
import threading

import pytest
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from saas.asgi import application
from tenants.context import public_schema, tenant_schema
from tenants.domains import domain_add, domain_remove
from tenants.models import Domain
from tests.branding.support import admin_client, set_brand

CUSTOM = "help.alpha-example.com"


def _add(fixture, domain):
    return admin_client(fixture).post("/admin/domains/", {"domain": domain})


def _custom_domains(fixture):
    with public_schema():
        return set(
            Domain.objects.filter(tenant=fixture.tenant, is_primary=False).values_list(
                "domain", flat=True
            )
        )


def test_the_admin_adds_a_domain_and_is_shown_the_dns_record(alpha):
    response = _add(alpha, "  https://Help.Alpha-Example.com/ ")

    assert response.status_code == 302
    assert _custom_domains(alpha) == {CUSTOM}
    page = admin_client(alpha).get("/admin/domains/").content.decode()
    row = re.search(
        r"<tr>\s*<td dir=\"ltr\"><code>help\.alpha-example\.com</code>.*?</tr>", page, re.S
    )
    assert row, page
    assert "<code>CNAME</code>" in row.group(0)
    assert "<code>alpha.localhost</code>" in row.group(0)


def test_the_tenant_is_served_on_its_new_domain_with_its_brand(alpha, bravo):
    with tenant_schema(alpha.schema_name):
        set_brand(portal_name="Alpha Care")
    assert Client(HTTP_HOST=CUSTOM).get("/track/").status_code == 404  # not yet ours

    _add(alpha, CUSTOM)
    portal = Client(HTTP_HOST=CUSTOM).get("/track/")
    home = Client(HTTP_HOST=CUSTOM).get("/")  # Wagtail's page tree answers there too

    assert portal.status_code == 200 and "Alpha Care" in portal.content.decode()
    assert home.status_code == 200 and "Alpha Corp" in home.content.decode()
    assert "Bravo" not in portal.content.decode() + home.content.decode()


def test_the_other_tenant_is_not_served_on_it_and_its_sessions_mean_nothing_there(alpha, bravo):
    _add(alpha, CUSTOM)
    client = Client(HTTP_HOST=CUSTOM)
    client.cookies["sessionid"] = bravo.sessions["agent"]

    desk = client.get("/desk/")

    assert desk.status_code == 302 and "/accounts/login/" in desk["Location"]
    assert client.get("/admin/").status_code == 302


def test_a_domain_used_by_another_tenant_is_refused(alpha, bravo):
    _add(alpha, CUSTOM)

    response = _add(bravo, CUSTOM.upper())

    assert response.status_code == 400
    assert f"{CUSTOM} is already in use. Choose another domain." in response.content.decode()
    assert _custom_domains(bravo) == set()
    assert Client(HTTP_HOST=CUSTOM).get("/track/").content.decode().count("Alpha Corp") >= 1


def test_adding_the_same_domain_twice_says_it_is_already_yours(alpha):
    _add(alpha, CUSTOM)

    response = _add(alpha, CUSTOM)

    assert "already connected to your helpdesk" in response.content.decode()


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("localhost", "Addresses on localhost are ours"),
        ("support.localhost", "Addresses on localhost are ours"),
        ("bravo.localhost", "Addresses on localhost are ours"),
        ("not a domain", "is not a valid domain name"),
        ("-bad-.example.com", "is not a valid domain name"),
        ("a..example.com", "is not a valid domain name"),
        ("intranet", "is not a valid domain name"),
        ("help.example.com:8443", "is not a valid domain name"),
        ("*.example.com", "is not a valid domain name"),
        ("<script>.example.com", "is not a valid domain name"),
        ("10.0.0.1", "not an IP address"),
        ("", "This field is required."),
    ],
)
def test_platform_and_malformed_names_are_refused_with_a_clear_error(alpha, domain, error):
    response = _add(alpha, domain)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert _custom_domains(alpha) == set()


def test_the_user_content_host_cannot_become_a_tenants_domain(alpha, settings):
    settings.USER_CONTENT_HOST = "files.helpdesk-example.com"

    for domain in ("files.helpdesk-example.com", "portal.files.helpdesk-example.com"):
        response = _add(alpha, domain)

        assert response.status_code == 400
        assert "is reserved for this service" in response.content.decode()
    assert _custom_domains(alpha) == set()


def test_a_tenant_can_have_only_a_few_custom_domains(alpha):
    for number in range(5):
        domain_add(tenant=alpha.tenant, domain=f"help{number}.alpha-example.com")

    with pytest.raises(ValidationError) as refused:
        domain_add(tenant=alpha.tenant, domain="one-more.alpha-example.com")

    assert refused.value.code == "limit"


def test_international_names_are_stored_as_the_host_header_carries_them(alpha):
    domain = domain_add(tenant=alpha.tenant, domain="پشتیبانی.Example.com")

    assert domain.domain == "پشتیبانی".encode("idna").decode() + ".example.com"
    assert domain.domain.startswith("xn--")
    assert Client(HTTP_HOST=domain.domain).get("/track/").status_code == 200


def test_a_removed_domain_is_no_longer_served_and_the_platform_host_cannot_be_removed(alpha, bravo):
    domain = domain_add(tenant=alpha.tenant, domain=CUSTOM)
    primary = Domain.objects.get(tenant=alpha.tenant, is_primary=True)

    refused = admin_client(bravo).post(f"/admin/domains/{domain.pk}/remove/")  # not bravo's
    kept = admin_client(alpha).post(f"/admin/domains/{primary.pk}/remove/", follow=True)
    removed = admin_client(alpha).post(f"/admin/domains/{domain.pk}/remove/")

    assert refused.status_code == 302 and removed.status_code == 302
    assert "cannot be removed" in kept.content.decode()
    assert Domain.objects.filter(pk=primary.pk).exists()
    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert Client(HTTP_HOST=CUSTOM).get("/track/").status_code == 404
    with pytest.raises(ValidationError):
        domain_remove(tenant=alpha.tenant, domain_id=primary.pk)


def test_only_admins_allowed_to_manage_domains_see_the_screen(alpha):
    agent = alpha.client()
    agent.cookies["sessionid"] = alpha.sessions["manager"]

    response = agent.post("/admin/domains/", {"domain": CUSTOM})

    assert response.status_code in (302, 403)
    assert _custom_domains(alpha) == set()


def test_www_names_go_to_whoever_connected_them(alpha, bravo):
    domain_add(tenant=alpha.tenant, domain="alpha-example.com")
    domain_add(tenant=bravo.tenant, domain="www.alpha-example.com")

    apex = Client(HTTP_HOST="alpha-example.com").get("/track/").content.decode()
    www = Client(HTTP_HOST="www.alpha-example.com").get("/track/").content.decode()
    platform_www = Client(HTTP_HOST="www.alpha.localhost").get("/track/").content.decode()

    assert "Alpha Corp" in apex and "Bravo Ltd" in www and "Alpha Corp" in platform_www


def test_csrf_accepts_the_custom_domain_as_its_own_origin_and_not_another_tenants(alpha, bravo):
    _add(alpha, CUSTOM)
    client = Client(HTTP_HOST=CUSTOM, enforce_csrf_checks=True)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/track/").content.decode()
    ).group(1)

    def set_language(origin):
        return client.post(
            "/i18n/setlang/", {"language": "fa", "csrfmiddlewaretoken": token}, HTTP_ORIGIN=origin
        )

    assert set_language(f"http://{bravo.host}").status_code == 403
    assert set_language("http://evil.example").status_code == 403
    assert set_language(f"http://{CUSTOM}").status_code == 302


@pytest.fixture
def committed_domain(alpha):
    """The socket reads domains on its own connection: this one must be committed."""

    def on_own_connection(fn):
        def run():
            try:
                fn()
            finally:
                connection.close()

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()

    on_own_connection(lambda: domain_add(tenant=alpha.tenant, domain=CUSTOM))
    yield CUSTOM
    on_own_connection(lambda: Domain.objects.filter(domain=CUSTOM).delete())


def _socket(host, origin, session):
    headers = [
        (b"host", host.encode()),
        (b"origin", origin.encode()),
        (b"cookie", f"sessionid={session}".encode()),
    ]
    return WebsocketCommunicator(application, "/ws/desk/", headers=headers)


@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "origin", "accepted"),
    [
        (CUSTOM, f"http://{CUSTOM}", True),
        ("alpha.localhost", f"http://{CUSTOM}", True),  # one tenant, two names
        ("bravo.localhost", f"http://{CUSTOM}", False),
        (CUSTOM, "http://bravo.localhost", False),
    ],
)
async def test_websockets_accept_the_custom_domain_for_its_tenant_only(
    alpha, bravo, committed_domain, host, origin, accepted
):
    session = (bravo if host.startswith("bravo") else alpha).sessions["agent"]
    socket = _socket(host, origin, session)

    connected, _ = await socket.connect()
    if connected:
        await socket.send_json_to({"type": "hello"})
        hello = await socket.receive_json_from()
        assert hello["tenant"] == alpha.schema_name
    await socket.disconnect()

    assert connected is accepted
