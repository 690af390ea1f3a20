"""ASGI middleware for websockets: the tenant from the Host header, the user from that
tenant's own session table.

Channels' stock SessionMiddleware and AuthMiddleware query the database from a worker
thread whose connection sits in whatever schema it last served -- so we resolve the
session and user ourselves, inside ``tenant_schema()`` in the thread that runs the query.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser

from tenants.context import public_schema, tenant_schema
from tenants.models import Domain


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _host_only(value: str) -> str:
    return value.rsplit(":", 1)[0].lower() if value and not value.startswith("[") else value


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
        resolved = await database_sync_to_async(resolve_tenant_hosts)(host) if host else None
        origin_host = _host_only(urlsplit(_header(scope, b"origin")).netloc)
        if resolved is None or origin_host not in resolved[1]:
            return await WebsocketDenier()(scope, receive, send)
        schema_name, hosts = resolved
        cookies = SimpleCookie()
        cookies.load(_header(scope, b"cookie"))
        morsel = cookies.get(settings.SESSION_COOKIE_NAME)
        user = await database_sync_to_async(user_for_session)(
            schema_name, morsel.value if morsel else None
        )
        scope = dict(scope, schema_name=schema_name, tenant_hosts=hosts, user=user)
        return await self.inner(scope, receive, send)
