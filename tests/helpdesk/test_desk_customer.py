"""The desk's customer page: agents read a customer (the tickets they may open);
managers change organisation, VIP and "sees the organisation's tickets"; bad input is
refused with nothing saved; another tenant's ids reach nothing."""

import pytest

from helpdesk.models import CustomerProfile, Organisation
from tenants.context import tenant_schema


def _client(tenant, role):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


@pytest.fixture
def acme(in_alpha):
    return Organisation.objects.create(name="Acme", is_vip=True)


def test_an_agent_reads_a_customer_and_the_tickets_they_may_open(
    alpha, people, new_ticket, billing
):
    mine = new_ticket()  # general: the agent's department
    hidden = new_ticket(department=billing, subject="Billing only")

    page = _client(alpha, "agent").get(f"/desk/customers/{people['customer'].pk}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert people["customer"].email in body
    assert mine.reference in body and hidden.reference not in body
    assert "<form" not in body.split("<h2>")[0].split("</h1>")[1]  # no edit form for agents
    ticket_page = _client(alpha, "agent").get(f"/desk/tickets/{mine.reference}/")
    assert f"/desk/customers/{people['customer'].pk}/" in ticket_page.content.decode()


def test_an_agent_cannot_change_a_customer(alpha, people, acme):
    customer = people["customer"]

    response = _client(alpha, "agent").post(
        f"/desk/customers/{customer.pk}/", {"organisation_name": "Acme", "is_vip": "on"}
    )

    assert response.status_code == 403
    assert CustomerProfile.objects.get(user=customer).organisation_id is None


def test_a_manager_puts_a_customer_in_an_organisation_by_name(alpha, people, acme):
    customer = people["customer"]

    response = _client(alpha, "manager").post(
        f"/desk/customers/{customer.pk}/",
        {"organisation_name": "acme", "is_vip": "on", "sees_organisation_tickets": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    profile = CustomerProfile.objects.get(user=customer)
    assert (profile.organisation, profile.is_vip, profile.sees_organisation_tickets) == (
        acme, True, True,
    )  # fmt: skip
    emptied = _client(alpha, "manager").post(
        f"/desk/customers/{customer.pk}/", {"organisation_name": "", "organisation": acme.pk}
    )
    assert emptied.status_code == 302
    profile.refresh_from_db()
    assert (profile.organisation, profile.sees_organisation_tickets) == (None, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"organisation_name": "Nobody Ltd"}, "No organisation is called"),
        ({"organisation_name": "Twin"}, "More than one organisation is called"),
        ({"organisation_name": "", "sees_organisation_tickets": "on"}, "Only a member"),
        ({"organisation_name": "x" * 151}, "at most 150 characters"),
    ],
)
def test_a_refused_change_says_why_and_saves_nothing(alpha, people, acme, data, message):
    Organisation.objects.bulk_create([Organisation(name="Twin"), Organisation(name="twin")])
    customer = people["customer"]

    response = _client(alpha, "manager").post(
        f"/desk/customers/{customer.pk}/", {**data, "is_vip": "on"}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    profile = CustomerProfile.objects.get(user=customer)
    assert (profile.organisation_id, profile.is_vip) == (None, False)


def test_staff_unknown_ids_customers_and_visitors_get_nothing(alpha, people):
    manager = _client(alpha, "manager")
    assert manager.get(f"/desk/customers/{people['agent'].pk}/").status_code == 404
    assert manager.get("/desk/customers/987654/").status_code == 404
    customer_page = _client(alpha, "customer").get(f"/desk/customers/{people['customer'].pk}/")
    assert customer_page.status_code == 403
    visitor = alpha.client().get(f"/desk/customers/{people['customer'].pk}/")
    assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]


def test_tenant_bs_manager_reaches_only_bravos_customers(alpha, bravo, people, acme):
    alpha_customer = people["customer"]

    page = _client(bravo, "manager").get(f"/desk/customers/{alpha_customer.pk}/")
    changed = _client(bravo, "manager").post(
        f"/desk/customers/{alpha_customer.pk}/", {"organisation_name": "Acme"}
    )

    # The same id on bravo is bravo's own person or nobody; alpha's Acme is unknown there.
    assert "customer@alpha.test" not in page.content.decode()
    assert changed.status_code in (400, 404)
    with tenant_schema(alpha.schema_name):
        assert CustomerProfile.objects.get(user=alpha_customer).organisation_id is None
