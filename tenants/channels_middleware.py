"""ASGI middleware for websockets: the tenant from the Host header, the user from that
tenant's own session table.

Channels' stock SessionMiddleware and AuthMiddleware query the database from a worker
thread whose connection sits in whatever schema it last served -- so we resolve the
session and user ourselves, inside ``tenant_schema()`` in the thread that runs the query.
"""

from __future__ import annotations

import functools
import time
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections

from tenants.context import public_schema, tenant_schema
from tenants.models import Domain


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _host_only(value: str) -> str:
    return value.rsplit(":", 1)[0].lower() if value and not value.startswith("[") else value


# A connect storm (every agent's browser reconnecting after a deploy) asks for the same
# host a thousand times a second: remember the answer briefly. A tenant switched off or
# a domain removed stops taking new sockets within HOSTS_TTL_SECONDS (pages at once).
HOSTS_TTL_SECONDS = 10.0
_hosts_cache: dict[str, tuple[float, tuple[str, frozenset[str]] | None]] = {}


def resolve_tenant_hosts_cached(host: str) -> tuple[str, frozenset[str]] | None:
    now = time.monotonic()
    cached = _hosts_cache.get(host)
    if cached is not None and cached[0] > now:
        return cached[1]
    resolved = resolve_tenant_hosts(host)
    if len(_hosts_cache) > 10_000:  # unknown hosts must not grow it without bound
        _hosts_cache.clear()
    _hosts_cache[host] = (now + HOSTS_TTL_SECONDS, resolved)
    return resolved


def resolve_tenant_hosts(host: str) -> tuple[str, frozenset[str]] | None:
    """(schema name, all host names of that tenant) for an active tenant's host, else None."""
    with public_schema():
        domain = (
            Domain.objects.select_related("tenant")
            .filter(domain=host, tenant__is_active=True)
            .exclude(tenant__schema_name=settings.PUBLIC_SCHEMA_NAME)
            .first()
        )
        if domain is None:
            return None
        hosts = frozenset(
            Domain.objects.filter(tenant=domain.tenant).values_list("domain", flat=True)
        )
    return domain.tenant.schema_name, hosts


def user_for_session(schema_name: str, session_key: str | None):
    """The user signed in with ``session_key`` in this tenant, or AnonymousUser."""
    if not session_key:
        return AnonymousUser()
    engine = import_module(settings.SESSION_ENGINE)
    with tenant_schema(schema_name):
        session = engine.SessionStore(session_key)

        class _Request:  # get_user() needs only .session
            pass

        request = _Request()
        request.session = session  # type: ignore[attr-defined]
        user = get_user(request)  # type: ignore[arg-type]
        if user.is_authenticated:
            # Touch the fields consumers read so nothing lazy runs outside the schema.
            _ = (user.pk, user.email, user.name, user.is_staff, user.is_superuser)
        return user


def db_call(function):
    """``function`` on a worker thread of the loop's pool, with Channels' connection care.

    Channels' own ``database_sync_to_async`` runs every call on one thread: a burst of
    1,000 handshakes queued behind each other past daphne's connect timeout. Each call
    here enters its schema itself, and its connection goes back to the pool after it:
    closed by the call itself too, because Channels' test communicator turns its
    ``close_old_connections`` into a no-op, and every socket test then kept a pooled
    connection checked out until the pool ran dry.
    """

    @functools.wraps(function)
    def closing(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(closing, thread_sensitive=False)


def _identity(
    host: str, origin_host: str, session_key: str | None
) -> tuple[str, frozenset[str], Any] | None:
    """Tenant, its hosts and the signed-in user for a handshake, in one trip to a thread."""
    resolved = resolve_tenant_hosts_cached(host)
    if resolved is None or origin_host not in resolved[1]:
        return None
    schema_name, hosts = resolved
    return schema_name, hosts, user_for_session(schema_name, session_key)


class TenantWebsocketMiddleware:
    """Put ``schema_name``, ``tenant_hosts`` and ``user`` into the websocket scope.

    Refuses the handshake (HTTP 403) when the host is not an active tenant, or when the
    Origin header is missing or names a host that is not one of this tenant's own
    (Channels' AllowedHostsOriginValidator would accept any subdomain of BASE_DOMAIN,
    so another tenant's page could open a socket here with the user's cookie).
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        host = _host_only(_header(scope, b"host"))
        origin_host = _host_only(urlsplit(_header(scope, b"origin")).netloc)
        cookies = SimpleCookie()
        cookies.load(_header(scope, b"cookie"))
        morsel = cookies.get(settings.SESSION_COOKIE_NAME)
        identity = (
            await db_call(_identity)(host, origin_host, morsel.value if morsel else None)
            if host
            else None
        )
        if identity is None:
            return await WebsocketDenier()(scope, receive, send)
        schema_name, hosts, user = identity
        scope = dict(scope, schema_name=schema_name, tenant_hosts=hosts, user=user)
        return await self.inner(scope, receive, send)
