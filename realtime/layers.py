"""The channel layer of the single-process default."""

from __future__ import annotations

import logging
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

logger = logging.getLogger(__name__)


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """Channels' in-memory layer, sweeping expired messages once a second rather than on
    every receive.

    The stock layer walks every channel and every group member each time anything
    receives. Each socket's consumer holds a channel, so with 1,000 sockets each event
    cost thousands of steps per group it went to: 13% of daphne's CPU in
    bench/realtime.py. Messages still expire; they may sit up to a second past
    ``expiry`` before they go.

    Group memberships do not expire: the stock layer drops a member a day after it
    joined (``group_expiry``), meant for consumers that re-join; a process's hub joins
    each group once, for as long as it has sockets in it, and leaves it explicitly, so
    a department busy for a day would have gone silent.

    A group send puts the message on each member's queue at once and returns without
    yielding to the event loop. The stock layer starts a task per member and waits for
    them: the poller's read of 20 events, sent one after another, let the hub deliver
    each event on its own, a tick apart (bench/realtime.py: the last second of the load
    arrived 1.4-2 s late on every socket).
    """

    SWEEP_INTERVAL_S = 1.0

    def __init__(self, *args, **kwargs) -> None:
        kwargs["group_expiry"] = 2**40  # seconds: never
        super().__init__(*args, **kwargs)
        self._swept_at = 0.0
        self._full_warned: dict[str, float] = {}

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_INTERVAL_S:
            return
        self._swept_at = now
        super()._clean_expired()

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                await self.send(channel, message)  # put_nowait: it never suspends
            except ChannelFull:  # dropped, as the stock layer does, but not silently
                self._warn_full(channel, group)

    def _warn_full(self, channel: str, group: str) -> None:
        """Once a second per channel: a channel nobody reads fills up for good."""
        now = time.monotonic()
        if now - self._full_warned.get(channel, float("-inf")) < 1.0:
            return
        self._full_warned[channel] = now
        if len(self._full_warned) > 1000:
            self._full_warned = {channel: now}
        logger.warning("live: channel %s is full, messages to %s dropped", channel, group)
