"""django-helpdesk's open-ticket list and ticket creation, timed the way bench/helpdesk.py
times ours: Django's test Client, a signed-in staff user, the whole request.

Run with the peer's virtualenv (``bench/helpdesk.py --peer`` does, from this folder)::

    /tmp/dh-venv/bin/python bench/peer_django_helpdesk/measure.py [--samples 10] [--json]

What an agent waits for on its ticket list is two requests: ``GET /tickets/`` (the page,
filters, saved queries; its table is empty) and the DataTables call the page makes,
``GET /datatables_ticket_list/<base64 query>?draw=1&start=0&length=25`` (counts, the
last follow-up of each row, the first 25 rows as JSON). Both are timed together, and the
JSON call alone. Cases: the default list (status Open or Reopened, all queues, sorted by
created), and one queue's open tickets (``?queue=<id>&status=1&status=2``).

Creation: ``POST /api/tickets/`` (its DRF API, staff session) for ``--create-seconds``,
sequentially; the tickets made are deleted afterwards. Emails are rendered and dropped
(dummy backend), as ours are rendered into the outbox table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

PEER_DIR = Path(__file__).resolve().parent
STAFF_EMAIL = "agent01@peer.example.com"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile_nearest_rank(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def django_setup() -> None:
    if str(PEER_DIR) not in sys.path:
        sys.path.insert(0, str(PEER_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
    import django

    django.setup()


DATATABLES = re.compile(r"datatables_ticket_list/([A-Za-z0-9+/=_-]+)")


def list_once(client, params: dict) -> tuple[float, float, int]:
    """The page, then its DataTables call; (both ms, JSON alone ms, recordsFiltered)."""
    url = "/tickets/" + (f"?{urlencode(params, doseq=True)}" if params else "")
    start = time.perf_counter()
    page = client.get(url)
    if page.status_code != 200:
        raise RuntimeError(f"{url} answered {page.status_code}")
    query = DATATABLES.search(page.content.decode()).group(1)
    middle = time.perf_counter()
    data = client.get(
        f"/datatables_ticket_list/{query}",
        {"draw": 1, "start": 0, "length": 25, "search[value]": "", "search[regex]": "false"},
    )
    end = time.perf_counter()
    if data.status_code != 200:
        raise RuntimeError(f"datatables_ticket_list answered {data.status_code}")
    return (end - start) * 1000, (end - middle) * 1000, data.json()["recordsFiltered"]


def list_cases(client, samples: int) -> list[dict]:
    from helpdesk.models import Queue

    queues = list(Queue.objects.order_by("pk").values_list("pk", "slug"))
    technical = next(pk for pk, slug in queues if slug == "technical")
    specs = [
        ("open tickets, all queues (/tickets/ + datatables JSON)", {}),
        (
            "open tickets, one queue (/tickets/?queue=technical + JSON)",
            {"queue": technical, "status": [1, 2]},
        ),
    ]
    rows = []
    for name, params in specs:
        progress(f"  peer list: {name}")
        _, _, matched = list_once(client, params)  # warm-up
        both, json_only = [], []
        for _ in range(samples):
            total_ms, json_ms, _ = list_once(client, params)
            both.append(total_ms)
            json_only.append(json_ms)
        rows.append({"name": name, "ms": both, "matched": matched})
        rows.append({"name": "  of which the datatables JSON call", "ms": json_only})
    return rows


def create_run(client, seconds: float) -> dict:
    from django.db import connection

    from helpdesk.models import Queue

    hd = ours()
    corpus = hd.corpus_build(tokens=False)
    rng = random.Random(12)
    queue_ids = list(Queue.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM helpdesk_ticket")
        mark = cursor.fetchone()[0]
    count, latencies = 0, []
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            lang = rng.choice(("fa", "ar", "en"))
            payload = {
                "queue": rng.choice(queue_ids),
                "title": corpus.pick(rng, lang, "subjects").text,
                "description": "\n\n".join(
                    corpus.pick(rng, lang, "customer").text for _ in range(3)
                ),
                "submitter_email": f"c{rng.randint(1, 20000):05d}.bench@example.com",
                "priority": rng.choice((2, 3, 3, 4)),
            }
            t0 = time.perf_counter()
            response = client.post(
                "/api/tickets/", data=json.dumps(payload), content_type="application/json"
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /api/tickets/ answered {response.status_code}: "
                    f"{response.content[:300]!r}"
                )
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM helpdesk_ticketchange WHERE followup_id IN "
                "(SELECT id FROM helpdesk_followup WHERE ticket_id > %s)",
                [mark],
            )
            cursor.execute("DELETE FROM helpdesk_followup WHERE ticket_id > %s", [mark])
            cursor.execute("DELETE FROM helpdesk_ticket WHERE id > %s", [mark])
    return {
        "name": "POST /api/tickets/ (django-helpdesk)",
        "count": count,
        "seconds": elapsed,
        "latencies_ms": latencies,
    }


def ours():
    from data import ours as load

    return load()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--create-seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON results")
    args = parser.parse_args(argv)
    django_setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpdesk_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM helpdesk_followup")
        followups = cursor.fetchone()[0]
    if not tickets:
        raise SystemExit("dh_bench has no tickets: run bench/peer_django_helpdesk/data.py first")
    user = User.objects.get(username=STAFF_EMAIL)
    client = Client()
    client.force_login(user)
    settings.DEBUG = False
    results = {
        "version": version("django-helpdesk"),
        "tickets": tickets,
        "followups": followups,
        "list": list_cases(client, args.samples),
    }
    progress(f"  peer creation: POST /api/tickets/ for {args.create_seconds:.0f} s")
    results["create"] = [create_run(client, args.create_seconds)]
    out = sys.stderr if args.json else sys.stdout
    print(
        f"django-helpdesk {results['version']}: {tickets:,} tickets, {followups:,} follow-ups",
        file=out,
    )
    for row in results["list"]:
        ms = row["ms"]
        print(
            f"{row['name']:<60} n={len(ms)} p50 {statistics.median(ms):.1f} ms "
            f"p95 {percentile_nearest_rank(ms, 0.95):.1f} ms max {max(ms):.1f} ms",
            file=out,
        )
    for row in results["create"]:
        print(
            f"{row['name']:<60} {row['count']} in {row['seconds']:.1f} s = "
            f"{row['count'] / row['seconds']:.1f} tickets/s",
            file=out,
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
