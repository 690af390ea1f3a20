"""Creating tenants by claiming pre-cloned schemas, and keeping that pool warm.

Migrating our tenant apps into a new schema takes seconds, cloning the migrated
template schema about one, and renaming an already cloned schema a millisecond. So:

* ``template_migrate`` keeps the schema ``settings.TENANT_TEMPLATE_SCHEMA`` migrated
  (our ``migrate_schemas`` calls it after every run, then ``pool_refresh``).
* ``pool_fill`` clones the template into ``pool_<hex>`` schemas until the pool has
  ``settings.TENANT_POOL_SIZE`` of them, each stamped with the template's fingerprint.
* ``tenant_provision`` claims one (``FOR UPDATE SKIP LOCKED``), renames it to the
  tenant's schema and runs the setup steps inside it, all in ONE transaction: a
  failure anywhere rolls back the rename, the rows and the users together -- PostgreSQL
  DDL is transactional -- so nothing is left half-made.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tenants.clone import CloneSchema
from django_tenants.utils import quote_schema_name, schema_exists

from tenants.context import public_schema, tenant_schema
from tenants.models import Domain, PoolSchema, TemplateState, Tenant
from tenants.validation import normalise_slug, validate_slug

logger = logging.getLogger(__name__)

POOL_PREFIX = "pool_"
# An arbitrary constant: one pool filler at a time across all processes.
POOL_LOCK_KEY = 0x68656C70
# Cloning re-creates django-tenants' clone_schema() helper functions each time; two clones
# at once collide on them ("tuple concurrently updated"), so clones take turns.
CLONE_LOCK_KEY = 0x636C6F6E


@dataclass(frozen=True)
class OwnerDetails:
    name: str
    email: str
    password: str


def schema_name_for(slug: str) -> str:
    # The prefix keeps tenant schemas apart from "public", "pg_*", the template and pool.
    return "t_" + slug.replace("-", "_")


def primary_domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


# --- the template ---------------------------------------------------------------------


def template_fingerprint() -> str:
    """A digest of the migrations applied to the template schema."""
    template = quote_schema_name(settings.TENANT_TEMPLATE_SCHEMA)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {template}.django_migrations ORDER BY app, name")
        rows = cursor.fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def template_migrate(*, verbosity: int = 0) -> str:
    """Create the template schema if needed, migrate it and record its fingerprint."""
    template = settings.TENANT_TEMPLATE_SCHEMA
    with public_schema():
        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE SCHEMA {quote_schema_name(template)}")
        call_command(
            "migrate_schemas",
            schema_name=template,
            tenant=True,
            interactive=False,
            verbosity=verbosity,
        )
        fingerprint = template_fingerprint()
        TemplateState.objects.update_or_create(pk=1, defaults={"fingerprint": fingerprint})
    return fingerprint


def current_fingerprint() -> str | None:
    state = TemplateState.objects.filter(pk=1).values_list("fingerprint", flat=True).first()
    return state


# --- the pool -------------------------------------------------------------------------


def pool_schema_create() -> PoolSchema:
    fingerprint = current_fingerprint()
    if fingerprint is None:
        raise RuntimeError("The template schema has not been migrated yet.")
    schema_name = POOL_PREFIX + secrets.token_hex(6)
    with public_schema(), transaction.atomic():
        _clone_template(schema_name)
        return PoolSchema.objects.create(schema_name=schema_name, fingerprint=fingerprint)


def _clone_template(schema_name: str) -> None:
    """Clone the template inside the caller's transaction, one clone at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLONE_LOCK_KEY])
    CloneSchema().clone_schema(settings.TENANT_TEMPLATE_SCHEMA, schema_name)


def pool_status() -> dict[str, int]:
    with public_schema():
        fingerprint = current_fingerprint()
        ready = PoolSchema.objects.filter(fingerprint=fingerprint).count()
        stale = PoolSchema.objects.exclude(fingerprint=fingerprint).count()
    return {"ready": ready, "stale": stale, "target": settings.TENANT_POOL_SIZE}


def pool_fill(*, size: int | None = None) -> int:
    """Clone schemas until ``size`` fresh ones wait; returns how many were made.

    Guarded by an advisory lock so concurrent fillers (web process, worker) don't
    overshoot; a filler that can't take the lock leaves the work to the one that has it.
    """
    target = settings.TENANT_POOL_SIZE if size is None else size
    made = 0
    with public_schema():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [POOL_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return 0
        try:
            while pool_status()["ready"] < target:
                pool_schema_create()
                made += 1
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [POOL_LOCK_KEY])
    return made


def pool_drain(*, only_stale: bool = False) -> int:
    """Drop pooled schemas (all, or those cloned from an older template)."""
    dropped = 0
    with public_schema():
        fingerprint = current_fingerprint()
        rows = PoolSchema.objects.all()
        if only_stale:
            rows = rows.exclude(fingerprint=fingerprint)
        for row in list(rows):
            with transaction.atomic():
                locked = (
                    PoolSchema.objects.select_for_update(skip_locked=True).filter(pk=row.pk).first()
                )
                if locked is None:
                    continue
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"DROP SCHEMA IF EXISTS {quote_schema_name(locked.schema_name)} CASCADE"
                    )
                locked.delete()
                dropped += 1
    return dropped


def pool_refresh() -> dict[str, int]:
    """After a migration: drop schemas cloned from the old template, clone fresh ones."""
    dropped = pool_drain(only_stale=True)
    made = pool_fill()
    return {"dropped": dropped, "made": made}


def _pool_claim() -> str | None:
    """Take one fresh pooled schema inside the caller's transaction (or None)."""
    row = (
        PoolSchema.objects.select_for_update(skip_locked=True)
        .filter(fingerprint=current_fingerprint())
        .order_by("created_at")
        .first()
    )
    if row is None:
        return None
    row.delete()
    return row.schema_name


# --- tenants --------------------------------------------------------------------------


def slug_check_available(slug: str) -> None:
    validate_slug(slug)
    with public_schema():
        taken = (
            Tenant.objects.filter(slug=slug).exists()
            or Domain.objects.filter(domain=primary_domain_for(slug)).exists()
        )
    if taken:
        raise ValidationError(_("This subdomain is already taken."), code="taken")


def tenant_provision(*, name: str, slug: str, owner: OwnerDetails) -> Tenant:
    """Create a tenant, its primary domain and its owner, ready to serve, in one transaction."""
    slug = normalise_slug(slug)
    slug_check_available(slug)
    schema_name = schema_name_for(slug)
    with public_schema(), transaction.atomic():
        # The advisory lock on the slug turns a double submit into a clean "taken".
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [slug])
        if (
            Tenant.objects.filter(slug=slug).exists()
            or Domain.objects.filter(domain=primary_domain_for(slug)).exists()
        ):
            raise ValidationError(_("This subdomain is already taken."), code="taken")
        pooled = _pool_claim()
        if pooled:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER SCHEMA {quote_schema_name(pooled)} "
                    f"RENAME TO {quote_schema_name(schema_name)}"
                )
        else:
            logger.warning("tenant pool empty: cloning for %s", schema_name)
            _clone_template(schema_name)
        tenant = tenant_register_and_set_up(
            schema_name=schema_name, name=name, slug=slug, owner=owner
        )
        transaction.on_commit(_enqueue_pool_refill)
    logger.info("tenant provisioned schema=%s from_pool=%s", schema_name, bool(pooled))
    return tenant


def tenant_register_and_set_up(
    *, schema_name: str, name: str, slug: str, owner: OwnerDetails
) -> Tenant:
    """Given a ready schema: the tenant and domain rows, then the setup steps inside it.

    Runs inside the caller's transaction (``tenant_provision``; the provisioning benchmark
    also calls it after migrating a schema the slow way).
    """
    tenant = Tenant.objects.create(schema_name=schema_name, name=name, slug=slug)
    Domain.objects.create(domain=primary_domain_for(slug), tenant=tenant, is_primary=True)
    with tenant_schema(schema_name):
        for step in settings.TENANT_SETUP_STEPS:
            import_string(step)(tenant=tenant, owner=owner)
    return tenant


def _enqueue_pool_refill() -> None:
    from django_tasks_db.models import DBTaskResult

    from tenants.tasks import pool_refill

    try:
        # One waiting refill covers any number of signups: it fills to the target.
        with public_schema():
            waiting = DBTaskResult.objects.filter(
                task_path=pool_refill.module_path, status="READY"
            ).exists()
        if not waiting:
            pool_refill.enqueue()
    except Exception:  # the pool refills on the next signup or `pool fill`; signup stands
        logger.exception("could not enqueue the pool refill")


def tenant_delete(*, tenant: Tenant) -> None:
    """Drop the tenant's schema and its rows (domains cascade)."""
    with public_schema(), transaction.atomic():
        with connection.cursor() as cursor:
            # Fire deferred FK checks now: DROP SCHEMA refuses tables with pending events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tenant.delete(force_drop=True)
    logger.info("tenant deleted schema=%s", tenant.schema_name)


def platform_bootstrap(*, verbosity: int = 0) -> Tenant:
    """Idempotent: the public tenant on BASE_DOMAIN, a migrated template and a full pool."""
    with public_schema():
        public, _created = Tenant.objects.get_or_create(
            schema_name=settings.PUBLIC_SCHEMA_NAME,
            defaults={"name": "Platform", "slug": "public"},
        )
        Domain.objects.get_or_create(
            domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
        )
    if _current_fingerprint_or_none() is None:
        template_migrate(verbosity=verbosity)
    pool_fill()
    return public


def _current_fingerprint_or_none() -> str | None:
    with public_schema():
        return current_fingerprint()
