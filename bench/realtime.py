"""Live updates under load: 1,000 agent websockets, commit-to-delivery latency, losses.

Run from the repository root (see bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/realtime.py [--agents 1000] [--rate 200] [--seconds 10]

Real processes and real clients: ``daphne`` serves ``saas.asgi:application`` as a
subprocess, and this process opens ``--agents`` websockets to ``/ws/desk/`` with picows on
uvloop (``--client websockets``: the ``websockets`` library on asyncio's loop, as earlier
runs did), each signed in as its own agent by a session cookie, through the app's own
middleware (tenant from Host, Origin checked, user from the tenant's session table). All
sockets connect at once (a burst) and each says ``hello``. Two setups:

* in-memory -- one daphne process, ``REDIS_URL`` unset (``InMemoryChannelLayer``). That
  layer only reaches sockets of the process that publishes. The single event is triggered
  through HTTP against that daphne: ``PATCH /api/v1/tickets/<ref>`` changing the tags
  (``ticket_update`` -> one ``ticket.updated`` event to the ticket's department, which
  every agent belongs to), with a manager's API token. The sustained load comes from
  ``--publishers`` subprocesses standing in for background workers (below), whose events
  reach daphne as the single-process default's do: the event log, read by daphne's
  poller when PostgreSQL notifies it (``realtime/poller.py``).
* redis -- two daphne processes with ``REDIS_URL`` (``RedisPubSubChannelLayer``), sockets
  alternating between them. The single event is triggered by HTTP as above; the
  sustained load by the publishers, through Redis.

A publisher does what a background worker's change does: ``publish_on_commit`` inside
``transaction.atomic`` in the tenant's schema, with the same ``ticket.updated`` payload as
the service's (``--trigger http`` sends PATCH requests to daphne instead). Publishers
start the load together once every one of them has started (a worker's start is not
part of the load), evenly interleaved.

Latency is the client's receive time minus the event's row timestamp (the ticket's
``updated_at``, set just before the commit), on the same machine clock: an upper bound of
commit-to-delivery by the commit's few milliseconds. It includes the client's own
queueing: 1,000 sockets are read by one Python process.

Measured per setup: the connect burst (failures, time to open + hello; sockets that
failed are then retried ``--retry-concurrency`` at a time, as reconnecting clients would,
so the rest still runs with every socket), memory per socket (daphne RSS from /proc
before and after connecting, divided by the sockets), one event to all sockets
(``--rounds`` times), and a sustained ``--rate`` events/s for ``--seconds`` over
``--tickets`` tickets (expected = every event of the phase in the tenant's event log;
lost = expected - received, per socket). While the sustained goal fails it is measured
again with each of ``--few`` sockets (departments ``rt-first-<n>`` holding the first n
agents), so the table shows what the machine does hold.

``--app``, ``--server-env`` and ``--daphne-arg`` run daphne differently (a proposed
change as a wrapper module, a setting) without editing the app; the report then says
EXPERIMENT.

The tenant ``benchrt`` is provisioned once and reused (agents, sessions, tickets made in
bulk); each run replaces its sessions and API token and deletes the events and history
rows it wrote. Daphne processes are killed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Run as a script, this folder is sys.path[0] and this very file would be imported as
# the app's ``realtime`` package: put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.provisioning import (  # noqa: E402
    database_ensure,
    django_configure,
    percentile_nearest_rank,
    platform_migrate,
    progress,
)

GOAL_P99_MS = 100.0
RATE_HELD_FRACTION = 0.95  # the sustained goal counts only if the load reached 95% of it
SLUG = "benchrt"
EMAIL_DOMAIN = "benchrt.example.com"
AGENT_EMAIL = "rt-agent{:05d}@" + EMAIL_DOMAIN
MANAGER_EMAIL = "rt-manager@" + EMAIL_DOMAIN
DEPT_ALL = "rt-all"  # every agent; "rt-first-<n>": the first n agents (smaller loads)
TICKET_SUBJECT = "Realtime bench ticket"
SESSION_PREFIX = "benchrt"  # session keys of this bench start with it (so we can replace them)
TOKEN_NAME = "bench/realtime.py"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
CONNECT_TIMEOUT_S = 120.0
RETRY_ATTEMPTS, RETRY_PAUSE_S = 3, 2.0  # sockets that failed in the burst
DRAIN_QUIET_S = 10.0  # stop waiting for stragglers after this long without a delivery
DRAIN_CAP_S = 180.0
SETTLE_CAP_S = 600.0  # before a smaller load: the previous one's backlog must be through


# --- setup (this process, Django) -----------------------------------------------------


@dataclass
class Setup:
    schema_name: str
    host: str  # the tenant's host name, no port
    token: str
    dept_all: int
    sessions: list[str]  # one per agent, agent i first
    tickets_all: list[str]  # references
    smaller: list[tuple[int, int, list[str]]]  # (sockets, department id, ticket references)


def tenant_ensure() -> tuple[str, str]:
    """The ``benchrt`` tenant (provisioned on first use): schema name and host name."""
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from tenants.context import public_schema
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails, primary_domain_for, tenant_provision
    from tenants.tasks import pool_refill

    with public_schema():
        tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        progress(f"provisioning the tenant {SLUG!r}...")
        started = timezone.now()
        tenant = tenant_provision(
            name="Realtime Bench",
            slug=SLUG,
            owner=OwnerDetails(
                name="Bench Owner",
                email=f"owner@{EMAIL_DOMAIN}",
                password=secrets.token_urlsafe(16),
            ),
        )
        with public_schema():  # no worker runs here: don't leave the refill it queued
            DBTaskResult.objects.filter(
                task_path=pool_refill.module_path,
                status=TaskResultStatus.READY,
                enqueued_at__gte=started,
            ).delete()
    return tenant.schema_name, primary_domain_for(SLUG)


def people_ensure(*, schema_name: str, agents: int, few: list[int], tickets: int) -> dict[str, Any]:
    """Agents, a manager, departments, memberships and tickets, made in bulk, reused."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from helpdesk.models import Department, DepartmentMember, StatusCategory, Ticket
    from helpdesk.references import new_reference
    from helpdesk.services.tickets import status_for_stage
    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        password = make_password(secrets.token_urlsafe(16))  # one hash for everybody
        emails = [AGENT_EMAIL.format(i) for i in range(agents)]
        have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        User.objects.bulk_create(
            [
                User(
                    email=e, name=f"RT Agent {i}", role=Role.AGENT, is_staff=True, password=password
                )
                for i, e in enumerate(emails)
                if e not in have
            ],
            batch_size=500,
        )
        User.objects.filter(email__in=emails).update(role=Role.AGENT, is_staff=True, is_active=True)
        by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
        users = [by_email[e] for e in emails]
        manager = User.objects.filter(email=MANAGER_EMAIL).first()
        if manager is None:
            manager = User.objects.create(
                email=MANAGER_EMAIL, name="RT Manager", role=Role.MANAGER, is_staff=True,
                password=password,
            )  # fmt: skip
        wanted = {DEPT_ALL: users} | {f"rt-first-{n}": users[:n] for n in few}
        stale = Department.objects.filter(slug__startswith="rt-").exclude(slug__in=list(wanted))
        Ticket.objects.filter(department__in=stale).delete()  # an earlier run's --few
        stale.delete()
        departments = {}
        for slug in wanted:
            departments[slug], _ = Department.objects.get_or_create(
                slug=slug, defaults={"name": f"Realtime {slug}", "is_public": False}
            )
        for slug, members in wanted.items():
            department = departments[slug]
            ids = {u.pk for u in members}
            DepartmentMember.objects.filter(department=department).exclude(user_id__in=ids).delete()
            present = set(
                DepartmentMember.objects.filter(department=department).values_list(
                    "user_id", flat=True
                )
            )
            DepartmentMember.objects.bulk_create(
                [DepartmentMember(department=department, user_id=i) for i in ids - present],
                batch_size=1000,
            )
        # Tickets straight into the tables (setup, not measured): ticket_create would queue
        # a confirmation email each, and one per member of the department.
        status = status_for_stage(StatusCategory.NEW)
        refs: dict[str, list[str]] = {}
        for slug in wanted:
            department = departments[slug]
            mine = Ticket.objects.filter(department=department, subject__startswith=TICKET_SUBJECT)
            missing = tickets - mine.count()
            if missing > 0:
                Ticket.objects.bulk_create(
                    [
                        Ticket(
                            reference=new_reference(),
                            subject=f"{TICKET_SUBJECT} {slug} {n}",
                            department=department,
                            status=status,
                            stage=status.category,
                            channel="api",
                            requester_email=f"customer@{EMAIL_DOMAIN}",
                            requester_name="Bench Customer",
                        )  # fmt: skip
                        for n in range(missing)
                    ]
                )
            refs[slug] = list(mine.order_by("pk").values_list("reference", flat=True)[:tickets])
        return {
            "users": users,
            "manager": manager,
            "dept_all": departments[DEPT_ALL].pk,
            "tickets_all": refs[DEPT_ALL],
            "smaller": [(n, departments[f"rt-first-{n}"].pk, refs[f"rt-first-{n}"]) for n in few],
        }


def sessions_replace(*, schema_name: str, users: list) -> list[str]:
    """One committed session per agent (what a sign-in writes), bulk; old ones deleted."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from tenants.context import tenant_schema

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    expires = timezone.now() + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    keys, rows = [], []
    for user in users:
        key = SESSION_PREFIX + get_random_string(32 - len(SESSION_PREFIX), VALID_KEY_CHARS)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        keys.append(key)
    with tenant_schema(schema_name):
        Session.objects.filter(session_key__startswith=SESSION_PREFIX).delete()
        Session.objects.bulk_create(rows, batch_size=1000)
    return keys


def token_replace(*, schema_name: str, manager) -> str:
    from wagtail.models import APIToken

    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        APIToken.objects.filter(user=manager, name=TOKEN_NAME).delete()
        _instance, plaintext = APIToken.create_token(user=manager, name=TOKEN_NAME)
    return plaintext


def setup_ensure(*, agents: int, few: list[int], tickets: int) -> Setup:
    schema_name, host = tenant_ensure()
    progress(f"{agents} agents, departments, {tickets}+{tickets} tickets, sessions, a token...")
    made = people_ensure(schema_name=schema_name, agents=agents, few=few, tickets=tickets)
    return Setup(
        schema_name=schema_name,
        host=host,
        token=token_replace(schema_name=schema_name, manager=made["manager"]),
        dept_all=made["dept_all"],
        sessions=sessions_replace(schema_name=schema_name, users=made["users"]),
        tickets_all=made["tickets_all"],
        smaller=made["smaller"],
    )


def event_max_id(schema_name: str) -> int:
    from django.db.models import Max

    from realtime.models import Event
    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        return Event.objects.aggregate(m=Max("pk"))["m"] or 0


def event_ids_since(schema_name: str, after_id: int, department_id: int) -> set[int]:
    from realtime.models import Event
    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        return set(
            Event.objects.filter(
                pk__gt=after_id, audiences__overlap=[f"dept.{department_id}"]
            ).values_list("pk", flat=True)
        )


def bench_rows_cleanup(schema_name: str, after_id: int) -> None:
    """The events and ticket history rows this run wrote (the tenant itself stays)."""
    from helpdesk.models import TicketEvent
    from realtime.models import Event
    from tenants.context import tenant_schema

    with tenant_schema(schema_name):
        Event.objects.filter(pk__gt=after_id).delete()
        TicketEvent.objects.filter(ticket__subject__startswith=TICKET_SUBJECT).delete()


# --- daphne ---------------------------------------------------------------------------


def port_free() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ServerOptions:
    """How daphne runs: the product's command unless an experiment says otherwise."""

    app: str = "saas.asgi:application"
    env: dict[str, str] = field(default_factory=dict)  # e.g. CONN_MAX_AGE=60
    args: list[str] = field(default_factory=list)  # e.g. --websocket_connect_timeout=60
    keep_logs: bool = False


class Daphne:
    def __init__(self, *, redis_url: str | None, options: ServerOptions) -> None:
        self.port = port_free()
        self.redis_url = redis_url
        self.options = options
        self.log = tempfile.NamedTemporaryFile(
            prefix=f"daphne-{self.port}-", suffix=".log", delete=False
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        from django.conf import settings

        from saas.start import daphne_arguments

        # As in production: DEBUG off (no query log). The same secret key as this process,
        # which made the sessions and the API token (both are keyed with it).
        env = dict(
            os.environ, DEBUG="0", LOG_LEVEL="WARNING", SECRET_KEY=settings.SECRET_KEY,
            PUBLIC_SCHEME="http",  # TLS ends at a proxy in production; none here
        )  # fmt: skip
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.options.env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", *daphne_arguments("127.0.0.1", self.port),
             *self.options.args, self.options.app],
            cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        if self.options.keep_logs:
            progress(f"daphne log: {self.log.name}")
        else:
            Path(self.log.name).unlink(missing_ok=True)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])


def http_client(setup: Setup, server: Daphne, *, connections: int):
    import httpx

    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server.port}",
        headers={
            "Host": f"{setup.host}:{server.port}",
            "Authorization": f"Bearer {setup.token}",
        },
        timeout=60.0,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )


async def daphne_ready(setup: Setup, server: Daphne, timeout: float = 90.0) -> None:
    """Until the API answers 200 (the app is loaded and the token works)."""
    import httpx

    deadline = time.monotonic() + timeout
    async with http_client(setup, server, connections=1) as http:
        while time.monotonic() < deadline:
            if server.proc is not None and server.proc.poll() is not None:
                raise RuntimeError(f"daphne on {server.port} exited:\n{server.log_tail()}")
            try:
                response = await http.get("/api/v1/departments")
            except httpx.TransportError:  # not listening yet
                await asyncio.sleep(0.3)
                continue
            if response.status_code != 200:
                raise RuntimeError(f"daphne on {server.port}: HTTP {response.status_code}")
            return
    raise RuntimeError(f"daphne on {server.port} not ready after {timeout:.0f}s")


# --- clients --------------------------------------------------------------------------


@dataclass
class Agent:
    index: int
    session_key: str
    server: Daphne
    ws: Any = None
    reader: asyncio.Task | None = None
    connect_ms: float = 0.0
    error: str = ""
    closed: str = ""


def event_timestamp(event: dict[str, Any]) -> float | None:
    """The row timestamp an event carries (ticket.updated_at / message.created_at)."""
    stamp = None
    if isinstance(event.get("message"), dict):
        stamp = event["message"].get("created_at")
    elif isinstance(event.get("ticket"), dict):
        stamp = event["ticket"].get("updated_at")
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


class Recorder:
    """What the sockets received during one measured phase (events of one department).

    Frames are recorded as they arrive and decoded once per distinct text: the hub sends
    one text to every socket of a group, so parsing it a thousand times would make this
    process, not the server, the thing measured. Which socket got which event, and when,
    is worked out after the phase (``ids``, ``latencies_ms``).
    """

    def __init__(self, sockets: int) -> None:
        self.sockets = sockets
        self.active = False
        self.department_id = 0
        self.after_id = 0
        self.target = math.inf
        self.last_delivery = time.monotonic()
        self.last_frame = time.time()  # any frame, measured or not
        self.capped = False
        self.reached = asyncio.Event()
        self._reset()

    def _reset(self) -> None:
        self.received = 0  # deliveries counted as they arrive (a duplicate counts twice)
        self._decoded: dict[str, tuple[tuple[int, ...], tuple[float | None, ...]]] = {}
        self._log: list[tuple[int, float, tuple]] = []  # (socket, received_at, decoded)
        self._summary: tuple[list[set[int]], array] | None = None

    def start(self, *, department_id: int, after_id: int, target: float = math.inf) -> None:
        self._reset()
        self.department_id, self.after_id = department_id, after_id
        self.target = target
        self.capped = False
        self.reached = asyncio.Event()
        self.last_delivery = time.monotonic()
        self.active = True

    def set_target(self, target: float) -> None:
        self.target = target
        if self.received >= target:
            self.reached.set()

    def _decode(self, raw: str) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
        """The ids and row timestamps of this phase's events in one frame."""
        message = json.loads(raw)
        # Under load the hub sends one frame per tick with that tick's events.
        frames = message.get("frames", []) if message.get("type") == "batch" else [message]
        ids, stamps = [], []
        for frame in frames:
            if frame.get("type") != "event" or frame["id"] <= self.after_id:
                continue
            event = frame["event"]
            ticket = event.get("ticket")
            if not isinstance(ticket, dict) or ticket.get("department_id") != self.department_id:
                continue
            ids.append(frame["id"])
            stamps.append(event_timestamp(event))
        return tuple(ids), tuple(stamps)

    def frame(self, index: int, raw: str, received_at: float) -> None:
        if not self.active:
            return
        decoded = self._decoded.get(raw)
        if decoded is None:
            decoded = self._decoded[raw] = self._decode(raw)
        if not decoded[0]:
            return
        self._log.append((index, received_at, decoded))
        self._summary = None
        self.received += len(decoded[0])
        self.last_delivery = time.monotonic()
        if self.received >= self.target:
            self.reached.set()

    def _summarize(self) -> tuple[list[set[int]], array]:
        if self._summary is None:
            ids: list[set[int]] = [set() for _ in range(self.sockets)]
            latencies = array("d")
            for index, received_at, (event_ids, stamps) in self._log:
                seen = ids[index]
                for event_id, stamp in zip(event_ids, stamps, strict=True):
                    if event_id in seen:  # a socket's second copy is not a delivery
                        continue
                    seen.add(event_id)
                    if stamp is not None:
                        latencies.append((received_at - stamp) * 1000)
            self._summary = (ids, latencies)
        return self._summary

    def latency_by_second(self) -> str:
        """Median latency of the events stamped in each second of the phase: whether a
        backlog built up, and when (with the fastest delivery of a second that is slow
        even at best: the server, not some sockets, was late)."""
        buckets: dict[int, list[float]] = {}
        first = None
        for _index, received_at, (_ids, stamps) in self._log:
            for stamp in stamps:
                if stamp is None:
                    continue
                first = stamp if first is None else min(first, stamp)
                buckets.setdefault(int(stamp), []).append((received_at - stamp) * 1000)
        if not buckets:
            return ""
        start = int(first)
        return " ".join(
            f"{second - start}s:{statistics.median(values):.0f}"
            + (f"(min {min(values):.0f})" if min(values) > 2 * statistics.median(all_) else "")
            for all_ in [[v for values in buckets.values() for v in values]]
            for second, values in sorted(buckets.items())
        )

    @property
    def ids(self) -> list[set[int]]:
        """Per socket, the ids of this phase's events it received."""
        return self._summarize()[0]

    @property
    def latencies_ms(self) -> array:
        """Receive time - row timestamp, for each socket's first copy of each event."""
        return self._summarize()[1]

    @property
    def delivered(self) -> int:
        return sum(len(ids) for ids in self.ids)

    async def settle(self, *, quiet: float = 2.0, cap: float = 60.0) -> bool:
        """Until no frame at all arrived for ``quiet`` seconds (a backlog is out of the way)."""
        started = time.time()
        while time.time() - self.last_frame < quiet:
            if time.time() - started > cap:
                return False
            await asyncio.sleep(0.25)
        return True

    async def drain(self, *, quiet: float = DRAIN_QUIET_S, cap: float = DRAIN_CAP_S) -> str:
        """Wait until every expected delivery arrived, deliveries stop, or ``cap`` passes.

        Says how it ended: what is missing after deliveries stopped is lost; what is
        missing while they still flow at the cap is undelivered (late, maybe not lost).
        """
        started = time.monotonic()
        self.last_delivery = max(self.last_delivery, time.monotonic())  # the load just ended
        while not self.reached.is_set():
            now = time.monotonic()
            if now - self.last_delivery > quiet:
                return f"deliveries stopped {now - started - quiet:.1f}s after the load"
            if now - started > cap:
                self.capped = True
                return f"still arriving {cap:.0f}s after the load (cap)"
            try:
                await asyncio.wait_for(self.reached.wait(), timeout=0.5)
            except TimeoutError:
                pass
        return f"all arrived {time.monotonic() - started:.1f}s after the load"


async def agent_read(agent: Agent, recorder: Recorder) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        async for raw in agent.ws:
            received_at = recorder.last_frame = time.time()
            recorder.frame(agent.index, raw, received_at)
    except ConnectionClosed as closed:
        agent.closed = f"closed {closed.rcvd.code if closed.rcvd else 'abnormally'}"


def errors_count(agents: list[Agent]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for agent in agents:
        if agent.error:
            counts[agent.error] = counts.get(agent.error, 0) + 1
    return counts


def connect_error(error: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, InvalidMessage):  # e.g. the server dropped the handshake
        return f"no HTTP response ({error.__cause__ or error})"
    if isinstance(error, ConnectionClosed):
        return f"closed {error.rcvd.code if error.rcvd else 'abnormally'}"
    if isinstance(error, TimeoutError):
        return "timeout"
    return type(error).__name__


async def agent_connect_websockets(agent: Agent, setup: Setup, recorder: Recorder) -> None:
    from websockets.asyncio.client import connect

    port = agent.server.port
    started = time.perf_counter()
    try:
        ws = await connect(
            f"ws://{setup.host}:{port}/ws/desk/",
            host="127.0.0.1",
            port=port,
            origin=f"http://{setup.host}:{port}",
            additional_headers={"Cookie": f"sessionid={agent.session_key}"},
            open_timeout=CONNECT_TIMEOUT_S,
            ping_interval=None,  # daphne pings; a busy client must not drop sockets itself
            close_timeout=5,
            max_size=2**24,
            compression=None,
            proxy=None,
        )
        await ws.send('{"type": "hello"}')
        reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=CONNECT_TIMEOUT_S))
        if reply.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {reply.get('type')!r}")
    except Exception as error:
        agent.error = connect_error(error)
        return
    agent.connect_ms = (time.perf_counter() - started) * 1000
    agent.ws = ws
    agent.reader = asyncio.create_task(agent_read(agent, recorder))


# The instrument: 1,000 sockets read by one Python process. With the ``websockets``
# library each frame costs this process a parse in Python, a queue and a task wake-up;
# at 200 events/s that was half a CPU here, on a machine of two, taken from daphne and
# PostgreSQL and counted as latency. picows parses in C and calls back without a task.


class PicowsSocket:
    """One agent's socket on picows: frames go straight to the recorder, as they come."""

    def __init__(self, agent: Agent, recorder: Recorder) -> None:
        self.agent, self.recorder = agent, recorder
        self.transport = None
        self.hello: asyncio.Future = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self._parts: list[bytes] = []

    def listener(self):
        from picows import WSListener, WSMsgType

        socket_ = self
        text, binary, continuation = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION
        close = WSMsgType.CLOSE

        class Listener(WSListener):
            def on_ws_frame(self, transport, frame) -> None:
                kind = frame.msg_type
                if kind in (text, binary, continuation):
                    payload = frame.get_payload_as_bytes()
                    if not frame.fin or socket_._parts:  # a fragmented message
                        socket_._parts.append(payload)
                        if not frame.fin:
                            return
                        payload, socket_._parts = b"".join(socket_._parts), []
                    socket_.received(payload)
                elif kind == close:
                    code = frame.get_close_code()
                    socket_.close_code = int(code)
                    transport.send_close(code)
                    transport.disconnect()

            def on_ws_disconnected(self, transport) -> None:
                if socket_.close_code is None:
                    socket_.agent.closed = "closed abnormally"
                if not socket_.hello.done():
                    socket_.hello.set_exception(ConnectionError("closed before hello"))

        return Listener

    def received(self, raw: bytes) -> None:
        if not self.hello.done():
            self.hello.set_result(raw)
            return
        received_at = self.recorder.last_frame = time.time()
        self.recorder.frame(self.agent.index, raw, received_at)

    async def close(self) -> None:
        if self.transport is None:
            return
        from picows import WSCloseCode

        self.transport.send_close(WSCloseCode.OK)
        try:
            await asyncio.wait_for(self.transport.wait_disconnected(), timeout=5)
        except TimeoutError:
            self.transport.disconnect()


async def agent_connect_picows(agent: Agent, setup: Setup, recorder: Recorder) -> None:
    from picows import WSError, WSMsgType, ws_connect

    port = agent.server.port
    socket_ = PicowsSocket(agent, recorder)
    started = time.perf_counter()
    try:
        transport, _ = await asyncio.wait_for(
            ws_connect(
                socket_.listener(),
                f"ws://127.0.0.1:{port}/ws/desk/",
                websocket_handshake_timeout=CONNECT_TIMEOUT_S,
                enable_auto_ping=False,  # daphne pings; a busy client must not drop sockets
                enable_auto_pong=True,
                max_frame_size=2**24,
                extra_headers={
                    "Host": f"{setup.host}:{port}",
                    "Origin": f"http://{setup.host}:{port}",
                    "Cookie": f"sessionid={agent.session_key}",
                },
            ),
            timeout=CONNECT_TIMEOUT_S,
        )
        socket_.transport = transport
        transport.send(WSMsgType.TEXT, b'{"type": "hello"}')
        reply = json.loads(await asyncio.wait_for(socket_.hello, timeout=CONNECT_TIMEOUT_S))
        if reply.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {reply.get('type')!r}")
    except WSError as error:
        agent.error = f"handshake refused ({str(error)[:60]})"
        return
    except Exception as error:
        if socket_.transport is not None:
            socket_.transport.disconnect()
        agent.error = connect_error(error)
        return
    agent.connect_ms = (time.perf_counter() - started) * 1000
    agent.ws = socket_


CLIENTS = {"picows": agent_connect_picows, "websockets": agent_connect_websockets}
CLIENT = "picows"  # set from --client


async def agent_connect(agent: Agent, setup: Setup, recorder: Recorder) -> None:
    await CLIENTS[CLIENT](agent, setup, recorder)


async def agents_close(agents: list[Agent]) -> None:
    async def close(agent: Agent) -> None:
        try:
            await asyncio.wait_for(agent.ws.close(), timeout=10)
        except Exception:
            pass
        if agent.reader is not None:
            agent.reader.cancel()

    await asyncio.gather(*(close(a) for a in agents if a.ws is not None))


# --- results --------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    layer: str
    trigger: str
    sockets: int
    events: int = 0
    rate: float | None = None
    latencies_ms: array = field(default_factory=lambda: array("d"))
    lost: int | None = None
    worst_socket_lost: int = 0
    note: str = ""
    verdict: str = ""
    target_rate: float | None = None
    late: bool = False  # missing deliveries were still arriving when the wait was capped

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies_ms:
            return None
        return percentile_nearest_rank(list(self.latencies_ms), fraction)


@dataclass
class SetupReport:
    layer: str
    processes: int
    attempted: int
    burst_open: int
    burst_failures: dict[str, int]
    burst_connect_ms: list[float]
    burst_s: float
    opened: int = 0  # after the retry
    retry_concurrency: int = 0
    retried: int = 0
    retry_s: float = 0.0
    retry_failures: dict[str, int] = field(default_factory=dict)
    rss_before_kib: list[int] = field(default_factory=list)
    rss_after_kib: list[int] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    cpu: list[str] = field(default_factory=list)


def verdict_latency(row: Row) -> str:
    p99 = row.percentile(0.99)
    ok = p99 is not None and p99 <= GOAL_P99_MS and row.lost in (0, None)
    return "PASS" if ok else "FAIL"


def verdict_sustained(row: Row) -> str:
    reasons = []
    if row.target_rate and (row.rate or 0) < RATE_HELD_FRACTION * row.target_rate:
        reasons.append(f"rate {row.rate:.0f}/s < {row.target_rate:.0f}/s")
    p99 = row.percentile(0.99)
    if p99 is None or p99 > GOAL_P99_MS:
        reasons.append("p99")
    if row.lost:
        reasons.append("undelivered" if row.late else "lost")
    return "PASS" if not reasons else "FAIL (" + ", ".join(reasons) + ")"


# --- measurements ---------------------------------------------------------------------


class CpuWatch:
    """CPU used by daphne(s) and this process between start() and stop()."""

    def __init__(self, servers: list[Daphne]) -> None:
        self.pids = {f"daphne:{s.port}": s.pid for s in servers} | {"bench (clients)": os.getpid()}

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.c0 = {name: proc_cpu_s(pid) for name, pid in self.pids.items()}

    def stop(self, extra: dict[str, float] | None = None) -> str:
        elapsed = time.monotonic() - self.t0
        parts = [
            f"{name} {100 * (proc_cpu_s(pid) - self.c0[name]) / elapsed:.0f}%"
            for name, pid in self.pids.items()
        ]
        for name, seconds in (extra or {}).items():
            parts.append(f"{name} {100 * seconds / elapsed:.0f}%")
        return f"CPU over {elapsed:.1f}s: " + ", ".join(parts)


async def patch_tags(http, reference: str, tag: str) -> bool:
    response = await http.patch(f"/api/v1/tickets/{reference}", json={"tags": [tag]})
    return response.status_code == 200


async def single_event(
    *, setup: Setup, layer: str, http, agents: list[Agent], recorder: Recorder, rounds: int
) -> Row:
    """One event to every socket, ``rounds`` times (plus one untimed warm-up)."""
    open_agents = sum(1 for a in agents if a.ws is not None)
    row = Row(case="single event to all", layer=layer, trigger="HTTP PATCH", sockets=open_agents)
    worst, incomplete = [], 0
    nonce = secrets.token_hex(3)
    for number in range(rounds + 1):
        after = await asyncio.to_thread(event_max_id, setup.schema_name)
        recorder.start(department_id=setup.dept_all, after_id=after, target=open_agents)
        reference = setup.tickets_all[number % len(setup.tickets_all)]
        if not await patch_tags(http, reference, f"rt-{nonce}-{number}"):
            raise RuntimeError(f"PATCH {reference} failed")
        await recorder.drain(quiet=5.0, cap=30.0)
        recorder.active = False
        if number == 0:  # warm-up: first PATCH of the process pays for imports and caches
            continue
        row.events += 1
        row.latencies_ms.extend(recorder.latencies_ms)
        worst.append(max(recorder.latencies_ms) if recorder.latencies_ms else math.nan)
        incomplete += open_agents - recorder.delivered
        await asyncio.sleep(0.5)
    row.lost = incomplete
    row.note = "slowest socket per event: " + " ".join(f"{w:.0f}" for w in worst) + " ms"
    row.verdict = verdict_latency(row)
    return row


async def sustained_http(
    *, setup: Setup, layer: str, servers: list[Daphne], agents: list[Agent],
    recorder: Recorder, department_id: int, tickets: list[str], rate: float, seconds: float,
    concurrency: int, sockets: int,
) -> tuple[Row, str]:  # fmt: skip
    """``rate`` PATCHes/s (one event each) for ``seconds``, round robin over ``tickets``."""
    after = await asyncio.to_thread(event_max_id, setup.schema_name)
    recorder.start(department_id=department_id, after_id=after)
    watch = CpuWatch(servers)
    watch.start()
    clients = [http_client(setup, s, connections=concurrency) for s in servers]
    gate = asyncio.Semaphore(concurrency)
    total = int(rate * seconds)
    ok = failed = 0
    nonce = secrets.token_hex(3)
    loop = asyncio.get_running_loop()

    async def one(number: int) -> None:
        nonlocal ok, failed
        try:
            http = clients[number % len(clients)]
            reference = tickets[number % len(tickets)]
            if await patch_tags(http, reference, f"rs-{nonce}-{number}"):
                ok += 1
            else:
                failed += 1
        except Exception:
            failed += 1
        finally:
            gate.release()

    started = loop.time()
    tasks = []
    for number in range(total):
        delay = started + number / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if loop.time() - started > seconds:  # behind schedule: the window is over
            break
        await gate.acquire()
        tasks.append(asyncio.create_task(one(number)))
    await asyncio.gather(*tasks)
    load_s = loop.time() - started
    for client in clients:
        await client.aclose()
    recorder.set_target(ok * sum(1 for a in agents[:sockets] if a.ws is not None))
    drained = await recorder.drain()
    recorder.active = False
    cpu = watch.stop()
    row = await sustained_row(
        setup=setup, layer=layer, trigger="HTTP PATCH", recorder=recorder, agents=agents,
        department_id=department_id, after=after, load_s=load_s, rate=rate, sockets=sockets,
    )  # fmt: skip
    row.note = f"{ok} PATCH ok, {failed} failed; {drained}" + row.note
    return row, cpu


async def sustained_worker(
    *, setup: Setup, layer: str, servers: list[Daphne], agents: list[Agent],
    recorder: Recorder, department_id: int, rate: float, seconds: float, sockets: int,
    redis_url: str | None, publishers: int,
) -> tuple[Row, str]:  # fmt: skip
    """Publisher subprocesses (background workers) calling publish_on_commit, ``rate`` in all."""
    after = await asyncio.to_thread(event_max_id, setup.schema_name)
    recorder.start(department_id=department_id, after_id=after)
    watch = CpuWatch(servers)
    env = dict(os.environ, DEBUG="1", LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    processes = []
    for number in range(publishers):
        argv = [
            "--publisher", "--schema", setup.schema_name, "--department", str(department_id),
            "--rate", str(rate / publishers), "--seconds", str(seconds),
            "--offset", str(number), "--publishers", str(publishers),
        ]  # fmt: skip
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).resolve()),
                *argv,
                cwd=REPO_ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        )
    reports = []
    try:
        # Every worker has started (imports, Django, a first delivery) before the load
        # begins, so no worker's start competes with the others' load for the CPU.
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            if line.strip() != b"ready":
                raise RuntimeError(f"publisher did not start: {line[:200]!r}")
        start_at = time.monotonic() + 0.05
        watch.start()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(f"{start_at}\n".encode())
            await process.stdin.drain()
            process.stdin.close()
        for process in processes:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 120)
            if process.returncode != 0:
                raise RuntimeError(f"publisher failed ({process.returncode})")
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    publish_ms = [t for r in reports for t in r["publish_ms"]]
    report = {
        "published": sum(r["published"] for r in reports),
        "elapsed_s": max(r["elapsed_s"] for r in reports),
        "cpu_s": sum(r["cpu_s"] for r in reports),
        "publish_p50_ms": statistics.median(publish_ms) if publish_ms else math.nan,
        "publish_p99_ms": percentile_nearest_rank(publish_ms, 0.99) if publish_ms else math.nan,
    }
    publisher_cpu = report["cpu_s"]
    recorder.set_target(report["published"] * sum(1 for a in agents[:sockets] if a.ws is not None))
    drained = await recorder.drain()
    recorder.active = False
    cpu = watch.stop({"publishers": publisher_cpu})
    row = await sustained_row(
        setup=setup, layer=layer, trigger=f"{publishers} workers publish_on_commit",
        recorder=recorder, agents=agents, department_id=department_id, after=after,
        load_s=report["elapsed_s"], rate=rate, sockets=sockets,
    )  # fmt: skip
    row.note = (
        f"publish p50 {report['publish_p50_ms']:.1f} / p99 {report['publish_p99_ms']:.1f} ms "
        f"each; {drained}" + row.note
    )
    return row, cpu


def sockets_closed(agents: list[Agent]) -> str:
    """ "; N of these sockets closed (codes)" -- the bench never reconnects them."""
    codes: dict[str, int] = {}
    for agent in agents:
        code = agent.ws.close_code if agent.ws is not None else None
        if code is not None or agent.closed:
            key = str(code) if code is not None else agent.closed
            codes[key] = codes.get(key, 0) + 1
    if not codes:
        return ""
    detail = ", ".join(f"code {k} x{v}" for k, v in sorted(codes.items()))
    return f"; {sum(codes.values())} of these sockets closed by now ({detail})"


async def sustained_row(
    *, setup: Setup, layer: str, trigger: str, recorder: Recorder, agents: list[Agent],
    department_id: int, after: int, load_s: float, rate: float, sockets: int,
) -> Row:  # fmt: skip
    expected = await asyncio.to_thread(event_ids_since, setup.schema_name, after, department_id)
    targets = [a for a in agents[:sockets] if a.ws is not None]
    lost = [len(expected - recorder.ids[a.index]) for a in targets]
    row = Row(
        case=f"sustained {rate:.0f}/s x {load_s:.0f}s",
        layer=layer,
        trigger=trigger,
        sockets=len(targets),
        events=len(expected),
        rate=len(expected) / load_s if load_s else 0.0,
        latencies_ms=recorder.latencies_ms,
        lost=sum(lost),
        worst_socket_lost=max(lost, default=0),
        target_rate=rate,
        late=recorder.capped,
    )
    missing = "undelivered at the cap (late, not proven lost)" if row.late else "lost"
    row.note = (
        f"; {len(expected) * len(targets):,} deliveries expected, {sum(lost):,} {missing}"
        f" (worst socket {row.worst_socket_lost})" + sockets_closed(targets)
    )
    deaf = sum(1 for n in lost if expected and n == len(expected))
    if deaf:
        row.note += f"; {deaf} open sockets received none of them"
    row.verdict = verdict_sustained(row)
    by_second = recorder.latency_by_second()
    if by_second:
        row.note += f"; median ms by second of the load: {by_second}"
    return row


async def setup_measure(
    *, setup: Setup, layer: str, redis_url: str | None, processes: int, args: argparse.Namespace
) -> SetupReport:
    servers = [Daphne(redis_url=redis_url, options=args.server) for _ in range(processes)]
    agents: list[Agent] = []
    try:
        for server in servers:
            server.start()
        progress(
            f"[{layer}] starting {processes} daphne process(es) on {[s.port for s in servers]}..."
        )
        await asyncio.gather(*(daphne_ready(setup, s) for s in servers))
        recorder = Recorder(len(setup.sessions))
        # Warm-up: one socket per process (loads the consumer code path), then RSS.
        warm = [Agent(index=0, session_key=setup.sessions[0], server=s) for s in servers]
        await asyncio.gather(*(agent_connect(a, setup, recorder) for a in warm))
        if any(a.error for a in warm):
            raise RuntimeError(f"warm-up socket failed: {[a.error for a in warm]}")
        await agents_close(warm)
        await asyncio.sleep(1.0)
        rss_before = [proc_rss_kib(s.pid) for s in servers]

        agents = [
            Agent(index=i, session_key=key, server=servers[i % processes])
            for i, key in enumerate(setup.sessions)
        ]
        progress(f"[{layer}] connecting {len(agents)} sockets at once...")
        started = time.perf_counter()
        await asyncio.gather(*(agent_connect(a, setup, recorder) for a in agents))
        report = SetupReport(
            layer=layer,
            processes=processes,
            attempted=len(agents),
            burst_open=sum(1 for a in agents if a.ws is not None),
            burst_failures=errors_count(agents),
            burst_connect_ms=[a.connect_ms for a in agents if a.ws is not None],
            burst_s=time.perf_counter() - started,
            rss_before_kib=rss_before,
        )
        failed = [a for a in agents if a.ws is None]
        if failed and args.retry_concurrency:
            # So that the delivery measurements still see every socket: what a client's
            # reconnect would do, without the burst.
            progress(
                f"[{layer}] {len(failed)} failed; retrying them "
                f"{args.retry_concurrency} at a time..."
            )
            report.retry_concurrency, report.retried = args.retry_concurrency, len(failed)
            gate = asyncio.Semaphore(args.retry_concurrency)

            async def again(agent: Agent) -> None:
                # Like a reconnecting client: a few attempts, a pause between them (the
                # server may still be working through the handshakes the burst left).
                for attempt in range(RETRY_ATTEMPTS):
                    if attempt:
                        await asyncio.sleep(RETRY_PAUSE_S)
                    async with gate:
                        agent.error = ""
                        await agent_connect(agent, setup, recorder)
                    if agent.ws is not None:
                        return

            started = time.perf_counter()
            await asyncio.gather(*(again(a) for a in failed))
            report.retry_s = time.perf_counter() - started
            report.retry_failures = errors_count(failed)
        report.opened = sum(1 for a in agents if a.ws is not None)
        # This process is the measuring instrument: its own full garbage collections
        # (the frame log grows to a few hundred thousand entries) stalled every socket's
        # reads for hundreds of ms, late in each phase. None while measuring.
        gc.collect()
        gc.freeze()
        gc.disable()
        await asyncio.sleep(1.0)
        report.rss_after_kib = [proc_rss_kib(s.pid) for s in servers]
        progress(f"[{layer}] {report.opened} open; one event to all, {args.rounds} rounds...")
        async with http_client(setup, servers[0], connections=4) as http:
            report.rows.append(
                await single_event(
                    setup=setup, layer=layer, http=http, agents=agents, recorder=recorder,
                    rounds=args.rounds,
                )
            )  # fmt: skip

        async def sustained(sockets: int, department_id: int, tickets: list[str]) -> Row:
            progress(
                f"[{layer}] sustained {args.rate:.0f} events/s for {args.seconds:.0f}s to "
                f"{sockets} sockets ({args.trigger})..."
            )
            if args.trigger == "worker":
                row, cpu = await sustained_worker(
                    setup=setup, layer=layer, servers=servers, agents=agents, recorder=recorder,
                    department_id=department_id, rate=args.rate, seconds=args.seconds,
                    sockets=sockets, redis_url=redis_url, publishers=args.publishers,
                )  # fmt: skip
            else:
                row, cpu = await sustained_http(
                    setup=setup, layer=layer, servers=servers, agents=agents, recorder=recorder,
                    department_id=department_id, tickets=tickets, rate=args.rate,
                    seconds=args.seconds, concurrency=args.concurrency, sockets=sockets,
                )  # fmt: skip
            report.rows.append(row)
            report.cpu.append(f"{row.case} to {row.sockets} sockets: {cpu}")
            # A backlog must not spill into the next phase: wait (bounded) for silence.
            if not await recorder.settle(cap=SETTLE_CAP_S):
                report.cpu.append(f"backlog still arriving {SETTLE_CAP_S:.0f}s after {row.case}")
            return row

        full = await sustained(len(agents), setup.dept_all, setup.tickets_all)
        row = full
        for sockets, department_id, tickets in setup.smaller:  # while the goal is missed
            if row.verdict.startswith("PASS"):
                break
            row = await sustained(sockets, department_id, tickets)
        return report
    finally:
        gc.enable()
        gc.unfreeze()
        progress(f"[{layer}] closing sockets, stopping daphne...")
        try:
            await asyncio.wait_for(agents_close(agents), timeout=60)
        except Exception:
            pass
        for server in servers:
            server.stop()


# --- the publisher subprocess (a background worker) -----------------------------------


def publisher_main(args: argparse.Namespace) -> None:
    """Paced ``publish_on_commit`` of ticket.updated events; one JSON line on stdout."""
    django_configure()
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from helpdesk import events
    from helpdesk.models import Ticket
    from realtime.publish import publish_on_commit
    from tenants.context import tenant_schema

    with tenant_schema(args.schema):
        tickets = list(
            Ticket.objects.select_related("department", "status", "assignee")
            .filter(department_id=args.department, subject__startswith=TICKET_SUBJECT)
            .order_by("pk")
        )
        # The payload ticket_update's event carries (helpdesk.events builds the summary).
        summaries = [events._summary(t) for t in tickets]
        audiences = [[f"dept.{t.department_id}", "managers", f"ticket.{t.pk}"] for t in tickets]
    # Warm-up, untimed: a worker's first delivery imports and connects (~0.3 s); the
    # audience is one nobody listens to, so no socket counts it.
    with tenant_schema(args.schema), transaction.atomic():
        publish_on_commit(schema_name=args.schema, audiences=["bench.warmup"], event={})
    # A worker is a long-running process: its start (django.setup(), 2-5 s of CPU)
    # is no part of the load. Say so, then wait for the common start time (on Linux
    # time.monotonic() is one clock for every process) and keep to this publisher's
    # place in the round: publisher k of n sends at k/n of each of its intervals.
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    total = int(args.rate * args.seconds)
    timings = []
    cpu0 = time.process_time()
    started = start_at + args.offset / (args.rate * args.publishers)
    published = 0
    for number in range(total):
        delay = started + number / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() - started > args.seconds:
            break
        which = (number * args.publishers + args.offset) % len(tickets)
        t0 = time.perf_counter()
        with tenant_schema(args.schema), transaction.atomic():
            summary = dict(summaries[which], updated_at=timezone.now().isoformat())
            publish_on_commit(
                schema_name=args.schema,
                audiences=audiences[which],
                event={"type": "ticket.updated", "v": events.VERSION, "ticket": summary,
                       "changes": ["tags"]},
            )  # fmt: skip
        timings.append((time.perf_counter() - t0) * 1000)
        published += 1
    print(
        json.dumps(
            {
                "published": published,
                "elapsed_s": time.monotonic() - started,
                "cpu_s": time.process_time() - cpu0,
                "publish_ms": [round(t, 2) for t in timings],
            }
        ),
        flush=True,
    )


# --- report ---------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.0f}"


def report_print(reports: list[SetupReport], server: ServerOptions) -> None:
    from bench.machine import speed_line

    print(speed_line())
    print(
        f"Live updates: agents on /ws/desk/ of tenant {SLUG!r}, real websocket clients ({CLIENT}, "
        f"one Python process), daphne subprocess(es), all on this machine ({os.cpu_count()} CPUs)."
    )
    print(
        "Latency = client receive time - the event's row timestamp (ticket.updated_at, set "
        "just before commit):\nan upper bound of commit-to-delivery by the commit's few ms."
    )
    if server != ServerOptions(keep_logs=server.keep_logs):
        extra = " ".join(
            [
                *(f"{k}={v}" for k, v in server.env.items()),
                "python -m daphne",
                *server.args,
                server.app,
            ]
        )
        print(f"EXPERIMENT, not the product's setup: {extra}")
    print()
    print("Connect burst (all sockets at once, each then says hello; goal: 0 failed)")
    print(
        f"{'layer':<10} {'daphne':>6} {'sockets':>7} {'open':>5} {'failed':>6} {'burst s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  verdict"
    )
    for r in reports:
        failed = sum(r.burst_failures.values())
        times = r.burst_connect_ms
        p50 = statistics.median(times) if times else None
        p99 = percentile_nearest_rank(times, 0.99) if times else None
        print(
            f"{r.layer:<10} {r.processes:>6} {r.attempted:>7} {r.burst_open:>5} {failed:>6} "
            f"{r.burst_s:>7.1f} {ms(p50):>7} {ms(p99):>7} {ms(max(times, default=None)):>7}  "
            f"{'FAIL' if failed else 'PASS'}"
        )
        for reason, count in sorted(r.burst_failures.items()):
            print(f"{'':<11}failed: {reason} x{count}")
        if r.retried:
            retry_failed = sum(r.retry_failures.values())
            print(
                f"{'':<11}then the {r.retried} failed retried, {r.retry_concurrency} at a time: "
                f"{r.retried - retry_failed} open in {r.retry_s:.1f}s "
                f"({(r.retried - retry_failed) / r.retry_s:.1f}/s), {retry_failed} still failing "
                f"after {RETRY_ATTEMPTS} attempts"
            )
    print()
    print("Memory per connected socket (daphne RSS from /proc before and after connecting)")
    for r in reports:
        grown = sum(r.rss_after_kib) - sum(r.rss_before_kib)
        rss = ", ".join(
            f"{b / 1024:.0f} -> {a / 1024:.0f} MiB"
            for b, a in zip(r.rss_before_kib, r.rss_after_kib, strict=True)
        )
        per_socket = f"{grown / r.opened:.1f} KiB" if r.opened else "-"
        print(f"{r.layer:<10} {r.opened:>5} sockets: {per_socket} per socket ({rss})")
    print()
    print(
        f"Delivery (goal: p99 <= {GOAL_P99_MS:.0f} ms; sustained: also 0 lost and the rate "
        f"held >= {RATE_HELD_FRACTION:.0%}; latencies in ms)"
    )
    print(
        f"{'case':<22} {'layer':<10} {'trigger':<28} {'sockets':>7} {'events':>6} "
        f"{'ev/s':>6} {'p50':>6} {'p99':>6} {'max':>6} {'lost':>9}  verdict"
    )
    for r in reports:
        for row in r.rows:
            rate = "-" if row.rate is None else f"{row.rate:.0f}"
            lost = "-" if row.lost is None else f"{row.lost:,}" + ("*" if row.late else "")
            print(
                f"{row.case:<22} {row.layer:<10} {row.trigger:<28} {row.sockets:>7} "
                f"{row.events:>6} {rate:>6} {ms(row.percentile(0.5)):>6} "
                f"{ms(row.percentile(0.99)):>6} {ms(max(row.latencies_ms, default=None)):>6} "
                f"{lost:>9}  {row.verdict}"
            )
            print(f"{'':<23}{row.note.lstrip('; ')}")
    if any(row.late for r in reports for row in r.rows):
        print(f"* still arriving {DRAIN_CAP_S:.0f}s after the load: counted, but late, not lost")
    print()
    for r in reports:
        for line in r.cpu:
            print(f"[{r.layer}] {line}")


# --- main -----------------------------------------------------------------------------


def fd_limit_raise(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, needed)) if hard != resource.RLIM_INFINITY else max(soft, needed)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        progress(f"warning: file-descriptor limit {want} < {needed} needed")


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000, help="sockets (one agent each)")
    parser.add_argument("--rounds", type=int, default=5, help="single-event measurements")
    parser.add_argument("--rate", type=float, default=200.0, help="sustained events/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="sustained duration")
    parser.add_argument("--tickets", type=int, default=200, help="tickets the load spreads over")
    parser.add_argument(
        "--few", default="100,20",
        help="if the sustained goal fails at full size, measure it again at these many sockets, "
        "in turn while it fails (comma-separated; '' for none)",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP requests in flight")
    parser.add_argument(
        "--retry-concurrency", type=int, default=20,
        help="sockets that failed in the burst connect again this many at a time (0: don't)",
    )  # fmt: skip
    parser.add_argument(
        "--publishers", type=int, default=4,
        help="publisher processes sharing the sustained load (background workers)",
    )  # fmt: skip
    parser.add_argument("--only", choices=["memory", "redis"], help="run one setup (default: both)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--trigger", choices=["worker", "http"], default="worker",
        help="sustained load: publisher subprocesses (workers) or HTTP PATCH to daphne",
    )  # fmt: skip
    # Experiments: run daphne differently without editing the app (see bench/README.md).
    parser.add_argument("--app", default="saas.asgi:application", help="ASGI application")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE",
        help="extra environment for daphne (repeatable), e.g. CONN_MAX_AGE=60",
    )  # fmt: skip
    parser.add_argument(
        "--daphne-arg", action="append", default=[], metavar="ARG",
        help="extra daphne argument (repeatable), e.g. --daphne-arg=--websocket_connect_timeout=60",
    )  # fmt: skip
    parser.add_argument("--keep-logs", action="store_true", help="keep daphne's log files")
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="picows",
        help="the websocket clients: picows on uvloop (default), or the websockets library on "
        "asyncio's own loop (the instrument of earlier runs: it costs this process far more CPU)",
    )  # fmt: skip
    # The publisher subprocess (internal).
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--department", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (
        args.agents < 1
        or args.rounds < 1
        or args.rate <= 0
        or args.seconds <= 0
        or args.tickets < 1
    ):
        parser.error("counts, rate and seconds must be positive")
    try:
        args.few = sorted({int(n) for n in args.few.split(",") if n.strip()}, reverse=True)
    except ValueError:
        parser.error("--few takes comma-separated numbers")
    args.few = [n for n in args.few if 0 < n < args.agents]
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes KEY=VALUE")
    args.server = ServerOptions(
        app=args.app,
        env=dict(item.split("=", 1) for item in args.server_env),
        args=args.daphne_arg,
        keep_logs=args.keep_logs,
    )
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    if args.publisher:
        publisher_main(args)
        return
    django_configure()
    os.environ["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "ERROR")
    database_ensure()
    import django

    django.setup()
    fd_limit_raise(2 * args.agents + 256)
    if subprocess.run(["pgrep", "-f", "bench/helpdesk.py"], capture_output=True).stdout:
        progress("warning: bench/helpdesk.py is running: both compete for the CPU")

    progress("migrating the platform (public, template, pool)...")
    platform_migrate()
    setup = setup_ensure(agents=args.agents, few=args.few, tickets=args.tickets)
    first_event = event_max_id(setup.schema_name)
    setups = []
    if args.only in (None, "memory"):
        setups.append(("in-memory", None, 1))
    if args.only in (None, "redis"):
        if redis_reachable(args.redis_url):
            setups.append(("redis", args.redis_url, 2))
        else:
            progress(f"redis at {args.redis_url} not reachable: skipping the redis setup")
    global CLIENT
    CLIENT = args.client
    run = asyncio.run
    if CLIENT == "picows":
        try:
            import picows  # noqa: F401
            import uvloop
        except ImportError:
            raise SystemExit(
                "bench/realtime.py: picows and uvloop are missing: "
                "python3 -m uv sync --frozen --group test --group bench "
                "(or run with --client websockets)"
            ) from None
        run = uvloop.run
    reports = []
    try:
        for layer, redis_url, processes in setups:
            reports.append(
                run(
                    setup_measure(
                        setup=setup, layer=layer, redis_url=redis_url, processes=processes,
                        args=args,
                    )
                )
            )  # fmt: skip
    finally:
        progress("deleting this run's events and ticket history rows...")
        bench_rows_cleanup(setup.schema_name, first_event)
    report_print(reports, args.server)


if __name__ == "__main__":
    main()
