"""Publishing events: recorded with the change, delivered after commit.

``publish_on_commit`` writes the event to the tenant's event log inside the caller's
transaction (so a committed change always has its event, and a rolled-back one never
has), then hands it to the channel layer once the transaction commits. If the layer is
down (Redis unreachable), delivery is skipped with a warning: the change and the event
are saved, and clients catch up by replay when they reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from realtime.groups import group_name
from realtime.models import Event

logger = logging.getLogger(__name__)
MESSAGE_TYPE = "realtime.event"


def publish_on_commit(
    *, schema_name: str, audiences: Sequence[str], event: Mapping[str, Any]
) -> Event:
    return publish_many_on_commit(schema_name=schema_name, events=[(audiences, event)])[0]


def publish_many_on_commit(
    *, schema_name: str, events: Sequence[tuple[Sequence[str], Mapping[str, Any]]]
) -> list[Event]:
    """Several events of one change (its staff and its public view): one INSERT, one
    hand-over to the channel layer after commit, in the order given."""
    rows = Event.objects.bulk_create(
        [
            Event(audiences=sorted(set(audiences)), payload=dict(event))
            for audiences, event in events
        ]
    )
    # Captured now: the callback runs after commit, possibly on a reset connection.
    batch = [
        (
            [group_name(schema_name=schema_name, audience=a) for a in row.audiences],
            {
                "type": MESSAGE_TYPE,
                "id": row.pk,
                "event": row.payload,
                # Encoded once here rather than once per socket: with 1,000 sockets on a
                # group the per-socket json.dumps was most of daphne's CPU (bench/realtime.py).
                "text": json.dumps({"type": "event", "id": row.pk, "event": row.payload}),
            },
        )
        for row in rows
    ]
    # Robust: should it raise after all, the request that committed does not fail.
    transaction.on_commit(lambda: deliver_all(batch, schema_name=schema_name), robust=True)
    return rows


# How long a delivery may hold up the code that committed (a Redis that stopped
# answering): the event is in the log already, and sockets catch up by replay.
DELIVERY_TIMEOUT_S = 5.0

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _delivery_loop() -> asyncio.AbstractEventLoop:
    """This process's event loop for handing events to a cross-process layer, in a
    daemon thread of its own (a forked child starts its own).

    ``async_to_sync`` from a thread with no server loop above it -- a background worker,
    a management command -- builds a thread and an event loop per call, and the Redis
    pub/sub layer a connection per loop: some 2 ms of CPU and a Redis connect per event,
    which made four workers' 200 events/s take most of a core (bench/realtime.py). One
    long-lived loop keeps one connection.
    """
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-delivery", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def deliver_all(
    batch: list[tuple[list[str], dict[str, Any]]], *, schema_name: str | None = None
) -> None:
    """After commit: the events to the channel layer; without a cross-process layer, a
    notification that wakes the web process's poller too (``realtime.poller``)."""
    from realtime import poller

    layer = get_channel_layer()
    polled = schema_name is not None and poller.enabled()
    try:
        if layer is None:
            pass
        elif isinstance(layer, InMemoryChannelLayer):
            # Only to groups someone in this process has joined: a worker or a command
            # has no sockets (and no loop: async_to_sync would build a thread and an
            # event loop per call, 7 % of an API create), nor has a web process with no
            # socket on these groups. What is not sent here the pollers read from the
            # log after the notification below (a socket that joins meanwhile gets it
            # from there if its tenant already had a socket in this process; a tenant's
            # first socket starts after the newest logged id, as before).
            heard = [
                (groups, message)
                for groups, message in batch
                if any(layer.groups.get(group) for group in groups)
            ]
            if heard:
                # Its queues belong to the loop that serves this process's sockets,
                # which async_to_sync reaches from a request thread.
                async_to_sync(_send_all)(layer, heard)
            if heard and polled:  # sent here: this process's poller need not send them
                poller.delivering_here(schema_name, [message["id"] for _, message in heard])
        else:
            future = asyncio.run_coroutine_threadsafe(_send_all(layer, batch), _delivery_loop())
            try:
                future.result(timeout=DELIVERY_TIMEOUT_S)
            except BaseException:
                future.cancel()
                raise
    except Exception:  # Redis down: clients catch up by replay; the request must not fail
        logger.warning(
            "realtime delivery failed for events %s", [m.get("id") for _, m in batch], exc_info=True
        )
    if polled:
        poller.notify(schema_name)


async def _send_all(layer, batch: list[tuple[list[str], dict[str, Any]]]) -> None:
    for groups, message in batch:
        for group in groups:
            await layer.group_send(group, message)
