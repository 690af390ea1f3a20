"""How long until a signup has a ready tenant: warm pool vs. cloning vs. migrating.

Run from the repository root (see bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/provisioning.py [--warm 20] [--clone 5] [--migrate 3]

"Ready" means what ``tenants.provisioning.tenant_provision`` delivers: a schema, the
tenant and domain rows, an owner with a hashed password and the Wagtail site bound to
the tenant's domain. Each way is timed around the whole service call, wall clock:

* warm pool -- ``tenant_provision`` while the pool holds a schema (a rename);
* empty pool -- ``tenant_provision`` after ``pool_drain`` (a clone of the template);
* migrating -- what plain django-tenants does: ``CREATE SCHEMA``, ``migrate_schemas``
  into it, then the same rows and setup steps.

Everything the run creates is deleted at the end, and the pool is left refilled to
``settings.TENANT_POOL_SIZE``. Use a database of its own: a task worker on the same
database would refill the pool during the run and blur the numbers.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # project imports need django.setup(), so functions import at call time
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails

REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL_WARM_P50_MS = 100.0
# Below this many samples a 95th percentile is just the maximum; say so.
P95_MIN_SAMPLES = 20
SLUG_PREFIX = "bw"

T = TypeVar("T")


# --- setup ----------------------------------------------------------------------------


def django_configure() -> None:
    """Environment defaults, the repository on sys.path; settings not yet imported."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")
    os.environ.setdefault("DEBUG", "1")  # a laptop default: no SECRET_KEY needed
    # tenant_provision logs a line per tenant (and a warning per clone); keep the table readable.
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def database_ensure() -> None:
    """CREATE DATABASE when DATABASE_URL names one that does not exist yet.

    Without DATABASE_URL the settings start the embedded server and create its database.
    Runs before django.setup(), so before anything opens a connection to the database.
    """
    if not os.environ.get("DATABASE_URL"):
        return
    import psycopg
    from django.conf import settings
    from psycopg import sql

    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
    }
    conninfo = {key: str(value) for key, value in params.items() if value}
    # CREATE DATABASE can't run in a transaction: autocommit, on the maintenance database.
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as maintenance:
        found = maintenance.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if found is None:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def platform_migrate() -> None:
    """Public schema, template schema and a full pool (our migrate_schemas does all three)."""
    from django.core.management import call_command

    call_command("migrate_schemas", interactive=False, verbosity=0)


# --- the three ways -------------------------------------------------------------------


def tenant_provision_by_migrating(*, name: str, slug: str, owner: OwnerDetails) -> Tenant:
    """Plain django-tenants: an empty schema, every tenant migration, then the setup steps.

    Wagtail's initial data migration and kb_pages.0002 leave the home page and default
    Site that ``site_bind_to_tenant`` expects, so the steps run unchanged. The rows and
    steps are the second half of ``tenant_provision``.
    """
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.utils import quote_schema_name

    from tenants.context import public_schema
    from tenants.provisioning import (
        schema_name_for,
        slug_check_available,
        tenant_register_and_set_up,
    )
    from tenants.validation import normalise_slug

    slug = normalise_slug(slug)
    slug_check_available(slug)
    schema_name = schema_name_for(slug)
    with public_schema():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
        call_command(
            "migrate_schemas",
            schema_name=schema_name,
            tenant=True,
            interactive=False,
            verbosity=0,
        )
    with public_schema(), transaction.atomic():
        return tenant_register_and_set_up(
            schema_name=schema_name, name=name, slug=slug, owner=owner
        )


# --- bookkeeping ----------------------------------------------------------------------


@dataclass
class BenchRun:
    """What this run made (so cleanup touches nothing else) and what it measured."""

    started_at: datetime
    schema_names: list[str] = field(default_factory=list)
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    refill_ms: float = 0.0
    refill_made: int = 0


def slug_new() -> str:
    return SLUG_PREFIX + secrets.token_hex(6)


def owner_for(slug: str) -> OwnerDetails:
    from tenants.provisioning import OwnerDetails

    return OwnerDetails(
        name="Bench Owner", email=f"owner@{slug}.example.com", password=secrets.token_urlsafe(16)
    )


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Run ``action``; return its result and the wall-clock milliseconds it took."""
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def tenant_check_ready(*, tenant: Tenant, owner: OwnerDetails) -> None:
    """Fail loudly if a way skipped part of "ready" (checked outside the timing)."""
    from wagtail.models import Site

    from accounts.models import User
    from tenants.context import public_schema, tenant_schema
    from tenants.models import Domain
    from tenants.provisioning import primary_domain_for

    domain = primary_domain_for(tenant.slug)
    with public_schema():
        has_domain = Domain.objects.filter(tenant=tenant, domain=domain, is_primary=True).exists()
    with tenant_schema(tenant.schema_name):
        user = User.objects.filter(email=owner.email, is_superuser=True).first()
        site = Site.objects.select_related("root_page").get(is_default_site=True)
        password_ok = user is not None and user.check_password(owner.password)
    problems = [
        problem
        for problem, failed in [
            ("no primary domain", not has_domain),
            ("no owner with that password", not password_ok),
            ("site not on the tenant's domain", site.hostname != domain),
            ("home page not titled after the tenant", site.root_page.title != tenant.name),
        ]
        if failed
    ]
    if problems:
        raise RuntimeError(f"{tenant.schema_name} is not ready: {', '.join(problems)}")


def provisions_time(
    *, run: BenchRun, way: str, count: int, provision: Callable[..., Tenant]
) -> None:
    """Make ``count`` tenants with ``provision``, timing each call."""
    from tenants.provisioning import schema_name_for

    samples = run.samples_ms.setdefault(way, [])
    for _ in range(count):
        slug = slug_new()
        owner = owner_for(slug)
        # Recorded before the call: a failure half way may still leave the schema.
        run.schema_names.append(schema_name_for(slug))
        tenant, elapsed_ms = timed(
            functools.partial(provision, name=f"Bench {slug}", slug=slug, owner=owner)
        )
        samples.append(elapsed_ms)
        tenant_check_ready(tenant=tenant, owner=owner)


def progress(message: str) -> None:
    """A line on stderr while the run goes (minutes); stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


def pool_ready() -> int:
    from tenants.provisioning import pool_status

    return pool_status()["ready"]


def warm_pool_measure(*, run: BenchRun, count: int) -> None:
    from tenants.provisioning import tenant_provision

    pool_fill_timed(run=run, size=count)
    if pool_ready() < count:  # another filler held the lock: we'd time clones, not renames
        raise RuntimeError(f"the pool holds {pool_ready()} schemas, {count} needed")
    provisions_time(run=run, way="warm pool", count=count, provision=tenant_provision)


def empty_pool_measure(*, run: BenchRun, count: int) -> None:
    from tenants.provisioning import pool_drain, tenant_provision

    pool_drain()
    if pool_ready():
        raise RuntimeError("the pool is not empty after pool_drain(): is a worker refilling it?")
    provisions_time(run=run, way="empty pool (clone)", count=count, provision=tenant_provision)


def migrating_measure(*, run: BenchRun, count: int) -> None:
    provisions_time(run=run, way="migrating", count=count, provision=tenant_provision_by_migrating)


# --- cleanup --------------------------------------------------------------------------


def bench_cleanup(*, run: BenchRun) -> None:
    """Delete this run's tenants, schemas and queued pool refills; refill the pool."""
    from django.db import connection
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult
    from django_tenants.utils import quote_schema_name

    from tenants.context import public_schema
    from tenants.models import Tenant
    from tenants.provisioning import pool_drain, tenant_delete
    from tenants.tasks import pool_refill

    with public_schema():
        for tenant in Tenant.objects.filter(schema_name__in=run.schema_names):
            tenant_delete(tenant=tenant)
        with connection.cursor() as cursor:
            for schema_name in run.schema_names:  # made by a way that failed half way
                cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema_name)} CASCADE")
        # Each signup queued a pool refill for a worker; none runs here, so don't leave them.
        DBTaskResult.objects.filter(
            task_path=pool_refill.module_path,
            status=TaskResultStatus.READY,
            enqueued_at__gte=run.started_at,
        ).delete()
    # Drained first: the pool ends at exactly TENANT_POOL_SIZE, whatever was left over.
    pool_drain()
    pool_fill_timed(run=run)


def pool_fill_timed(*, run: BenchRun, size: int | None = None) -> None:
    """``pool_fill`` (to TENANT_POOL_SIZE by default, as the refill task does), timed.

    Every fill the run makes counts towards the refill cost per schema: each one clones
    the template to replace schemas that signups consumed.
    """
    from tenants.provisioning import pool_fill

    made, elapsed_ms = timed(functools.partial(pool_fill, size=size))
    run.refill_made += made
    run.refill_ms += elapsed_ms


# --- report ---------------------------------------------------------------------------


def percentile_nearest_rank(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report_print(*, run: BenchRun) -> None:
    from django.conf import settings

    print(f"{'way':<20} {'n':>3} {'p50':>9} {'p95':>10} {'mean':>9}   (ms)")
    any_max = False
    for way, samples in run.samples_ms.items():
        if not samples:
            continue
        if len(samples) >= P95_MIN_SAMPLES:
            tail = f"{percentile_nearest_rank(samples, 0.95):9.1f} "
        else:
            tail = f"{max(samples):9.1f}*"
            any_max = True
        print(
            f"{way:<20} {len(samples):>3} {statistics.median(samples):9.1f} {tail} "
            f"{statistics.fmean(samples):9.1f}"
        )
    if any_max:
        print(f"* max: fewer than {P95_MIN_SAMPLES} runs, too few for a p95")
    print()

    p50 = {way: statistics.median(s) for way, s in run.samples_ms.items() if s}
    warm = p50.get("warm pool")
    if warm is not None:
        for way, label in [("migrating", "migrating"), ("empty pool (clone)", "cloning")]:
            if way in p50:
                ratio = p50[way] / warm
                print(f"{label} / warm pool p50: warm pool is {ratio:.0f}x faster than {label}")
        verdict = "met" if warm <= GOAL_WARM_P50_MS else "NOT met"
        print(f"goal warm pool p50 <= {GOAL_WARM_P50_MS:.0f} ms: {verdict} ({warm:.1f} ms)")
    if run.refill_made:
        print(
            f"pool refill: {run.refill_ms / run.refill_made:.1f} ms per schema "
            f"(pool_fill cloned {run.refill_made} in {run.refill_ms:.0f} ms, "
            f"target TENANT_POOL_SIZE={settings.TENANT_POOL_SIZE})"
        )
    else:
        print("pool refill: not measured (TENANT_POOL_SIZE is 0 or another filler held the lock)")


# --- main -----------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm", type=int, default=20, help="provisions from a warm pool")
    parser.add_argument("--clone", type=int, default=5, help="provisions with an empty pool")
    parser.add_argument("--migrate", type=int, default=3, help="provisions by migrating")
    args = parser.parse_args(argv)
    if min(args.warm, args.clone, args.migrate) < 0:
        parser.error("counts can't be negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    django_configure()
    database_ensure()
    import django

    django.setup()
    from django.utils import timezone

    progress("migrating the platform (public, template, pool)...")
    platform_migrate()
    run = BenchRun(started_at=timezone.now())
    try:
        # Warm pool first: empty_pool_measure drains whatever the pool holds.
        if args.warm:
            progress(
                f"warm pool: filling the pool to {args.warm}, then timing {args.warm} signup(s)..."
            )
            warm_pool_measure(run=run, count=args.warm)
        if args.clone:
            progress(f"empty pool: draining the pool, then timing {args.clone} signup(s)...")
            empty_pool_measure(run=run, count=args.clone)
        if args.migrate:
            progress(f"migrating: timing {args.migrate} signup(s)...")
            migrating_measure(run=run, count=args.migrate)
    finally:
        progress("cleaning up and refilling the pool...")
        bench_cleanup(run=run)
    report_print(run=run)


if __name__ == "__main__":
    main()
