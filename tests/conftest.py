"""Two tenants, made once per test session by the real provisioning service.

Tests run inside a transaction that rolls back (pytest-django's ``db``), so each test
may sign up tenants, drain the pool or break provisioning without touching the next.
The session tenants, their users and their sessions are committed, so code running on
another thread (websocket consumers, the task worker) sees them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from tenants.context import public_schema, reset_to_public_schema, tenant_schema
from tenants.models import Tenant
from tenants.provisioning import OwnerDetails, pool_fill, tenant_provision

PASSWORD = "correct-horse-battery-9"


@dataclass
class TenantFixture:
    tenant: Tenant
    host: str
    users: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)

    @property
    def schema_name(self) -> str:
        return self.tenant.schema_name

    def client(self, **kwargs) -> Client:
        return Client(HTTP_HOST=self.host, **kwargs)


def _session_for(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def _make_tenant(slug: str, name: str) -> TenantFixture:
    from accounts.models import Role
    from accounts.services import user_create

    tenant = tenant_provision(
        name=name,
        slug=slug,
        owner=OwnerDetails(name=f"{name} Owner", email=f"owner@{slug}.test", password=PASSWORD),
    )
    fixture = TenantFixture(tenant=tenant, host=f"{slug}.{settings.BASE_DOMAIN}")
    with tenant_schema(tenant.schema_name):
        from accounts.models import User

        owner = User.objects.get(email=f"owner@{slug}.test")
        agent = user_create(
            email=f"agent@{slug}.test",
            password=PASSWORD,
            name=f"{name} Agent",
            role=Role.AGENT,
            email_verified=True,
        )
        customer = user_create(
            email=f"customer@{slug}.test",
            password=PASSWORD,
            name=f"{name} Customer",
            email_verified=True,
        )
        # The same address in both tenants: two different people, two different rows.
        shared = user_create(
            email="same.person@example.com",
            password=PASSWORD,
            name=f"Shared at {name}",
            email_verified=True,
        )
        from helpdesk.models import Department, DepartmentMember

        general = Department.objects.get(slug="general")
        DepartmentMember.objects.create(department=general, user=agent)
        manager = user_create(
            email=f"manager@{slug}.test",
            password=PASSWORD,
            name=f"{name} Manager",
            role=Role.MANAGER,
            email_verified=True,
        )
        billing = Department.objects.create(name="Billing", slug="billing", is_public=True)
        billing_agent = user_create(
            email=f"billing@{slug}.test",
            password=PASSWORD,
            name=f"{name} Billing Agent",
            role=Role.AGENT,
            email_verified=True,
        )
        DepartmentMember.objects.create(department=billing, user=billing_agent)
        other_customer = user_create(
            email=f"other.customer@{slug}.test",
            password=PASSWORD,
            name=f"{name} Other Customer",
            email_verified=True,
        )
        for role, user in {
            "manager": manager,
            "billing_agent": billing_agent,
            "other_customer": other_customer,
            "owner": owner,
            "agent": agent,
            "customer": customer,
            "shared": shared,
        }.items():
            fixture.users[role] = user.pk
            fixture.sessions[role] = _session_for(user)
    return fixture


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django migrated the test database (public, template, pool)."""
    with django_db_blocker.unblock():
        alpha = _make_tenant("alpha", "Alpha Corp")
        bravo = _make_tenant("bravo", "Bravo Ltd")
        pool_fill()  # tests that sign up find one warm schema waiting
    yield {"alpha": alpha, "bravo": bravo}


@pytest.fixture
def tenants(django_db_setup, db) -> dict[str, TenantFixture]:
    return django_db_setup


@pytest.fixture
def alpha(tenants) -> TenantFixture:
    return tenants["alpha"]


@pytest.fixture
def bravo(tenants) -> TenantFixture:
    return tenants["bravo"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: tests roll their rows back, so the same
    tenant, path and ids come back in the next test (the portal's page cache, the brand
    cache and the rate-limit counters would otherwise answer from an earlier test)."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language_after_tests():
    """A request in Persian leaves Persian active in the thread (LocaleMiddleware does not
    undo it): the next test must start in the default language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    yield
    reset_to_public_schema()


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture
def in_public():
    with public_schema():
        yield


@pytest.fixture
def capture_realtime_events(tenants, monkeypatch):
    """The events published during the test: ``take()`` gives the newest, with tenant and
    audiences, and fails if one was named for another tenant (tests/fixtures/realtime.py)."""
    import helpdesk.events  # noqa: F401 - imports publish_many_on_commit by name
    from tests.fixtures.realtime import EventCapture

    capture = EventCapture([tenant.schema_name for tenant in tenants.values()])
    capture.watch_publishes(monkeypatch)
    return capture


@pytest.fixture
def smtp(settings):
    """Send this test's mail over real SMTP to a local server and read what arrived."""
    from tests.fixtures.smtp import SMTPServer

    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield server


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path_factory):
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")


@pytest.fixture
def run_tasks(monkeypatch):
    """Run every queued background task now, in this test's transaction."""
    from django.core.management import call_command

    # The worker recycles connections between tasks; here that connection holds the
    # test's transaction (which is how the worker sees what the test enqueued).
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )

    def run() -> None:
        call_command(
            "db_worker", "--backend", "durable", "--queue-name", "*", "--batch", "--no-reload",
            "--no-startup-delay", "--interval", "0", verbosity=0,
        )  # fmt: skip

    return run
