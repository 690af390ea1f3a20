"""Every switch of the connection's schema goes through here, under a loud name.

Tenant context is implicit inside one request thread (django-tenants' middleware).
At every other boundary -- a task, a channel-layer message, a consumer's DB call, an
on-commit callback, a management command -- code carries ``schema_name`` across and
re-enters it with one of these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_tenant_model, schema_context


def current_schema_name() -> str:
    return connection.schema_name


def in_tenant_schema() -> bool:
    """Whether the active schema is a tenant's: not the public one, not the template."""
    return current_schema_name() not in (
        settings.PUBLIC_SCHEMA_NAME,
        settings.TENANT_TEMPLATE_SCHEMA,
    )


@contextmanager
def public_schema() -> Iterator[None]:
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        yield


@contextmanager
def tenant_schema(schema_name: str) -> Iterator[None]:
    """Run the block inside ``schema_name``; restores the previous schema afterwards."""
    if not schema_name or schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise ValueError("tenant_schema() needs a tenant's schema, not the public one")
    with schema_context(schema_name):
        yield


@contextmanager
def template_schema() -> Iterator[None]:
    with schema_context(settings.TENANT_TEMPLATE_SCHEMA):
        yield


def dangerously_iterate_all_tenants() -> Iterator[str]:
    """Yield each tenant's schema name with the connection switched into it."""
    with public_schema():
        schema_names = list(
            get_tenant_model()
            .objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
            .values_list("schema_name", flat=True)
        )
    for schema_name in schema_names:
        with schema_context(schema_name):
            yield schema_name


def reset_to_public_schema() -> None:
    """Point the connection back at public (between tests, after a worker's task)."""
    connection.set_schema_to_public()
