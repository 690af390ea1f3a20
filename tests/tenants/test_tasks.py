"""Background work: durable tasks in the public schema, each carrying its schema_name."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from tenants import provisioning
from tenants.context import public_schema
from tenants.models import PoolSchema
from tenants.provisioning import OwnerDetails, tenant_provision
from tenants.tasks import in_tenant_schema, pool_refill
from tests.conftest import PASSWORD


@task(backend="durable")
@in_tenant_schema
def emails_seen_by_task() -> dict:
    return {
        "schema": connection.schema_name,
        "emails": sorted(User.objects.values_list("email", flat=True)),
    }


@pytest.fixture(autouse=True)
def _keep_the_test_transaction(monkeypatch):
    # The worker recycles connections between tasks; here that connection holds the
    # test's transaction (which is how the worker can see what the test enqueued).
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def _run_worker() -> None:
    call_command(
        "db_worker",
        "--backend",
        "durable",
        "--queue-name",
        "*",
        "--batch",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0",
        verbosity=0,
    )


def test_a_task_runs_inside_the_schema_it_was_given(alpha, bravo):
    for_alpha = emails_seen_by_task.enqueue(schema_name=alpha.schema_name)
    for_bravo = emails_seen_by_task.enqueue(schema_name=bravo.schema_name)

    _run_worker()

    alpha_result = DBTaskResult.objects.get(id=for_alpha.id)
    bravo_result = DBTaskResult.objects.get(id=for_bravo.id)
    assert alpha_result.status == "SUCCESSFUL", alpha_result.traceback
    assert alpha_result.return_value["schema"] == alpha.schema_name
    assert "agent@alpha.test" in alpha_result.return_value["emails"]
    assert not any(e.endswith("@bravo.test") for e in alpha_result.return_value["emails"])
    assert bravo_result.return_value["schema"] == bravo.schema_name
    assert connection.schema_name == "public"  # the worker left the connection in public


def test_a_task_without_schema_name_fails_instead_of_running_in_public(alpha):
    with pytest.raises(TypeError):
        emails_seen_by_task.call()
    with pytest.raises(ValueError):
        emails_seen_by_task.call(schema_name="public")


def test_signup_enqueues_a_pool_refill_after_commit_and_the_worker_refills(
    tenants, django_capture_on_commit_callbacks
):
    queued = DBTaskResult.objects.filter(task_path=pool_refill.module_path, status="READY")
    queued.delete()
    for slug in ("lima", "mike"):
        with django_capture_on_commit_callbacks(execute=True):
            tenant_provision(
                name=slug,
                slug=slug,
                owner=OwnerDetails(name="L", email="l@lima.test", password=PASSWORD),
            )
    with public_schema():
        assert PoolSchema.objects.count() == 0
        assert queued.count() == 1  # one waiting refill covers both signups

    _run_worker()

    assert provisioning.pool_status()["ready"] == 1
