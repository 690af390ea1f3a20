"""Fallback delivery from the event log, for processes whose channel layer cannot hear
other processes: the in-memory layer of the single-process default, where a background
worker's events would otherwise never reach a socket.

One asyncio task per web process polls the event log of each tenant that has sockets in
this process (``watch``/``unwatch`` count them) and hands new rows to the local groups.
Consumers drop ids they already sent, so an event delivered live and found again by the
poller reaches the browser once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from channels.layers import get_channel_layer
from django.conf import settings

from realtime.groups import group_name
from realtime.models import Event
from realtime.publish import MESSAGE_TYPE
from tenants.channels_middleware import db_call
from tenants.context import tenant_schema

logger = logging.getLogger(__name__)
_sockets: Counter[str] = Counter()
_last_seen: dict[str, int] = {}
_task: asyncio.Task | None = None


def interval() -> float:
    return float(getattr(settings, "REALTIME_POLL_INTERVAL", 0) or 0)


async def watch(schema_name: str) -> None:
    global _task
    if interval() <= 0:
        return
    if _sockets[schema_name] == 0 and schema_name not in _last_seen:
        _last_seen[schema_name] = await db_call(_newest_id)(schema_name)
    _sockets[schema_name] += 1
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_run())


def unwatch(schema_name: str) -> None:
    if interval() <= 0:
        return
    _sockets[schema_name] -= 1
    if _sockets[schema_name] <= 0:
        del _sockets[schema_name]
        _last_seen.pop(schema_name, None)


def _newest_id(schema_name: str) -> int:
    with tenant_schema(schema_name):
        return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_after(schema_name: str, last_id: int) -> list[tuple[int, list[str], dict]]:
    with tenant_schema(schema_name):
        rows = Event.objects.filter(pk__gt=last_id).order_by("pk")[:1000]
        return [(row.pk, row.audiences, row.payload) for row in rows]


async def poll_once() -> int:
    """Deliver every logged event newer than what this process has seen; returns a count."""
    layer = get_channel_layer()
    delivered = 0
    for schema_name in list(_sockets):
        rows = await db_call(_events_after)(schema_name, _last_seen.get(schema_name, 0))
        for event_id, audiences, payload in rows:
            message = {"type": MESSAGE_TYPE, "id": event_id, "event": payload}
            for audience in audiences:
                await layer.group_send(
                    group_name(schema_name=schema_name, audience=audience), message
                )
            _last_seen[schema_name] = event_id
            delivered += 1
    return delivered


async def _run() -> None:
    while _sockets and interval() > 0:
        try:
            await poll_once()
        except Exception:  # a failed poll is retried at the next tick
            logger.warning("realtime poll failed", exc_info=True)
        await asyncio.sleep(interval())
