"""A real HTTP server and Debian's headless Chromium for the browser journeys.

Why not pytest-django's ``live_server``: it needs ``transactional_db``, which FLUSHES every
table at teardown -- including the committed session tenants in the public schema that
every later test relies on. And a server thread cannot see the rolled-back transaction
of the ``db`` fixture. So this module-scoped fixture commits the little data the journey
needs (with the database unblocked), runs Django's ``LiveServerThread`` on its *own*
connections (no ``connections_override``), and at the end deletes exactly the rows the
journey created: tickets, outbox emails, live events, queued tasks, sessions and the
canned reply.

The database stays unblocked while the server runs: pytest-django's blocker patches
``BaseDatabaseWrapper.ensure_connection`` process-wide, so the server's request threads
would be refused otherwise. The test body itself never touches the ORM (Playwright's sync
API keeps an event loop running on the main thread, which Django treats as an async
context); everything it checks, it checks through the browser.

The live journeys (websockets) need the ASGI application instead: ``asgi_site`` runs
daphne in a subprocess on the test database, with the same snapshot and clean-up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

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
    from realtime.models import Event

    return {
        "ticket": Ticket.objects.aggregate(m=Max("pk"))["m"] or 0,
        "email": OutboundEmail.objects.aggregate(m=Max("pk"))["m"] or 0,
        "event": Event.objects.aggregate(m=Max("pk"))["m"] or 0,  # live events (tenant log)
        "sessions": set(Session.objects.values_list("session_key", flat=True)),
        "tasks": set(DBTaskResult.objects.values_list("pk", flat=True)),  # public table
    }


def _clean_up(schema_name: str, before: dict[str, object]) -> None:
    """Delete what a journey made since ``_snapshot``: tickets (with their messages and
    history), outbox emails, live events, sign-in sessions, queued tasks."""
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    from helpdesk.models import OutboundEmail, Ticket
    from realtime.models import Event
    from tenants.context import public_schema, tenant_schema

    with tenant_schema(schema_name):
        Ticket.objects.filter(pk__gt=before["ticket"]).delete()
        OutboundEmail.objects.filter(pk__gt=before["email"]).delete()
        Event.objects.filter(pk__gt=before["event"]).delete()
        Session.objects.exclude(session_key__in=before["sessions"]).delete()
    with public_schema():
        DBTaskResult.objects.exclude(pk__in=before["tasks"]).delete()


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
    from helpdesk.models import CannedReply
    from tenants.context import reset_to_public_schema, tenant_schema

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
            _clean_up(alpha.schema_name, before)
            with tenant_schema(alpha.schema_name):
                canned.delete()
            reset_to_public_schema()


@contextmanager
def launched_chromium():
    """Debian's headless Chromium through Playwright's sync API (never a downloaded one)."""
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


def _context_factory(browser):
    """Yields ``make()``, which opens a fresh browser profile; closes them all at the end."""
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
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def new_context(browser):
    """A fresh browser profile (cookies, storage) per person in the journey."""
    yield from _context_factory(browser)


# --- the ASGI server for the live journeys (websockets) --------------------------------
#
# Websockets need the ASGI application, which LiveServerThread (WSGI) cannot serve. So
# the live journeys run daphne in a subprocess, pointed at the *test* database. It has no
# Redis: the in-memory channel layer is enough, because every event is produced by a
# request that the same daphne process serves. What daphne must see has to be committed
# (the session tenants are); what the journey makes is deleted at the end, as in ``site``.

DAPHNE_START_TIMEOUT = 90  # seconds: importing Django and Wagtail on two busy cores


@dataclass
class AsgiSite:
    base_url: str
    tenant: TenantFixture
    password: str
    artifacts: Path
    log: Path

    def email(self, role: str) -> str:
        return f"{role}@{self.tenant.tenant.slug}.test"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL (as saas.settings reads it with django-environ) for these settings.

    A unix-socket directory as HOST goes into libpq's ``host`` query parameter:
    django-environ does not decode a percent-encoded host."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or ""
    port = str(settings_dict.get("PORT") or "")
    query = {
        key: value
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    if host.startswith("/"):
        query["host"] = host
        host = ""
    netloc = f"{auth}@{host}" + (f":{port}" if port else "")
    url = f"postgres://{netloc}/{quote(settings_dict['NAME'], safe='')}"
    return f"{url}?{urlencode(query)}" if query else url


def _daphne_env(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="saas.settings",
        DATABASE_URL=database,
        TESTING="1",
        SECRET_KEY=settings.SECRET_KEY,  # the test process's key, wherever it came from
        BASE_DOMAIN=settings.BASE_DOMAIN,
        TENANT_POOL_SIZE="1",
        PUBLIC_PORT="",
        PUBLIC_SCHEME="http",
        EMAIL_URL="",  # console backend, as in the test process
        PYTHONUNBUFFERED="1",
    )
    return env


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(process: subprocess.Popen, url: str, host: str, log: Path) -> None:
    deadline = time.monotonic() + DAPHNE_START_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"daphne exited with {process.returncode} before answering; log:\n" + _log_tail(log)
            )
        try:
            request = urllib.request.Request(url, headers={"Host": host})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}: {error.read()[:300]!r}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.5)
    raise RuntimeError(
        f"daphne did not answer 200 at {url} within {DAPHNE_START_TIMEOUT} s ({last}); log:\n"
        + _log_tail(log)
    )


def _stop(process: subprocess.Popen) -> None:
    """End daphne's whole process group (we started it in its own session)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def asgi_site(request, django_db_blocker) -> Iterator[AsgiSite]:
    """The whole ASGI application (HTTP and websockets) under daphne, on the test database."""
    if not chromium_available():
        pytest.skip(MISSING_CHROMIUM)
    django_db_setup = request.getfixturevalue("django_db_setup")  # the session tenants
    from django.db import connection

    from tenants.context import reset_to_public_schema, tenant_schema

    alpha: TenantFixture = django_db_setup["alpha"]
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "live-daphne.log"
    port = _free_port()
    host = f"{alpha.host}:{port}"
    with django_db_blocker.unblock():
        with tenant_schema(alpha.schema_name):
            before = _snapshot()
        reset_to_public_schema()
        # After django_db_setup, NAME is the test database's name.
        env = _daphne_env(database_url(connection.settings_dict))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                 "saas.asgi:application"],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        try:
            _wait_healthy(process, f"http://127.0.0.1:{port}/healthz", host, log)
            yield AsgiSite(
                base_url=f"http://{host}",
                tenant=alpha,
                password=PASSWORD,
                artifacts=ARTIFACTS,
                log=log,
            )
        finally:
            _stop(process)
            _clean_up(alpha.schema_name, before)
            reset_to_public_schema()


@pytest.fixture
def live_browser(asgi_site, db):
    """As ``browser``, for the daphne-served journeys (``db`` for the same reasons)."""
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def live_context(live_browser):
    """A fresh browser profile per person in a live journey."""
    yield from _context_factory(live_browser)
