"""Background work of the tenant registry, and the helper every tenant task uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django_tasks import task

from tenants.context import tenant_schema


def in_tenant_schema(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make a task function take ``schema_name`` first and run inside that schema.

    Tasks are stored in the public schema and run by a worker with no request, so
    the schema must travel with the task: ``some_task.enqueue(schema_name=..., ...)``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, schema_name: str, **kwargs: Any) -> Any:
        with tenant_schema(schema_name):
            return func(*args, **kwargs)

    return wrapper


@task(backend="durable", queue_name="provisioning")
def pool_refill() -> int:
    from tenants.provisioning import pool_fill

    return pool_fill()
