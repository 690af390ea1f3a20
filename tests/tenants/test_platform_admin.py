"""Platform operators: Django's admin on the public host."""

import pytest

from accounts.models import User
from tenants.context import public_schema
from tenants.models import Tenant


@pytest.fixture
def operator(tenants):
    with public_schema():
        return User.objects.create_superuser(email="ops@platform.test", password="x-Ops-pass-99")


def test_operator_sees_tenants_and_pool_on_the_public_host(operator, client):
    client.force_login(operator)

    tenants_page = client.get("/admin/tenants/tenant/", HTTP_HOST="localhost")
    pool_page = client.get("/admin/tenants/poolschema/", HTTP_HOST="localhost")

    assert tenants_page.status_code == 200
    body = tenants_page.content.decode()
    assert "alpha" in body and "bravo" in body and "t_alpha" in body
    assert pool_page.status_code == 200
    assert "Warm pool: 1 ready, 0 stale, target 1" in pool_page.content.decode()


def test_suspending_a_tenant_takes_its_host_offline(operator, alpha, client):
    client.force_login(operator)
    with public_schema():
        alpha_pk = Tenant.objects.get(slug="alpha").pk

    client.post(
        "/admin/tenants/tenant/",
        {"action": "suspend", "_selected_action": [alpha_pk]},
        HTTP_HOST="localhost",
    )

    assert client.get("/", HTTP_HOST=alpha.host).status_code == 404


def test_a_tenant_owner_is_nobody_on_the_platform_admin(alpha, client):
    client.cookies["sessionid"] = alpha.sessions["owner"]

    response = client.get("/admin/tenants/tenant/", HTTP_HOST="localhost")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
