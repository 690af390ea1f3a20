"""Fill django-helpdesk's database with the same volume as ours: 1M tickets, 5M follow-ups.

Run with the peer's virtualenv, from anywhere (see bench/README.md)::

    /tmp/dh-venv/bin/python bench/peer_django_helpdesk/data.py [--tickets 1000000] [--reset]

Migrates ``dh_bench`` (created if missing), makes 8 queues (our departments), 60 staff
users through the ORM (so django-helpdesk's signals give them their settings rows), then
COPYs tickets and follow-ups in batches, one transaction per batch, with a forked
generator process beside the COPY like bench/helpdesk_data.py. Same distributions and the
same corpus (our word lists, loaded from bench/helpdesk_data.py by path): 15 % of tickets
open (status Open/Reopened, "pending" ones Open and on hold), the rest Resolved/Closed,
priorities skewed, assignees mostly set, three years of created dates. The first
follow-up of a ticket is its "Ticket Opened" entry carrying the description, as
``TicketForm.save`` writes it; a sixth of the rest are private (internal) notes.

Resumable like ours: batches commit one by one; with the target reached it does nothing;
``--reset`` truncates tickets and follow-ups first.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEER_DIR.parent
STAFF_EMAIL_DOMAIN = "peer.example.com"
STAFF_PASSWORD = "bench-helpdesk-password-1"
TICKETS = 1_000_000
BATCH = 20_000
STAFF = 60
CUSTOMERS = 20_000
GUESTS = 50_000
# ITIL priority (ours: 1 low .. 4 critical) -> django-helpdesk's 1 critical .. 5 very low.
PRIORITY_FOR = {4: 1, 3: 2, 2: 3, 1: 4}
MATRIX = {
    (1, 1): 1, (1, 2): 1, (1, 3): 2, (2, 1): 1, (2, 2): 2, (2, 3): 3, (3, 1): 2, (3, 2): 3,
    (3, 3): 4,
}  # fmt: skip
OPEN, REOPENED, RESOLVED, CLOSED = 1, 2, 3, 4
NULL = "\\N"
COPY_NEWLINE = "\\n"

TICKET_COLUMNS = (
    "id, title, created, modified, submitter_email, status, on_hold, description, "
    "resolution, priority, assigned_to_id, queue_id, secret_key"
)
FOLLOWUP_COLUMNS = "ticket_id, date, title, comment, public, new_status, user_id"


def ours():
    """bench/helpdesk_data.py for its word lists and distributions, loaded by path: this
    virtualenv's ``helpdesk`` is django-helpdesk, so the repository stays off sys.path."""
    name = "bench_helpdesk_data"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH_DIR / "helpdesk_data.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def django_setup() -> None:
    sys.path.insert(0, str(PEER_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    database_ensure()
    import django

    django.setup()


def database_ensure() -> None:
    import psycopg
    from psycopg import sql
    from settings import DATABASES

    db = DATABASES["default"]
    params = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    conninfo = {k: v for k, v in params.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as maintenance:
        found = maintenance.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if found is None:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


# --- people and queues ----------------------------------------------------------------


def queues_and_staff_ensure() -> tuple[list[tuple[int, float]], dict[int, list[int]]]:
    """Our 8 departments as queues, 60 staff users spread over them like our agents."""
    from django.contrib.auth.models import User

    from helpdesk.models import Queue

    hd = ours()
    queues = []
    for slug, name, share, _categories in hd.DEPARTMENTS:
        queue, _ = Queue.objects.get_or_create(
            slug=slug,
            defaults={
                "title": name,
                "email_address": f"{slug}@{STAFF_EMAIL_DOMAIN}",
                "allow_public_submission": True,
            },
        )
        queues.append((queue.pk, share))
    rng = random.Random(hd.SEED + 1)
    members: dict[int, list[int]] = {}
    for i in range(1, STAFF + 1):
        email = f"agent{i:02d}@{STAFF_EMAIL_DOMAIN}"
        user = User.objects.filter(username=email).first()
        if user is None:
            user = User.objects.create_user(
                username=email, email=email, password=STAFF_PASSWORD, is_staff=True
            )
        queue_id = queues[(i - 1) % len(queues)][0] if i <= 3 * len(queues) else rng.choices(
            [q for q, _ in queues], weights=[s for _, s in queues]
        )[0]  # fmt: skip
        members.setdefault(queue_id, []).append(user.pk)
    return queues, members


@dataclass(frozen=True)
class Submitter:
    email: str
    lang: str


def submitters() -> tuple[list[Submitter], list[Submitter]]:
    """The same kind of addresses as our customers and guests (django-helpdesk keeps no
    customer accounts: a ticket has a submitter email)."""
    hd = ours()
    rng = random.Random(hd.SEED + 2)
    customers = []
    for i in range(1, CUSTOMERS + 1):
        lang = hd._language(rng)
        _name, handle = hd._person_name(rng, lang)
        customers.append(Submitter(f"c{i:05d}.{handle}@{rng.choice(hd.EMAIL_DOMAINS[lang])}", lang))
    guests = []
    for i in range(GUESTS):
        lang = hd._language(rng)
        _name, handle = hd._person_name(rng, lang)
        guests.append(Submitter(f"g{i:05d}.{handle}@{rng.choice(hd.EMAIL_DOMAINS[lang])}", lang))
    return customers, guests


# --- tickets --------------------------------------------------------------------------


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


_state: dict = {}


def _worker_init(state: dict) -> None:
    _state.update(state)


def batch_generate(spec: tuple[int, int, int]) -> tuple[bytes, bytes, int, int, float]:
    """Rows for tickets number ``first_index`` .. ``+count`` with ids from ``first_id``."""
    first_index, first_id, count = spec
    started = time.perf_counter()
    hd = ours()
    plan, corpus = _state["plan"], _state["corpus"]
    queues, members = _state["queues"], _state["members"]
    customers, guests = _state["customers"], _state["guests"]
    rng = random.Random(hd.SEED * 1_000_003 + first_index)
    queue_weights = list(itertools.accumulate(share for _q, share in queues))
    customer_weights = hd._customer_weights(len(customers))
    impact_weights = list(itertools.accumulate(hd.IMPACT_WEIGHTS))
    urgency_weights = list(itertools.accumulate(hd.URGENCY_WEIGHTS))
    counts = hd._message_counts(rng, count, plan.messages_per_ticket)
    pick = corpus.pick
    day = 86_400.0
    tickets, followups = [], []
    for offset in range(count):
        index, ticket_id = first_index + offset, first_id + offset
        created = plan.created_at(index, rng)
        age_days = (plan.end - created) / day
        stage = hd._stage(rng, age_days)
        queue_id = rng.choices(queues, cum_weights=queue_weights)[0][0]
        agents = members[queue_id]
        if rng.random() < hd.GUEST_SHARE:
            submitter = rng.choice(guests)
        else:
            submitter = rng.choices(customers, cum_weights=customer_weights)[0]
        lang = submitter.lang
        impact = rng.choices((1, 2, 3), cum_weights=impact_weights)[0]
        urgency = rng.choices((1, 2, 3), cum_weights=urgency_weights)[0]
        priority = PRIORITY_FOR[MATRIX[(impact, urgency)]]
        assignee = rng.choice(agents) if rng.random() < (0.4 if stage == "new" else 0.9) else None
        common = rng.random() < 0.2
        title = pick(rng, lang, "common" if common and rng.random() < 0.3 else "subjects").text
        title = title.rstrip(".")[:200]
        closing = stage in ("resolved", "closed")
        # A status change is a follow-up too: it is one of the ticket's n, so the
        # total stays at 5 per ticket like our messages.
        n = counts[offset] - (1 if closing and counts[offset] > 1 else 0)
        span = min(age_days, rng.choice((0.2, 1.0, 3.0, 7.0, 20.0))) * day
        times = sorted(created + rng.random() * span for _ in range(n - 1))
        times.insert(0, created)
        description = ""
        last_staff_text = None
        for m in range(n):
            if m == 0:
                role = "customer"
            else:
                r = rng.random()
                role = "internal" if r < 0.2 else "staff" if r < 0.65 else "customer"
            if role == "customer":
                parts = [pick(rng, lang, "customer") for _ in range(rng.randint(1, 3))]
                if m == 0 and common:
                    parts.insert(0, pick(rng, lang, "common"))
                user = NULL
            else:
                parts = [pick(rng, lang, role) for _ in range(rng.randint(1, 2))]
                user = assignee or rng.choice(agents)
            text = COPY_NEWLINE.join(p.text for p in parts)
            if m == 0:
                description = text
                heading = "Ticket Opened"
            elif role == "customer":
                heading = f"E-Mail Received from {submitter.email}"
            else:
                heading = "Comment"
            if role == "staff":
                last_staff_text = text
            followups.append(
                f"{ticket_id}\t{_ts(times[m])}\t{heading}\t{text}\t"
                f"{'f' if role == 'internal' else 't'}\t{NULL}\t{user}\n"
            )
        modified = times[-1]
        status, on_hold, resolution = OPEN, "f", NULL
        if closing:
            status = RESOLVED if stage == "resolved" else CLOSED
            modified = min(modified + rng.random() * 2 * day, plan.end)
            resolution = last_staff_text or NULL
        if closing and counts[offset] > 1:
            followups.append(
                f"{ticket_id}\t{_ts(modified)}\t{'Resolved' if status == RESOLVED else 'Closed'}"
                f"\t{resolution}\tt\t{status}\t{assignee or rng.choice(agents)}\n"
            )
        elif stage == "pending":
            on_hold = "t"
        elif rng.random() < 0.05:
            status = REOPENED
        secret = f"{rng.getrandbits(128):032x}"
        secret = f"{secret[:8]}-{secret[8:12]}-{secret[12:16]}-{secret[16:20]}-{secret[20:]}"
        tickets.append(
            f"{ticket_id}\t{title}\t{_ts(created)}\t{_ts(modified)}\t{submitter.email}\t"
            f"{status}\t{on_hold}\t{description}\t{resolution}\t{priority}\t"
            f"{assignee or NULL}\t{queue_id}\t{secret}\n"
        )
    return (
        "".join(tickets).encode(),
        "".join(followups).encode(),
        count,
        len(followups),
        time.perf_counter() - started,
    )


def _copy(cursor, table: str, columns: str, data: bytes) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])


def tickets_load(*, total: int, first_index: int, batch: int, workers: int) -> dict:
    import multiprocessing

    from django.db import connection, connections, transaction

    hd = ours()
    end = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    queues, members = queues_and_staff_ensure()
    customers, guests = submitters()
    state = {
        "plan": hd.Plan(total=total, start=end - hd.YEARS * 365 * 86_400, end=end),
        "corpus": hd.corpus_build(tokens=False),
        "queues": queues,
        "members": members,
        "customers": customers,
        "guests": guests,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('helpdesk_ticket', 'id'), "
            "nextval(pg_get_serial_sequence('helpdesk_ticket', 'id')) + %s - 1)",
            [total - first_index],
        )
        first_id = cursor.fetchone()[0] - (total - first_index) + 1
    specs = [
        (index, first_id + index - first_index, min(batch, total - index))
        for index in range(first_index, total, batch)
    ]
    connections.close_all()
    stats = collections.Counter()
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init, initargs=(state,)) as pool:
        waiting = collections.deque()
        upcoming = iter(specs)

        def submit() -> None:
            spec = next(upcoming, None)
            if spec is not None:
                waiting.append((spec, pool.apply_async(batch_generate, (spec,))))

        for _ in range(workers + 1):
            submit()
        while waiting:
            spec, result = waiting.popleft()
            ticket_rows, followup_rows, n_tickets, n_followups, generate_s = result.get()
            submit()
            t0 = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET session_replication_role = replica")
                _copy(cursor, "helpdesk_ticket", TICKET_COLUMNS, ticket_rows)
                _copy(cursor, "helpdesk_followup", FOLLOWUP_COLUMNS, followup_rows)
            stats["copy_s"] += time.perf_counter() - t0
            stats["generate_s"] += generate_s
            stats["tickets"] += n_tickets
            stats["followups"] += n_followups
            done = spec[0] + spec[2]
            elapsed = time.perf_counter() - started
            rate = stats["tickets"] / elapsed
            progress(
                f"  tickets {done:,}/{total:,}  follow-ups {stats['followups']:,}  "
                f"{rate:,.0f} tickets/s  eta {(total - done) / rate / 60:.1f} min"
            )
    stats["wall_s"] = time.perf_counter() - started
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="truncate tickets first")
    args = parser.parse_args(argv)
    run_started = time.perf_counter()
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    progress("migrating dh_bench...")
    call_command("migrate", interactive=False, verbosity=0)
    if args.reset:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE helpdesk_followup, helpdesk_ticket RESTART IDENTITY CASCADE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket")
        existing = cursor.fetchone()[0]
    stats = collections.Counter()
    if existing >= args.tickets:
        progress(f"{existing:,} tickets already there: nothing to load")
    else:
        progress(f"loading tickets {existing:,}..{args.tickets:,}...")
        stats = tickets_load(
            total=args.tickets, first_index=existing, batch=args.batch, workers=args.workers
        )
        progress("VACUUM ANALYZE...")
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for table in ("helpdesk_ticket", "helpdesk_followup", "auth_user", "helpdesk_queue"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM helpdesk_followup")
        followups = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"django-helpdesk dh_bench: {tickets:,} tickets, {followups:,} follow-ups, {size}")
    if stats:
        rows = stats["tickets"] + stats["followups"]
        print(
            f"loaded {stats['tickets']:,} tickets + {stats['followups']:,} follow-ups in "
            f"{stats['wall_s']:.1f} s ({rows / stats['wall_s']:,.0f} rows/s; generating "
            f"{stats['generate_s']:.1f} s overlapped with COPY {stats['copy_s']:.1f} s)"
        )
    print(f"whole run: {time.perf_counter() - run_started:.1f} s")


if __name__ == "__main__":
    main()
