"""Local fan-out: one channel-layer subscription per group per process, not per socket.

With each socket in the layer's groups itself, an event to a department of 1,000 agents
was 1,000 layer deliveries inside one process: a deep copy of the message, a queue put
and a consumer dispatch for every socket (bench/realtime.py: p99 near one second for a
single event). Here each group a process has sockets for is joined once, by a channel
of the hub's own; one task per group receives its messages and hands each to the
group's local consumers directly. The layer still decides which processes hear a group
(Redis pub/sub across nodes, or the in-process layer), and the group names still carry
the schema, so tenancy is exactly what the layer's groups give.

A hub belongs to one event loop (daphne runs one; tests run one per test).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class Member(Protocol):
    async def hub_dispatch(self, message: dict[str, Any]) -> None: ...


class _Group:
    __slots__ = ("channel", "members", "task")

    def __init__(self) -> None:
        self.channel: str | None = None  # set once the layer has given one
        self.members: set[Member] = set()
        self.task: asyncio.Task | None = None


class Hub:
    def __init__(self, layer) -> None:
        self.layer = layer
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
        if group.task is not None:
            group.task.cancel()
        if group.channel is not None:  # else join() is still subscribing and undoes it
            await self.layer.group_discard(name, group.channel)

    async def _pump(self, name: str, group: _Group) -> None:
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
            for member in tuple(group.members):
                try:
                    await member.hub_dispatch(message)
                except Exception:  # one broken socket must not starve the group
                    logger.warning("live delivery to a socket of %s failed", name, exc_info=True)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub, on the current channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    current = _hubs.get(loop)
    if current is None or current.layer is not layer:
        current = _hubs[loop] = Hub(layer)
    return current
