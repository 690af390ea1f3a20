"""The agent desk on 1,000,000 tickets: queue, ticket page, search and creation vs. goals.

Run from the repository root after bench/helpdesk_data.py filled the tenant (see
bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/helpdesk.py [--samples 50] [--create-seconds 10] [--peer]

Every page is requested through Django's test ``Client`` on the bench tenant's host with
a signed-in session, so the time is the whole request: tenant middleware, sessions,
auth, the view's queries and the template. The selector the view calls is timed alone as
well. Each case runs ``--samples`` times (varying the department, agent, ticket, code or
email where the case has one), after one untimed warm-up request; a second untimed
request counts its SQL queries and finds the slowest one.

Goals (server time): queue page p95 <= 50 ms, ticket page p95 <= 50 ms, search p95 <=
100 ms, ticket creation >= 300 tickets/s (the ``ticket_create`` service and
``POST /api/v1/tickets``; tickets made here are deleted again at the end).

``--peer`` then runs bench/peer_django_helpdesk/measure.py with the peer virtualenv's
python (``--peer-python``, default /tmp/dh-venv/bin/python) against its own database
``dh_bench`` and prints how many times faster we are (goals: 5x on the open-ticket
list, 3x on creation).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Run as a script, this folder is sys.path[0] and this very file would be imported as
# the app's ``helpdesk`` package: put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.helpdesk_data import (  # noqa: E402
    EMAIL_DOMAIN,
    RARE_WORDS,
    SEARCH_WORDS,
    SLUG,
    corpus_build,
    progress,
)

GOAL_QUEUE_P95_MS = 50.0
GOAL_TICKET_P95_MS = 50.0
GOAL_SEARCH_P95_MS = 100.0
GOAL_CREATE_PER_S = 300.0
GOAL_PEER_LIST_RATIO = 5.0
GOAL_PEER_CREATE_RATIO = 3.0
PEER_DIR = BENCH_DIR / "peer_django_helpdesk"
DEFAULT_PEER_PYTHON = "/tmp/dh-venv/bin/python"
AGENTS_SAMPLED = 10  # agent cases rotate over this many agents


# --- measuring ------------------------------------------------------------------------


def percentile_nearest_rank(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Case:
    group: str  # queue / ticket / search
    name: str
    request_ms: list[float] = field(default_factory=list)
    selector_ms: list[float] = field(default_factory=list)
    queries: int = 0
    slowest_sql: str = ""
    slowest_sql_ms: float = 0.0
    note: str = ""
    error: str = ""

    @property
    def goal_ms(self) -> float:
        return {
            "queue": GOAL_QUEUE_P95_MS,
            "ticket": GOAL_TICKET_P95_MS,
            "search": GOAL_SEARCH_P95_MS,
        }.get(self.group, 0.0)

    @property
    def p95(self) -> float:
        return percentile_nearest_rank(self.request_ms, 0.95) if self.request_ms else math.inf

    @property
    def passed(self) -> bool:
        return not self.goal_ms or (not self.error and self.p95 <= self.goal_ms)


@dataclass
class Creation:
    name: str
    count: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def timed_ms(action: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


# --- setup ----------------------------------------------------------------------------


@dataclass
class Bench:
    schema: str
    host: str
    manager: object
    agents: list  # the agents the agent cases rotate over
    customers: list[tuple[str, str]]  # (email, name)
    departments: list  # Department rows
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    clients: dict[int, object] = field(default_factory=dict)

    def client_for(self, user):
        """A test client on the tenant's host, signed in as ``user`` (one per user)."""
        from django.test import Client

        from tenants.context import tenant_schema

        if user.pk not in self.clients:
            client = Client(HTTP_HOST=self.host)
            with tenant_schema(self.schema):
                client.force_login(user)
            # Each test Client builds its own handler, and with it every middleware, on
            # its first request: WhiteNoise alone indexes the static files (25-55 ms).
            # A server does that once per process, not once per signed-in user.
            client.get("/healthz")
            self.clients[user.pk] = client
        return self.clients[user.pk]


def bench_load(*, samples: int) -> Bench:
    from django.db import connection

    from accounts.models import Role, User
    from helpdesk.models import Department, Ticket
    from tenants.context import public_schema, tenant_schema
    from tenants.models import Tenant
    from tenants.provisioning import primary_domain_for

    with public_schema():
        tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        raise SystemExit(f"no tenant {SLUG!r}: run bench/helpdesk_data.py first")
    with tenant_schema(tenant.schema_name):
        count = Ticket.objects.count()  # exact; a second on 1M rows, once
        if count < 1000:
            raise SystemExit(f"{SLUG} holds {count} tickets: run bench/helpdesk_data.py first")
        manager = User.objects.get(email=f"manager01@{EMAIL_DOMAIN}")
        # The busiest agents first: most open tickets assigned to them.
        agent_ids = list(
            Ticket.objects.filter(stage__in=["new", "open", "pending"], assignee__role=Role.AGENT)
            .values_list("assignee_id", flat=True)
            .order_by()
            .distinct()
        )
        agents = list(User.objects.filter(pk__in=agent_ids).order_by("email")[:AGENTS_SAMPLED])
        with connection.cursor() as cursor:  # a random sample of requesters, not the first ones
            cursor.execute(
                "SELECT email, name FROM accounts_user WHERE role = 'customer' "
                "ORDER BY random() LIMIT %s",
                [max(samples, 100)],
            )
            customers = cursor.fetchall()
        departments = list(Department.objects.order_by("pk"))
    progress(f"tenant {SLUG}: {count:,} tickets; agents sampled: {len(agents)}")
    return Bench(
        schema=tenant.schema_name,
        host=primary_domain_for(tenant.slug),
        manager=manager,
        agents=agents,
        customers=customers,
        departments=departments,
    )


def random_references(bench: Bench, n: int, *, department_ids: list[int] | None = None) -> list:
    """``n`` tickets picked uniformly by id (optionally within some departments)."""
    from django.db import connection

    from tenants.context import tenant_schema

    refs = []
    with tenant_schema(bench.schema), connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM helpdesk_ticket")
        low, high = cursor.fetchone()
        while len(refs) < n:
            start = bench.rng.randint(low, high)
            if department_ids:
                cursor.execute(
                    "SELECT reference FROM helpdesk_ticket WHERE id >= %s "
                    "AND department_id = ANY(%s) ORDER BY id LIMIT 1",
                    [start, department_ids],
                )
            else:
                cursor.execute(
                    "SELECT reference FROM helpdesk_ticket WHERE id >= %s ORDER BY id LIMIT 1",
                    [start],
                )
            row = cursor.fetchone()
            if row:
                refs.append(row[0])
    return refs


# --- cases ----------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed request: who asks for which URL, and the selector call behind it."""

    user: object
    url: str
    selector: Callable[[], object]


def case_run(bench: Bench, case: Case, samples: list[Sample]) -> Case:
    """Warm up, count queries once, then time each sample's request and selector.

    A case whose page fails (the app is being worked on) is reported, not fatal.
    """
    try:
        _case_measure(bench, case, samples)
    except Exception as error:  # one broken page must not lose the run
        case.error = f"{type(error).__name__}: {str(error)[:200]}"
        progress(f"    ERROR {case.error}")
    else:
        progress(
            f"    request p50 {statistics.median(case.request_ms):.1f} ms, "
            f"p95 {case.p95:.1f} ms; selector p50 {statistics.median(case.selector_ms):.1f} ms"
        )
    return case


def _case_measure(bench: Bench, case: Case, samples: list[Sample]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.context import tenant_schema

    first = samples[0]
    client = bench.client_for(first.user)
    response = client.get(first.url)
    if response.status_code != 200:
        raise RuntimeError(f"{case.name}: {first.url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(first.url)
    case.queries = len(captured.captured_queries)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    if slowest:
        case.slowest_sql, case.slowest_sql_ms = slowest["sql"], float(slowest["time"]) * 1000
    for sample in samples:
        client = bench.client_for(sample.user)
        response, elapsed = timed_ms(lambda c=client, u=sample.url: c.get(u))
        if response.status_code != 200:
            raise RuntimeError(f"{case.name}: {sample.url} answered {response.status_code}")
        case.request_ms.append(elapsed)
        with tenant_schema(bench.schema):
            _, elapsed = timed_ms(sample.selector)
        case.selector_ms.append(elapsed)


def queue_selector(user, query: str) -> Callable[[], object]:
    from django.http import QueryDict

    from helpdesk import selectors
    from helpdesk.views.desk import filters_from

    filters = filters_from(QueryDict(query))
    return lambda: selectors.desk_tickets(user=user, filters=filters)


def counts_selector(user) -> Callable[[], object]:
    from helpdesk import selectors

    return lambda: selectors.queue_counts(user=user)


def next_cursor(bench: Bench, user, query: str) -> str:
    from django.http import QueryDict

    from helpdesk import selectors
    from helpdesk.views.desk import filters_from
    from tenants.context import tenant_schema

    with tenant_schema(bench.schema):
        page = selectors.desk_tickets(user=user, filters=filters_from(QueryDict(query)))
    return page.next_cursor or ""


def queue_cases(bench: Bench, n: int) -> list[Case]:
    from helpdesk.models import DepartmentMember, Priority
    from tenants.context import tenant_schema

    manager, agents = bench.manager, bench.agents
    rotate_agents = list(itertools.islice(itertools.cycle(agents), n))
    with tenant_schema(bench.schema):
        homes = {
            a.pk: list(
                DepartmentMember.objects.filter(user=a).values_list("department_id", flat=True)
            )
            for a in agents
        }
    departments = [d.pk for d in bench.departments]

    def same(user, query: str) -> list[Sample]:
        return [Sample(user, f"/desk/?{query}", queue_selector(user, query)) for _ in range(n)]

    def each(pairs) -> list[Sample]:
        return [Sample(u, f"/desk/?{q}", queue_selector(u, q)) for u, q in pairs]

    page2 = "queue=open&sort=-updated"
    manager_page2 = f"{page2}&cursor={next_cursor(bench, manager, page2)}"
    agent_page2 = {a.pk: f"{page2}&cursor={next_cursor(bench, a, page2)}" for a in agents}
    specs = [
        ("manager: open queue (default /desk/)", same(manager, "queue=open")),
        (
            "manager: open + department",
            each(
                (manager, f"queue=open&department={departments[i % len(departments)]}")
                for i in range(n)
            ),
        ),  # fmt: skip
        (
            "manager: open + priority critical/high",
            each(
                (manager, f"queue=open&priority={Priority.CRITICAL if i % 2 else Priority.HIGH}")
                for i in range(n)
            ),
        ),  # fmt: skip
        ("manager: open, sort -priority", same(manager, "queue=open&sort=-priority")),
        ("manager: open, sort -updated, page 2 (cursor)", same(manager, manager_page2)),
        ("agent: open queue (default /desk/)", each((a, "queue=open") for a in rotate_agents)),
        ("agent: mine (assignee = me)", each((a, "queue=mine") for a in rotate_agents)),
        (
            "agent: open + assignee=me, sort -priority",
            each((a, f"queue=open&assignee={a.pk}&sort=-priority") for a in rotate_agents),
        ),
        ("agent: unassigned", each((a, "queue=unassigned") for a in rotate_agents)),
        (
            "agent: open + own department",
            each((a, f"queue=open&department={homes[a.pk][0]}") for a in rotate_agents),
        ),
        ("agent: open, page 2 (cursor)", each((a, agent_page2[a.pk]) for a in rotate_agents)),
    ]
    cases = []
    for name, samples in specs:
        progress(f"  queue: {name}")
        cases.append(case_run(bench, Case("queue", name), samples))
    # What every /desk/ page also runs: the four queue counts (part of the numbers above).
    for label, users in (("manager", [manager] * n), ("agent", rotate_agents)):
        case = Case("part", f"queue_counts() alone, {label}")
        with tenant_schema(bench.schema):
            for user in users:
                case.request_ms.append(timed_ms(counts_selector(user))[1])
        cases.append(case)
    return cases


def ticket_selector(user, reference: str) -> Callable[[], object]:
    from helpdesk import selectors
    from helpdesk.access import ticket_get_for_user_or_404

    def run():
        ticket = ticket_get_for_user_or_404(user=user, reference=reference)
        selectors.ticket_conversation(ticket=ticket, include_internal=True)
        selectors.ticket_timeline(ticket=ticket, include_internal=True)
        selectors.requester_history(ticket=ticket)

    return run


def ticket_cases(bench: Bench, n: int) -> list[Case]:
    from helpdesk.models import DepartmentMember
    from tenants.context import tenant_schema

    cases = []
    refs = random_references(bench, n)
    samples = [
        Sample(bench.manager, f"/desk/tickets/{r}/", ticket_selector(bench.manager, r))
        for r in refs
    ]
    progress("  ticket page: manager, random tickets")
    cases.append(case_run(bench, Case("ticket", "manager: random ticket"), samples))
    samples = []
    for agent in itertools.islice(itertools.cycle(bench.agents), n):
        with tenant_schema(bench.schema):
            homes = list(
                DepartmentMember.objects.filter(user=agent).values_list("department_id", flat=True)
            )
        (ref,) = random_references(bench, 1, department_ids=homes)
        samples.append(Sample(agent, f"/desk/tickets/{ref}/", ticket_selector(agent, ref)))
    progress("  ticket page: agent, random tickets of their departments")
    cases.append(case_run(bench, Case("ticket", "agent: random ticket in own dept"), samples))
    return cases


def search_cases(bench: Bench, n: int) -> list[Case]:
    def query(user, q: str) -> Sample:
        qs = urlencode({"queue": "all", "q": q})
        return Sample(user, f"/desk/?{qs}", queue_selector(user, qs))

    fa_arabic = SEARCH_WORDS["fa_arabic_letters"].replace("ی", "ي").replace("ک", "ك")
    rare = [w for lang in ("en", "fa") for w in RARE_WORDS[lang]]
    codes = random_references(bench, n)
    emails = [email for email, _name in bench.customers]
    agents = list(itertools.islice(itertools.cycle(bench.agents), n))
    specs = [
        (f"common Persian «{SEARCH_WORDS['fa_common']}»",
         [query(bench.manager, SEARCH_WORDS["fa_common"])] * n),
        (f"common English «{SEARCH_WORDS['en_common']}»",
         [query(bench.manager, SEARCH_WORDS["en_common"])] * n),
        ("rare word (rotating, ~100 tickets each)",
         [query(bench.manager, rare[i % len(rare)]) for i in range(n)]),
        (f"Persian word in Arabic letters «{fa_arabic}»", [query(bench.manager, fa_arabic)] * n),
        ("tracking code (random tickets)", [query(bench.manager, c) for c in codes]),
        ("requester email (random customers)",
         [query(bench.manager, emails[i % len(emails)]) for i in range(n)]),
        (f"agent: common Persian «{SEARCH_WORDS['fa_common']}»",
         [query(a, SEARCH_WORDS["fa_common"]) for a in agents]),
        (f"agent: common English «{SEARCH_WORDS['en_common']}»",
         [query(a, SEARCH_WORDS["en_common"]) for a in agents]),
    ]  # fmt: skip
    cases = []
    for name, samples in specs:
        progress(f"  search: {name}")
        case = case_run(bench, Case("search", name), samples)
        case.note = share_note(bench, samples[0].url)
        progress(f"    {case.note}")
        cases.append(case)
    return cases


def share_note(bench: Bench, url: str) -> str:
    """How many tickets the query matches (exact count, outside the timing)."""
    from urllib.parse import parse_qs

    from django.db import connection

    from helpdesk.search import tsquery_for
    from tenants.context import tenant_schema

    q = parse_qs(urlsplit(url).query)["q"][0]
    tsquery = tsquery_for(q)
    with tenant_schema(bench.schema), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE search_document @@ %s::tsquery), count(*) "
            "FROM helpdesk_ticket",
            [tsquery],
        )
        hits, total = cursor.fetchone()
    return f"matches {hits:,} tickets ({100 * hits / total:.2f} %), tsquery {tsquery}"


# --- creation -------------------------------------------------------------------------


@dataclass
class Marks:
    """Row ids and time before a creation run, to delete exactly what it made."""

    ticket_id: int
    email_id: int
    started_at: object


def marks_take(bench: Bench) -> Marks:
    from django.db import connection
    from django.utils import timezone

    from tenants.context import tenant_schema

    with tenant_schema(bench.schema), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM helpdesk_ticket")
        ticket_id = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM helpdesk_outboundemail")
        email_id = cursor.fetchone()[0]
    return Marks(ticket_id, email_id, timezone.now())


def created_cleanup(bench: Bench, marks: Marks) -> int:
    """Delete the tickets a run made, their rows, outbox, live events and queued sends."""
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from tenants.context import public_schema, tenant_schema

    with tenant_schema(bench.schema), transaction.atomic(), connection.cursor() as cursor:
        for table in ("helpdesk_attachment", "helpdesk_message", "helpdesk_ticketevent"):
            cursor.execute(f"DELETE FROM {table} WHERE ticket_id > %s", [marks.ticket_id])
        cursor.execute("DELETE FROM helpdesk_ticket WHERE id > %s", [marks.ticket_id])
        deleted = cursor.rowcount
        cursor.execute("DELETE FROM helpdesk_outboundemail WHERE id > %s", [marks.email_id])
        # The live desk's event log (when the app has it) got a row per change too.
        cursor.execute("SELECT to_regclass('realtime_event') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("DELETE FROM realtime_event WHERE created_at >= %s", [marks.started_at])
    with public_schema():  # email sends, notification fan-outs: whatever the run queued
        DBTaskResult.objects.filter(
            task_path__startswith="helpdesk.", enqueued_at__gte=marks.started_at
        ).delete()
    return deleted


def creation_service(bench: Bench, seconds: float) -> Creation:
    """``ticket_create`` as the portal calls it: a customer's ticket, first message, history,
    search document, confirmation and agent emails queued."""
    from accounts.models import User
    from helpdesk.models import Category, Channel
    from helpdesk.services.tickets import ticket_create
    from tenants.context import tenant_schema

    run = Creation("ticket_create() service")
    corpus = corpus_build(tokens=False)
    rng = random.Random(11)
    with tenant_schema(bench.schema):
        emails = [email for email, _ in bench.customers]
        customers = list(User.objects.filter(email__in=emails))
        categories = {c.department_id: c for c in Category.objects.order_by("position")}
        marks = marks_take(bench)
        try:
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                requester = rng.choice(customers)
                lang = requester.language or "en"
                department = rng.choice(bench.departments)
                subject = corpus.pick(rng, lang, "subjects").text
                body = "\n\n".join(corpus.pick(rng, lang, "customer").text for _ in range(3))
                _, elapsed = timed_ms(
                    lambda r=requester, d=department, s=subject, b=body: ticket_create(
                        subject=s, body_text=b, department=d, channel=Channel.PORTAL,
                        requester=r, category=categories.get(d.pk), language=r.language or "en",
                    )
                )  # fmt: skip
                run.latencies_ms.append(elapsed)
                run.count += 1
            run.seconds = time.perf_counter() - started
        finally:
            created_cleanup(bench, marks)
    return run


@contextmanager
def manager_api_client(bench: Bench):
    """A test Client on the tenant's host with a manager's bearer token; afterwards the
    tickets made through it (and their rows, outbox, events, tasks) and the token go.

    The token is the manager's: an integration files into any department and reads the
    ticket back, which an agent's token may only do within the agent's departments.
    """
    from django.test import Client
    from wagtail.models import APIToken

    from tenants.context import tenant_schema

    with tenant_schema(bench.schema):
        token, plaintext = APIToken.create_token(user=bench.manager, name="bench/helpdesk.py")
        marks = marks_take(bench)
    try:
        yield Client(HTTP_HOST=bench.host, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    finally:
        created_cleanup(bench, marks)
        with tenant_schema(bench.schema):
            token.delete()


def api_ticket(corpus, rng: random.Random, bench: Bench) -> dict:
    """One ticket as an integration sends it: a customer's words in fa, ar or en."""
    email, name = rng.choice(bench.customers)
    lang = rng.choice(("fa", "ar", "en"))
    return {
        "subject": corpus.pick(rng, lang, "subjects").text,
        "body": "\n\n".join(corpus.pick(rng, lang, "customer").text for _ in range(3)),
        "department": rng.choice(bench.departments).slug,
        "requester_email": email,
        "requester_name": name,
    }


def creation_api(bench: Bench, seconds: float) -> Creation:
    """``POST /api/v1/tickets`` with a manager's bearer token, if the API exists."""
    run = Creation("POST /api/v1/tickets")
    try:
        import helpdesk.api  # noqa: F401
    except ImportError:
        run.note = "helpdesk/api.py does not exist: not measured"
        return run
    corpus = corpus_build(tokens=False)
    rng = random.Random(12)
    with manager_api_client(bench) as client:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            payload = api_ticket(corpus, rng, bench)
            response, elapsed = timed_ms(
                lambda p=payload: client.post(
                    "/api/v1/tickets", data=json.dumps(p), content_type="application/json"
                )
            )
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /api/v1/tickets answered {response.status_code}: "
                    f"{response.content[:300]!r}"
                )
            run.latencies_ms.append(elapsed)
            run.count += 1
        run.seconds = time.perf_counter() - started
    return run


BATCH_SIZE = 100


def creation_api_batch(bench: Bench, seconds: float) -> Creation:
    """``POST /api/v1/tickets/batch``, 100 tickets a call (an import), if the API has it.

    Latencies are per call; the rate counts tickets.
    """
    run = Creation(f"POST /api/v1/tickets/batch ({BATCH_SIZE} a call)")
    corpus = corpus_build(tokens=False)
    rng = random.Random(13)
    with manager_api_client(bench) as client:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            items = [api_ticket(corpus, rng, bench) for _ in range(BATCH_SIZE)]
            body = json.dumps({"tickets": items})
            response, elapsed = timed_ms(
                lambda b=body: client.post(
                    "/api/v1/tickets/batch", data=b, content_type="application/json"
                )
            )
            if response.status_code == 404:
                run.note = "POST /api/v1/tickets/batch does not exist: not measured"
                return run
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /api/v1/tickets/batch answered {response.status_code}: "
                    f"{response.content[:300]!r}"
                )
            run.latencies_ms.append(elapsed)
            run.count += len(response.json()["items"])
        run.seconds = time.perf_counter() - started
    return run


# --- EXPLAIN --------------------------------------------------------------------------


def explain(bench: Bench, sql: str) -> str:
    from django.db import connection

    from tenants.context import tenant_schema

    with tenant_schema(bench.schema), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# --- the peer -------------------------------------------------------------------------


def peer_run(args: argparse.Namespace) -> dict | None:
    """bench/peer_django_helpdesk/measure.py in the peer's virtualenv; its JSON result."""
    from django.conf import settings

    python = args.peer_python
    if not Path(python).exists():
        print(f"peer: {python} not found (see bench/README.md to install django-helpdesk)")
        return None
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    url = f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/dh_bench"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    env.setdefault("PEER_DATABASE_URL", url)
    command = [
        python, str(PEER_DIR / "measure.py"), "--json",
        "--samples", str(args.peer_samples), "--create-seconds", str(args.create_seconds),
    ]  # fmt: skip
    progress(f"peer: {' '.join(command)}")
    # cwd is the peer's folder: the repository root must not be on its path (our
    # ``helpdesk`` package would shadow django-helpdesk's).
    done = subprocess.run(
        command, cwd=PEER_DIR, env=env, capture_output=True, text=True, check=False
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        print(f"peer: measure.py failed with exit code {done.returncode}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report ---------------------------------------------------------------------------


def stats_line(samples: list[float]) -> str:
    if not samples:
        return f"{'':>4} {'':>8} {'':>8} {'':>8}"
    return (
        f"{len(samples):>4} {statistics.median(samples):8.1f} "
        f"{percentile_nearest_rank(samples, 0.95):8.1f} {max(samples):8.1f}"
    )


def report_print(
    *, cases: list[Case], creations: list[Creation], peer: dict | None, explains: bool, bench
) -> None:
    from bench.machine import speed_line

    print(speed_line())
    print(f"{'case':<52} {'what':<9} {'n':>4} {'p50':>8} {'p95':>8} {'max':>8}   (ms)  goal")
    group = None
    for case in cases:
        if case.group != group:
            group = case.group
            title = {
                "queue": f"agent queue /desk/ (goal p95 <= {GOAL_QUEUE_P95_MS:.0f} ms)",
                "part": "part of every queue page",
                "ticket": "ticket page /desk/tickets/<ref>/ "
                f"(goal p95 <= {GOAL_TICKET_P95_MS:.0f} ms)",
                "search": "search /desk/?queue=all&q=... "
                f"(goal p95 <= {GOAL_SEARCH_P95_MS:.0f} ms)",
            }[group]
            print(f"-- {title}")
        if case.group == "part":
            print(f"{case.name:<52} {'selector':<9} {stats_line(case.request_ms)}")
            continue
        if case.error:
            print(f"{case.name:<52} ERROR {case.error}   FAIL")
            continue
        verdict = "PASS" if case.passed else "FAIL"
        print(f"{case.name:<52} {'request':<9} {stats_line(case.request_ms)}   {verdict}")
        print(f"{'':<52} {'selector':<9} {stats_line(case.selector_ms)}")
        print(
            f"{'':<52} {case.queries} queries; slowest {case.slowest_sql_ms:.1f} ms"
            + (f"; {case.note}" if case.note else "")
        )
    print(f"-- ticket creation (goal >= {GOAL_CREATE_PER_S:.0f} tickets/s)")
    for run in creations:
        if not run.count:
            print(f"{run.name:<52} {run.note}")
            continue
        verdict = "PASS" if run.per_s >= GOAL_CREATE_PER_S else "FAIL"
        print(
            f"{run.name:<52} {run.count} in {run.seconds:.1f} s = {run.per_s:.0f} tickets/s   "
            f"{verdict}  (latency p50 {statistics.median(run.latencies_ms):.1f} ms, "
            f"p95 {percentile_nearest_rank(run.latencies_ms, 0.95):.1f} ms)"
        )
    print()
    print(
        f"goals: {sum(c.passed for c in cases if c.goal_ms)}/{sum(1 for c in cases if c.goal_ms)}"
        f" page cases pass; creation "
        + ", ".join(
            f"{r.name} {'PASS' if r.per_s >= GOAL_CREATE_PER_S else 'FAIL'}"
            for r in creations
            if r.count
        )
    )
    if peer is not None:
        peer_report(cases=cases, creations=creations, peer=peer)
    if explains:
        explains_print(cases=cases, bench=bench)


EXPLAIN_LIMIT = 4


def explains_print(*, cases: list[Case], bench: Bench) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the failing cases, slowest first;
    one per query shape (the SQL without its literals), at most EXPLAIN_LIMIT."""
    import re

    failing = sorted(
        (c for c in cases if c.slowest_sql and not c.passed), key=lambda c: -c.slowest_sql_ms
    )
    shapes = set()
    for case in failing:
        shape = re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", case.slowest_sql)
        if shape in shapes:
            continue
        shapes.add(shape)
        print()
        print(f"== EXPLAIN (ANALYZE, BUFFERS), slowest query of: {case.group}: {case.name}")
        print(case.slowest_sql)
        print(explain(bench, case.slowest_sql))
        if len(shapes) >= EXPLAIN_LIMIT:
            break


def peer_report(*, cases: list[Case], creations: list[Creation], peer: dict) -> None:
    by_name = {c.name: c for c in cases}
    print()
    print(
        f"-- django-helpdesk {peer.get('version', '?')} on {peer.get('tickets', 0):,} tickets "
        f"and {peer.get('followups', 0):,} follow-ups (same server, database dh_bench)"
    )
    for row in peer["list"]:
        print(f"{row['name']:<52} {'request':<9} {stats_line(row['ms'])}")
    for row in peer["create"]:
        print(
            f"{row['name']:<52} {row['count']} in {row['seconds']:.1f} s = "
            f"{row['count'] / row['seconds']:.0f} tickets/s"
        )
    print("-- ours vs django-helpdesk (how many times faster)")
    pairs = [
        ("open tickets, all queues", "manager: open queue (default /desk/)"),
        ("open tickets, one queue", "manager: open + department"),
    ]
    for peer_name, our_name in pairs:
        theirs = next((r for r in peer["list"] if r["name"].startswith(peer_name)), None)
        ours = by_name.get(our_name)
        if theirs is None or ours is None:
            continue
        p50 = statistics.median(theirs["ms"]) / statistics.median(ours.request_ms)
        p95 = percentile_nearest_rank(theirs["ms"], 0.95) / ours.p95
        verdict = "PASS" if p50 >= GOAL_PEER_LIST_RATIO else "FAIL"
        print(
            f"list: {peer_name} vs {our_name}: {p50:.0f}x (p50), {p95:.0f}x (p95)   "
            f"goal {GOAL_PEER_LIST_RATIO:.0f}x {verdict}"
        )
    peer_create = next((r for r in peer["create"] if r["count"]), None)
    # Like for like first: one ticket per request, as django-helpdesk's API takes them.
    ours = sorted(
        (r for r in creations if r.count and r.name.startswith("POST")),
        key=lambda r: "batch" in r.name,
    )
    for ours_create in ours if peer_create else []:
        ratio = ours_create.per_s / (peer_create["count"] / peer_create["seconds"])
        verdict = "PASS" if ratio >= GOAL_PEER_CREATE_RATIO else "FAIL"
        print(
            f"creation: {ours_create.name} vs {peer_create['name']}: {ratio:.1f}x   "
            f"goal {GOAL_PEER_CREATE_RATIO:.0f}x {verdict}"
        )


# --- main -----------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=50, help="timed requests per case")
    parser.add_argument(
        "--create-seconds", type=float, default=10.0, help="how long each creation run lasts"
    )
    parser.add_argument(
        "--only", choices=("queue", "ticket", "search", "create"), action="append",
        help="run only these groups (repeatable)",
    )  # fmt: skip
    parser.add_argument("--no-migrate", action="store_true", help="skip migrate_schemas")
    parser.add_argument(
        "--explain", action="store_true",
        help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of each failing case",
    )  # fmt: skip
    parser.add_argument("--peer", action="store_true", help="also measure django-helpdesk")
    parser.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON", DEFAULT_PEER_PYTHON))
    parser.add_argument(
        "--peer-samples", type=int, default=10,
        help="timed requests per peer list case (each takes seconds)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.samples < 1 or args.create_seconds <= 0:
        parser.error("--samples and --create-seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    from bench.provisioning import database_ensure, django_configure, platform_migrate

    django_configure()
    database_ensure()
    import django

    django.setup()
    from django.conf import settings

    # Time what production runs: no query log, no template debug info. (DEBUG=1 only
    # spares the run a SECRET_KEY; the queries are captured explicitly where counted.)
    settings.DEBUG = False
    if not args.no_migrate:
        progress("migrating the platform (public, template, pool, tenants)...")
        platform_migrate()
    groups = set(args.only or ("queue", "ticket", "search", "create"))
    bench = bench_load(samples=args.samples)
    cases: list[Case] = []
    creations: list[Creation] = []
    if "queue" in groups:
        cases += queue_cases(bench, args.samples)
    if "ticket" in groups:
        cases += ticket_cases(bench, args.samples)
    if "search" in groups:
        cases += search_cases(bench, args.samples)
    if "create" in groups:
        for label, measure in (
            ("ticket_create() service", creation_service),
            ("POST /api/v1/tickets", creation_api),
            ("POST /api/v1/tickets/batch", creation_api_batch),
        ):
            progress(f"  creation: {label} for {args.create_seconds:.0f} s")
            try:
                run = measure(bench, args.create_seconds)
            except Exception as error:  # one broken path must not lose the run
                run = Creation(label, note=f"ERROR {type(error).__name__}: {str(error)[:200]}")
            else:
                progress(f"    {run.per_s:.0f} tickets/s" if run.count else f"    {run.note}")
            creations.append(run)
    peer = peer_run(args) if args.peer else None
    report_print(cases=cases, creations=creations, peer=peer, explains=args.explain, bench=bench)


if __name__ == "__main__":
    main()
