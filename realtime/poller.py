"""Fallback delivery from the event log, for processes whose channel layer cannot hear
other processes: the in-memory layer of the single-process default, where a background
worker's events would otherwise never reach a socket.

One asyncio task per web process reads the event log of each tenant that has sockets in
this process (``watch``/``unwatch`` count them) and hands new rows to the local groups.
It reads when PostgreSQL says a tenant logged an event (``publish`` sends ``NOTIFY`` on
``CHANNEL`` with the schema, delivered at commit; this process LISTENs on a connection of
its own), and every ``REALTIME_POLL_INTERVAL`` seconds anyway, in case a notification
was missed (the listening connection dropped).

Commits are not in id order: a transaction holding id 10 can commit after the one
holding 11. The poller remembers the ids it skipped over ("gaps") and looks for them
again until GAP_WAIT_S has passed (a rolled-back transaction's id never appears), so a
late commit is still delivered live: in every read for GAP_FRESH_S (a gap is almost
always a commit a few milliseconds behind), then in at most one read every
GAP_OLD_EVERY_S (and the interval's full reads). Ids that never come (deleted rows, a
rolled-back import: thousands at once) would otherwise be asked for in every read for
ten seconds, at 80 reads a second under load.

Events this process delivered itself (a request served here, through the in-memory
layer) are skipped, not sent twice; consumers also drop ids they already sent.

With a cross-process layer (Redis) the layer carries every event, and the poller only
sweeps: every ``REALTIME_SWEEP_INTERVAL`` seconds it reads the ids logged more than
SWEEP_SETTLE_S ago, and hands each one the layer did not bring to this process (Redis
was down when it was published, or a pub/sub message was lost) straight to the local
groups -- not through the layer, which may be the thing that is down. Sockets therefore
catch up on an outage by themselves, a few seconds late, without reconnecting; what the
layer did bring costs one indexed read of ids per tenant and sweep. (An event heard
through one of its groups counts as heard for all of them: pub/sub losing one group's
copy and not another's is left to replay.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from realtime.groups import group_name, schema_of
from realtime.hub import hub
from realtime.models import Event
from realtime.publish import MESSAGE_TYPE
from tenants.channels_middleware import db_call
from tenants.context import tenant_schema

logger = logging.getLogger(__name__)

CHANNEL = "realtime_events"
# How long an id skipped over may still turn up (a transaction that commits late).
GAP_WAIT_S = 10.0
# ... asked for in every read while this young, then in one read every GAP_OLD_EVERY_S.
GAP_FRESH_S = 1.0
GAP_OLD_EVERY_S = 0.1
MAX_GAPS = 5000
BATCH = 1000
# The least time between two reads of the log. Notifications that arrive during a read
# are served by the next one; a read costs little (one indexed query, gaps as one array),
# and every 10 ms of waiting here was 10 ms more before the hub's next frame.
COALESCE_S = 0.002
# Sweeping (a cross-process layer): how old an event must be before its absence from
# what the layer brought counts as lost; the layer delivers within milliseconds.
SWEEP_SETTLE_S = 2.0
# A sweep reads at most this many batches per tenant (an outage's backlog then takes
# several sweeps rather than one long read).
SWEEP_MAX_BATCHES = 10


@dataclass
class _Log:
    """Where this process is in one tenant's event log."""

    high: int  # the highest id seen
    gaps: dict[int, float] = field(default_factory=dict)  # id skipped over -> when
    old_gaps_read: float = 0.0  # when a read last asked for every gap
    # ids this process delivers itself (polling), or that the layer brought (sweeping)
    local: set[int] = field(default_factory=set)


_sockets: Counter[str] = Counter()
_logs: dict[str, _Log] = {}
_task: asyncio.Task | None = None
_wake: asyncio.Event | None = None
_woken: set[str] = set()
_local_lock = threading.Lock()  # request threads add local ids; the poll prunes them


def interval() -> float:
    return float(getattr(settings, "REALTIME_POLL_INTERVAL", 0) or 0)


def enabled() -> bool:
    """Polling: the layer cannot hear other processes, the log is read on notification."""
    return interval() > 0


def sweep_interval() -> float:
    return float(getattr(settings, "REALTIME_SWEEP_INTERVAL", 0) or 0)


def sweeping() -> bool:
    """Sweeping: a cross-process layer carries events, the log is read for its losses."""
    return not enabled() and sweep_interval() > 0


async def watch(schema_name: str) -> None:
    global _task, _wake
    if not (enabled() or sweeping()):
        return
    if _sockets[schema_name] == 0 and schema_name not in _logs:
        newest = await db_call(_newest_id)(schema_name)
        # Another first socket of the tenant may have set it up while we read.
        _logs.setdefault(schema_name, _Log(high=newest))
    _sockets[schema_name] += 1
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _wake = asyncio.Event()
        _task = loop.create_task(_run() if enabled() else _sweep_run())


def unwatch(schema_name: str) -> None:
    if not (enabled() or sweeping()):
        return
    _sockets[schema_name] -= 1
    if _sockets[schema_name] <= 0:
        del _sockets[schema_name]
        _logs.pop(schema_name, None)


def notify(schema_name: str) -> None:
    """Wake the web processes' pollers: ``schema_name`` logged events. Called after the
    commit, outside any transaction: a NOTIFY inside one would take PostgreSQL's
    cluster-wide notification lock at commit (serialising every event-writing commit)
    and could fail the commit with the change in it if the notification queue were
    full. Missed, the interval's read still finds the events."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, schema_name])
    except Exception:
        logger.warning("realtime: NOTIFY failed schema=%s", schema_name, exc_info=True)


def heard(group: str, message: dict) -> None:
    """An event message the layer brought to this process's hub (sweeping): the sweep
    need not hand it over again."""
    if not sweeping() or message.get("type") != MESSAGE_TYPE:
        return
    log = _logs.get(schema_of(group))
    event_id = message.get("id")
    if log is not None and isinstance(event_id, int):
        with _local_lock:
            log.local.add(event_id)


def delivering_here(schema_name: str, ids: list[int]) -> None:
    """Events this process hands to its own (in-memory) layer: not to be polled again."""
    log = _logs.get(schema_name)
    if log is not None:
        with _local_lock:
            log.local.update(ids)


def _newest_id(schema_name: str) -> int:
    with tenant_schema(schema_name):
        return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _event_rows(
    schema_name: str, condition: str, params: list
) -> list[tuple[int, list[str], dict]]:
    """(id, audiences, payload) of the tenant's logged events that meet ``condition``."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with tenant_schema(schema_name), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, audiences, payload FROM {table} WHERE {condition}", params)
        # Django's psycopg setup hands jsonb over as text (its JSONField decodes it).
        return [
            (event_id, audiences, json.loads(payload) if isinstance(payload, str) else payload)
            for event_id, audiences, payload in cursor.fetchall()
        ]


def _events_after(
    schema_name: str, high: int, gaps: list[int]
) -> list[tuple[int, list[str], dict]]:
    # The gaps go as one array parameter: as an IN list, thousands of them cost the ORM
    # and psycopg a placeholder each, in every read (py-spy under load).
    return _event_rows(
        schema_name, "id > %s OR id = ANY(%s) ORDER BY id LIMIT %s", [high, gaps, BATCH]
    )


async def poll_once(schemas: set[str] | None = None) -> int:
    """Deliver every logged event this process has not seen yet; returns a count. A
    tenant whose read came back full (BATCH rows) is woken again for the rest.

    ``schemas`` given (the tenants a notification named), gaps older than GAP_FRESH_S
    are looked for once every GAP_OLD_EVERY_S; the full read (every watched tenant) looks
    for all of them."""
    delivered = 0
    for schema_name in list(_sockets if schemas is None else schemas):
        log = _logs.get(schema_name)
        if log is None:
            continue
        try:  # one tenant's failure (a dropped schema, a timeout) must not stall the rest
            delivered += await _poll_schema(schema_name, log, every_gap=schemas is None)
        except Exception:
            logger.warning("realtime poll failed schema=%s", schema_name, exc_info=True)
    return delivered


async def _poll_schema(schema_name: str, log: _Log, *, every_gap: bool = True) -> int:
    layer = get_channel_layer()
    delivered = 0
    now = time.monotonic()
    _expire_gaps(log, now)
    if every_gap or now - log.old_gaps_read >= GAP_OLD_EVERY_S:
        wanted = sorted(log.gaps)
        log.old_gaps_read = now
    else:
        wanted = sorted(g for g, since in log.gaps.items() if now - since <= GAP_FRESH_S)
    rows = await db_call(_events_after)(schema_name, log.high, wanted)
    if len(rows) >= BATCH:
        _woken.add(schema_name)
        if _wake is not None:
            _wake.set()
    for event_id, audiences, payload in rows:
        if not _advance(log, event_id, now):
            continue
        message = {"type": MESSAGE_TYPE, "id": event_id, "event": payload}
        for audience in audiences:
            await layer.group_send(group_name(schema_name=schema_name, audience=audience), message)
        delivered += 1
    _forget(log)
    return delivered


def _expire_gaps(log: _Log, now: float) -> None:
    for gap, since in list(log.gaps.items()):
        if now - since > GAP_WAIT_S:  # rolled back, or committed too late to be live
            del log.gaps[gap]


def _advance(log: _Log, event_id: int, now: float) -> bool:
    """The log has read ``event_id``: True if this process still has to deliver it."""
    if event_id > log.high:
        # A jump of millions of ids (a rolled-back bulk insert) must not build
        # millions of gaps: only the last MAX_GAPS can still be waited for.
        for skipped in range(max(log.high + 1, event_id - MAX_GAPS), event_id):
            log.gaps[skipped] = now
        log.high = event_id
    else:
        log.gaps.pop(event_id, None)
    if event_id in log.local:
        with _local_lock:
            log.local.discard(event_id)
        return False
    return True


def _forget(log: _Log) -> None:
    if len(log.gaps) > MAX_GAPS:
        for gap in sorted(log.gaps)[: len(log.gaps) - MAX_GAPS]:
            del log.gaps[gap]
    # Ids of rolled-back transactions never turn up: forget what the log has passed.
    with _local_lock:
        log.local = {i for i in log.local if i > log.high or i in log.gaps}


def _settled_ids_after(schema_name: str, high: int, gaps: list[int], settle_s: float) -> list[int]:
    table = connection.ops.quote_name(Event._meta.db_table)
    with tenant_schema(schema_name), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE (id > %s OR id = ANY(%s))"
            " AND created_at < now() - make_interval(secs => %s) ORDER BY id LIMIT %s",
            [high, gaps, settle_s, BATCH],
        )
        return [row[0] for row in cursor.fetchall()]


def _events_by_id(schema_name: str, ids: list[int]) -> list[tuple[int, list[str], dict]]:
    return _event_rows(schema_name, "id = ANY(%s) ORDER BY id", [ids])


async def sweep_once() -> int:
    """Sweeping: hand the local groups every settled event the layer did not bring;
    returns a count."""
    delivered = 0
    for schema_name in list(_sockets):
        log = _logs.get(schema_name)
        if log is None:
            continue
        try:  # one tenant's failure must not stall the rest
            delivered += await _sweep_schema(schema_name, log)
        except Exception:
            logger.warning("realtime sweep failed schema=%s", schema_name, exc_info=True)
    return delivered


async def _sweep_schema(schema_name: str, log: _Log) -> int:
    delivered = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        now = time.monotonic()
        _expire_gaps(log, now)
        ids = await db_call(_settled_ids_after)(
            schema_name, log.high, sorted(log.gaps), SWEEP_SETTLE_S
        )
        missed = [event_id for event_id in ids if _advance(log, event_id, now)]
        _forget(log)
        if missed:
            local = hub()
            for event_id, audiences, payload in await db_call(_events_by_id)(schema_name, missed):
                message = {"type": MESSAGE_TYPE, "id": event_id, "event": payload}
                for audience in audiences:
                    local.inject(group_name(schema_name=schema_name, audience=audience), message)
                delivered += 1
        if len(ids) < BATCH:
            break
    return delivered


async def _sweep_run() -> None:
    while _sockets and sweeping():
        await asyncio.sleep(sweep_interval())
        try:
            await sweep_once()
        except Exception:  # retried at the next sweep
            logger.warning("realtime sweep failed", exc_info=True)


# Connection settings from DATABASE_URL's query string that the listener keeps too.
_LISTENER_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout")


def _listener_params() -> dict:
    db = settings.DATABASES["default"]
    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        **{k: v for k, v in (db.get("OPTIONS") or {}).items() if k in _LISTENER_OPTIONS},
        # A connection that silently died (a failover, a NAT timeout) is noticed.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "application_name": "helpdesk realtime listener",
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


async def _listen(wake: asyncio.Event) -> None:
    """LISTEN on a connection of this task's own; each notification names a schema."""
    import psycopg

    failing = False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                autocommit=True, **_listener_params()
            ) as listener:
                await listener.execute(f"LISTEN {CHANNEL}")
                if failing:
                    logger.warning("realtime: LISTEN connection back")
                    failing = False
                _woken.update(_sockets)  # whatever was logged while not listening
                wake.set()
                async for notification in listener.notifies():
                    _woken.add(notification.payload)
                    wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database restarted: the interval's reads go on meanwhile
            if not failing:
                logger.warning("realtime: LISTEN connection lost", exc_info=True)
                failing = True
            await asyncio.sleep(max(interval(), 1.0))


async def _run() -> None:
    wake = _wake
    assert wake is not None
    loop = asyncio.get_running_loop()
    listener = loop.create_task(_listen(wake))
    last_full = loop.time()
    try:
        while _sockets and enabled():
            try:
                await asyncio.wait_for(
                    wake.wait(), timeout=max(0.0, last_full + interval() - loop.time())
                )
            except TimeoutError:
                pass
            wake.clear()
            schemas: set[str] | None = set(_woken)
            _woken.clear()
            # Every watched tenant once an interval, however busy another one keeps the
            # notifications: what a tenant was not notified of still arrives.
            if loop.time() - last_full >= interval():
                schemas, last_full = None, loop.time()
            try:
                await poll_once(schemas)
            except Exception:  # a failed poll is retried at the next wake or interval
                logger.warning("realtime poll failed", exc_info=True)
            # Notifications that arrive during a read and this pause are served by the
            # next read together. A read is one indexed query (the gaps one array
            # parameter): the pause is short, as every 10 ms here was 10 ms more before
            # an event reached the hub (bench/realtime.py, in-memory).
            await asyncio.sleep(COALESCE_S)
    finally:
        listener.cancel()
