"""A real HTTP server and Debian's headless Chromium for the browser journeys.

Why not pytest-django's ``live_server``: it needs ``transactional_db``, which FLUSHES every
table at teardown -- including the committed session tenants in the public schema that
every later test relies on. And a server thread cannot see the rolled-back transaction
of the ``db`` fixture. So this module-scoped fixture commits the little data the journey
needs (with the database unblocked), runs Django's ``LiveServerThread`` on its *own*
connections (no ``connections_override``), and at the end deletes exactly the rows the
journey created: tickets, outbox emails, queued tasks, sessions and the canned reply.

The database stays unblocked while the server runs: pytest-django's blocker patches
``BaseDatabaseWrapper.ensure_connection`` process-wide, so the server's request threads
would be refused otherwise. The test body itself never touches the ORM (Playwright's sync
API keeps an event loop running on the main thread, which Django treats as an async
context); everything it checks, it checks through the browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import PASSWORD, TenantFixture

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
    "the browser tests never download a browser"
)
TIMEOUT_MS = 15_000  # two busy cores: be patient
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

CANNED_TITLE = "Browser journey: fixed"
CANNED_BODY = (
    "Hello {customer_name},\n\n"
    "we found the cause of {ticket_reference} and fixed it. "
    "Please check and tell us whether it works for you now."
)


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM)


@dataclass
class Site:
    base_url: str
    tenant: TenantFixture
    password: str
    canned_title: str
    canned_body: str
    artifacts: Path

    def email(self, role: str) -> str:
        return f"{role}@{self.tenant.tenant.slug}.test"


def _snapshot() -> dict[str, object]:
    """What already exists in the current tenant schema and the public task queue, so
    teardown deletes only what the journey made."""
    from django.contrib.sessions.models import Session
    from django.db.models import Max
    from django_tasks_db.models import DBTaskResult

    from helpdesk.models import OutboundEmail, Ticket

    return {
        "ticket": Ticket.objects.aggregate(m=Max("pk"))["m"] or 0,
        "email": OutboundEmail.objects.aggregate(m=Max("pk"))["m"] or 0,
        "sessions": set(Session.objects.values_list("session_key", flat=True)),
        "tasks": set(DBTaskResult.objects.values_list("pk", flat=True)),  # public table
    }


def _serve(static_handler=lambda app: app):
    """Django's WSGI app on 127.0.0.1 and a free port, in a background thread.

    Static files come from our WhiteNoise middleware (``WHITENOISE_USE_FINDERS``), so no
    static handler is wrapped around the app. Without ``connections_override`` every
    request thread opens (and closes) its own, real database connection.
    """
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", static_handler, connections_override=None, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait(timeout=30)
    if thread.error:
        raise thread.error
    if not thread.is_ready.is_set():
        raise RuntimeError("the live server did not start within 30 s")
    return thread


@pytest.fixture(scope="module")
def site(request, django_db_blocker) -> Iterator[Site]:
    if not chromium_available():  # test modules skip earlier; this guards any other user
        pytest.skip(MISSING_CHROMIUM)
    django_db_setup = request.getfixturevalue("django_db_setup")  # the session tenants
    from django_tasks_db.models import DBTaskResult

    from helpdesk.models import CannedReply, OutboundEmail, Ticket
    from tenants.context import public_schema, reset_to_public_schema, tenant_schema

    alpha: TenantFixture = django_db_setup["alpha"]
    ARTIFACTS.mkdir(exist_ok=True)
    with django_db_blocker.unblock():
        with tenant_schema(alpha.schema_name):
            before = _snapshot()
            canned = CannedReply.objects.create(title=CANNED_TITLE, body=CANNED_BODY)
        reset_to_public_schema()
        server = _serve()
        try:
            yield Site(
                base_url=f"http://{alpha.host}:{server.port}",
                tenant=alpha,
                password=PASSWORD,
                canned_title=CANNED_TITLE,
                canned_body=CANNED_BODY,
                artifacts=ARTIFACTS,
            )
        finally:
            server.terminate()
            from django.contrib.sessions.models import Session

            with tenant_schema(alpha.schema_name):
                Ticket.objects.filter(pk__gt=before["ticket"]).delete()
                OutboundEmail.objects.filter(pk__gt=before["email"]).delete()
                Session.objects.exclude(session_key__in=before["sessions"]).delete()
                canned.delete()
            with public_schema():
                DBTaskResult.objects.exclude(pk__in=before["tasks"]).delete()
            reset_to_public_schema()


@pytest.fixture
def browser(site, db):
    """Headless Debian Chromium, one per test.

    ``db`` is here for two reasons. pytest-django creates the test database only when a
    collected test asks for it, so without it ``tests/browser`` alone would run against
    no database. And the order matters: ``db`` opens its (unused, rolled-back)
    transaction on the main thread *before* Playwright starts, and rolls it back after
    Playwright stopped -- while Playwright's sync API runs, its event loop makes Django
    refuse ORM calls on this thread as "async context".
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser):
    """A fresh browser profile (cookies, storage) per person in the journey."""
    contexts = []

    def make():
        context = browser.new_context(
            locale="en-US", viewport={"width": 1280, "height": 900}, timezone_id="UTC"
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS * 2)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
