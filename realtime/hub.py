"""Local fan-out: one channel-layer subscription per group per process, not per socket.

With each socket in the layer's groups itself, an event to a department of 1,000 agents
was 1,000 layer deliveries inside one process: a deep copy of the message, a queue put
and a consumer dispatch for every socket (bench/realtime.py: p99 near one second for a
single event). Here each group a process has sockets for is joined once, by a channel
of the hub's own; one task per group receives its messages and hands each to the
group's local consumers directly. The layer still decides which processes hear a group
(Redis pub/sub across nodes, or the in-process layer), and the group names still carry
the schema, so tenancy is exactly what the layer's groups give.

Under load a group's messages are coalesced: a delivery starts no sooner than
TICK_SECONDS (or SEND_SPACING times as long as the last one's sends took, at most
MAX_SPACING_SECONDS) after the last one started, and goes out with everything that
arrived meanwhile, as one frame per socket (``{"type": "batch", "frames": [...]}``,
encoded once for all the group's sockets). A lone event still leaves at once. At 200
events/s to 1,000 sockets this is some 25 frames a second per socket instead of 200:
the frames, not the events, are what cost (a write and a websocket frame per socket).

A hub belongs to one event loop (daphne runs one; tests run one per test).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from realtime.publish import MESSAGE_TYPE

logger = logging.getLogger(__name__)


TICK_SECONDS = 0.02
# ... and at least this many times as long as its last delivery's sends took. A send
# costs daphne some 20-35 us of CPU (the consumer's checks, daphne's reply path, the
# write; bench/realtime.py), so a group of 1,000 sockets takes 20-35 ms a delivery: measured,
# not assumed, the spacing follows the machine's speed, and a busy group's sends take at
# most about half the process, however fast or slow it runs. Its readers get fewer,
# fuller frames; a lone event still leaves at once.
SEND_SPACING = 2.0
# ... but never more than this: a delivery costs more the more events it carries, so an
# uncapped spacing could feed on itself under a burst (or a GC pause) and leave the loop
# idle while the backlog grows. Past it, deliveries simply follow each other.
MAX_SPACING_SECONDS = 0.1
# A delivery to 1,000 sockets holds the loop for 20-40 ms. Between slices of this many
# sockets it lets the loop run, so the event-log poller and the channel layer go on
# reading meanwhile (what they bring waits for the group's next delivery either way).
YIELD_EVERY = 100


class Member(Protocol):
    async def hub_dispatch(self, message: dict[str, Any]) -> None: ...

    # Optional: events of one tick at once, with their frame already encoded.
    # async def hub_dispatch_events(self, messages: list[dict], text: str) -> None: ...


def event_text(message: dict[str, Any]) -> str:
    """The frame of one event message (publishers encode it once; the poller does not)."""
    text = message.get("text")
    if text is None:
        text = json.dumps({"type": "event", "id": message["id"], "event": message["event"]})
    return text


def batch_text(texts: list[str]) -> str:
    """One frame carrying several event frames, joined without decoding them again."""
    if len(texts) == 1:
        return texts[0]
    return '{"type": "batch", "frames": [' + ", ".join(texts) + "]}"


class EventBatch(list):
    """One tick's event messages of a group, with what every socket checks worked out
    once for all of them: their ids (``ids``, in order; ``distinct`` when no id repeats)
    and whether one of them revokes access (``revokes``)."""

    __slots__ = ("ids", "distinct", "revokes")

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        super().__init__(messages)
        self.ids = tuple(m["id"] for m in messages)
        self.distinct = len(set(self.ids)) == len(self.ids)
        self.revokes = any(m["event"].get("type") == "access.revoked" for m in messages)


class _Group:
    __slots__ = ("channel", "members", "task", "buffer", "flusher", "next_at")

    def __init__(self) -> None:
        self.channel: str | None = None  # set once the layer has given one
        self.members: set[Member] = set()
        self.task: asyncio.Task | None = None
        self.buffer: list[dict[str, Any]] = []
        self.flusher: asyncio.Task | None = None
        self.next_at = float("-inf")  # the group's next delivery starts no sooner


class Hub:
    def __init__(self, layer, *, tick: float = TICK_SECONDS) -> None:
        self.layer = layer
        self.tick = tick
        self.groups: dict[str, _Group] = {}

    async def join(self, name: str, member: Member) -> None:
        group = self.groups.get(name)
        if group is not None:
            group.members.add(member)
            return
        # Registered before the first await: a thousand sockets joining the same group
        # at once (a reconnect storm) must share this one, not race to make their own.
        group = self.groups[name] = _Group()
        group.members.add(member)
        channel = await self.layer.new_channel("hub.")
        await self.layer.group_add(name, channel)
        if self.groups.get(name) is not group:  # everyone left while we subscribed
            await self.layer.group_discard(name, channel)
            return
        group.channel = channel
        group.task = asyncio.get_running_loop().create_task(self._pump(name, group))

    async def leave(self, name: str, member: Member) -> None:
        group = self.groups.get(name)
        if group is None:
            return
        group.members.discard(member)
        if group.members:
            return
        del self.groups[name]
        for task in (group.task, group.flusher):
            if task is not None:
                task.cancel()
        if group.channel is not None:  # else join() is still subscribing and undoes it
            await self.layer.group_discard(name, group.channel)

    async def _pump(self, name: str, group: _Group) -> None:
        """Receives the group's messages. It is never cancelled but by leave(): a
        cancelled receive unsubscribes the channel on the Redis pub/sub layer."""
        from realtime import poller  # it delivers through the hub too

        assert group.channel is not None
        while True:
            try:
                message = await self.layer.receive(group.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer lost its server: keep the group, try again
                logger.warning("live group %s: receive failed", name, exc_info=True)
                await asyncio.sleep(1.0)
                continue
            poller.heard(name, message)
            self._take(name, group, message)

    def inject(self, name: str, message: dict[str, Any]) -> bool:
        """A message for the local members of group ``name`` that did not come through
        the layer (the event-log sweep's); False if no socket here is in that group."""
        group = self.groups.get(name)
        if group is None:
            return False
        self._take(name, group, message)
        return True

    def _take(self, name: str, group: _Group, message: dict[str, Any]) -> None:
        group.buffer.append(message)
        if group.flusher is None:
            group.flusher = asyncio.get_running_loop().create_task(self._flush(name, group))

    async def _flush(self, name: str, group: _Group) -> None:
        loop = asyncio.get_running_loop()
        try:
            while group.buffer:
                wait = group.next_at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                batch, group.buffer = group.buffer, []
                started = loop.time()
                try:
                    took = await self._deliver(name, group, batch)
                except Exception:  # a bad message must not stop the group's deliveries
                    logger.warning("live group %s: a delivery failed", name, exc_info=True)
                    took = loop.time() - started
                spacing = max(self.tick, min(took * SEND_SPACING, MAX_SPACING_SECONDS))
                group.next_at = started + spacing
        finally:
            group.flusher = None

    async def _deliver(self, name: str, group: _Group, batch: list[dict[str, Any]]) -> float:
        """Send the batch to every member; returns how long the sends took, not counting
        what the loop did between slices."""
        events = [m for m in batch if m.get("type") == MESSAGE_TYPE]
        others = [m for m in batch if m.get("type") != MESSAGE_TYPE]
        text: str | None = None
        try:
            if events:
                framed = batch_text([event_text(m) for m in events])
                events, text = EventBatch(events), framed
        except (KeyError, TypeError, ValueError, AttributeError):  # not ours to frame: one by one
            logger.warning("live group %s: unframeable event message", name, exc_info=True)
        loop = asyncio.get_running_loop()
        busy = 0.0
        members = tuple(group.members)
        for start in range(0, len(members), YIELD_EVERY):
            if start:
                await asyncio.sleep(0)  # the loop's other work, between slices of sockets
            began = loop.time()
            for member in members[start : start + YIELD_EVERY]:
                if member not in group.members:
                    continue  # left while the loop ran between slices (access revoked)
                try:
                    dispatch_events = getattr(member, "hub_dispatch_events", None)
                    if text is not None and dispatch_events is not None:
                        await dispatch_events(events, text)
                    else:
                        for message in events:
                            await member.hub_dispatch(message)
                    for message in others:
                        await member.hub_dispatch(message)
                except Exception:  # one broken socket must not starve the group
                    logger.warning("live delivery to a socket of %s failed", name, exc_info=True)
            busy += loop.time() - began
        return busy


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub, on the current channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    current = _hubs.get(loop)
    if current is None or current.layer is not layer:
        tick = getattr(settings, "REALTIME_TICK_SECONDS", TICK_SECONDS)
        current = _hubs[loop] = Hub(layer, tick=tick)
    return current
