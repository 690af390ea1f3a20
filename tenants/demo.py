"""The demo tenant the start command creates, so a fresh machine has something to click."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.context import public_schema, tenant_schema
from tenants.models import Tenant
from tenants.provisioning import OwnerDetails, tenant_provision

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def demo_logins(base_domain: str) -> list[DemoLogin]:
    return [
        DemoLogin("admin", f"admin@{DEMO_SLUG}.{base_domain}", "demo-admin-2026"),
        DemoLogin("agent", f"agent@{DEMO_SLUG}.{base_domain}", "demo-agent-2026"),
        DemoLogin("customer", f"customer@{DEMO_SLUG}.{base_domain}", "demo-customer-2026"),
    ]


def demo_tenant_ensure(*, base_domain: str) -> tuple[Tenant, list[DemoLogin]]:
    """Idempotent: the demo tenant with a verified admin, agent and customer."""
    from accounts.models import Role, User
    from accounts.services import user_create

    admin, agent, customer = logins = demo_logins(base_domain)
    with public_schema():
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if tenant is None:
        tenant = tenant_provision(
            name="Demo Support",
            slug=DEMO_SLUG,
            owner=OwnerDetails(name="Demo Admin", email=admin.email, password=admin.password),
        )
    with tenant_schema(tenant.schema_name):
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(email=admin.email).update(verified=True)
        if not User.objects.filter(email=agent.email).exists():
            user_create(
                email=agent.email,
                password=agent.password,
                name="Demo Agent",
                role=Role.AGENT,
                email_verified=True,
            )
        if not User.objects.filter(email=customer.email).exists():
            user_create(
                email=customer.email,
                password=customer.password,
                name="Demo Customer",
                email_verified=True,
            )
    return tenant, logins
