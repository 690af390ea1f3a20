"""Publishing events: recorded with the change, delivered after commit.

``publish_on_commit`` writes the event to the tenant's event log inside the caller's
transaction (so a committed change always has its event, and a rolled-back one never
has), then hands it to the channel layer once the transaction commits. If the layer is
down (Redis unreachable), delivery is skipped with a warning: the change and the event
are saved, and clients catch up by replay when they reconnect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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
    transaction.on_commit(lambda: deliver_all(batch))
    return rows


def deliver_all(batch: list[tuple[list[str], dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, batch)
    except Exception:  # Redis down: clients catch up by replay; the request must not fail
        logger.warning(
            "realtime delivery failed for events %s", [m.get("id") for _, m in batch], exc_info=True
        )


async def _send_all(layer, batch: list[tuple[list[str], dict[str, Any]]]) -> None:
    for groups, message in batch:
        for group in groups:
            await layer.group_send(group, message)
