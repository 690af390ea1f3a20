"""Tenant admins run the helpdesk from Wagtail's admin."""

import pytest

from accounts.models import User
from helpdesk.models import CannedReply, Department


@pytest.fixture
def owner_client(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["owner"]
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/snippets/helpdesk/department/",
        "/admin/snippets/helpdesk/ticketstatus/",
        "/admin/snippets/helpdesk/customfield/",
        "/admin/snippets/helpdesk/cannedreply/",
        "/admin/snippets/helpdesk/organisation/",
        "/admin/team/",
        "/admin/api-tokens/",
    ],
)
def test_admin_screens_open(owner_client, path):
    assert owner_client.get(path).status_code == 200


def test_admin_lists_only_its_own_departments(owner_client, bravo, in_alpha):
    Department.objects.create(name="Alpha Only", slug="alpha-only")

    alpha_page = owner_client.get("/admin/snippets/helpdesk/department/").content.decode()
    bravo_client = bravo.client()
    bravo_client.cookies["sessionid"] = bravo.sessions["owner"]
    bravo_page = bravo_client.get("/admin/snippets/helpdesk/department/").content.decode()

    assert "Alpha Only" in alpha_page and "Alpha Only" not in bravo_page


def test_admin_adds_a_canned_reply(owner_client, in_alpha):
    response = owner_client.post(
        "/admin/snippets/helpdesk/cannedreply/add/",
        {"title": "Refund", "body": "Hi {customer_name}, refunded.", "department": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert CannedReply.objects.filter(title="Refund").exists()


def test_admin_promotes_a_customer_to_agent(owner_client, in_alpha):
    customer = User.objects.get(pk=in_alpha.users["other_customer"])

    response = owner_client.post(
        f"/admin/team/edit/{customer.pk}/",
        {"name": customer.name, "role": "agent", "is_active": "on"},
    )

    customer.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (customer.role, customer.is_staff, customer.is_superuser) == ("agent", True, False)


def test_agents_and_customers_cannot_open_the_admin(alpha):
    for role in ("agent", "customer"):
        client = alpha.client()
        client.cookies["sessionid"] = alpha.sessions[role]
        response = client.get("/admin/team/")
        assert response.status_code in (302, 403)
