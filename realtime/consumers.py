"""Transport for live events: a websocket consumer that joins groups, replays what a
reconnecting client missed, then forwards live events. What a user may hear (the
audiences) is decided by the app's subclass, never by the client."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.utils import timezone

from realtime import poller
from realtime.groups import group_name
from realtime.hub import EventBatch, batch_text, event_text, hub
from realtime.models import Event
from realtime.publish import MESSAGE_TYPE
from tenants.channels_middleware import db_call
from tenants.context import tenant_schema

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_REVOKED = 4410
REPLAY_LIMIT = 500
# Events are numbered when written, but commit in any order: a slow transaction can
# commit id 104 after id 105 was delivered. Replay therefore re-sends the few seconds
# before the client's last id too; clients drop ids they have already applied.
REPLAY_OVERLAP_SECONDS = 10
# What one connection may ask: a page watches one ticket; a client asking for more is
# holding groups (and the check of every ticket it names) for nothing.
MAX_WATCHES = 20
# A flooding client is told so once a second, not once per frame it sent.
RATE_LIMITED_NOTICE_SECONDS = 1.0


class RecentIds:
    """The last ``size`` event ids a socket was sent, with constant-time lookups (a deque
    alone is scanned per lookup: at 1,000 sockets and 200 events/s that was over a CPU
    second per second)."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self.order: deque[int] = deque()
        self.members: set[int] = set()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.members

    def add(self, event_id: int) -> None:
        if event_id in self.members:
            return
        self.order.append(event_id)
        self.members.add(event_id)
        self._trim()

    def isdisjoint(self, event_ids: tuple[int, ...]) -> bool:
        return self.members.isdisjoint(event_ids)

    def extend_new(self, event_ids: tuple[int, ...]) -> None:
        """``add`` for ids known to be new and distinct, in a few C-level steps (a tick
        of ten events to 1,000 sockets was 9 % of daphne's CPU in ``add`` and ``in``)."""
        self.order.extend(event_ids)
        self.members.update(event_ids)
        self._trim()

    def _trim(self) -> None:
        while len(self.order) > self.size:
            self.members.discard(self.order.popleft())


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.capacity = rate, burst
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def replay_events(
    schema_name: str, audiences: list[str], last_id: int
) -> list[dict[str, Any]] | None:
    with tenant_schema(schema_name):
        anchor = Event.objects.filter(pk=last_id).values_list("created_at", flat=True).first()
        recent = Event.objects.filter(audiences__overlap=audiences)
        if anchor is not None:
            since = anchor - timezone.timedelta(seconds=REPLAY_OVERLAP_SECONDS)
            recent = recent.filter(created_at__gte=since)
        else:
            recent = recent.filter(pk__gt=last_id)
        rows = list(recent.order_by("pk").values("pk", "payload")[: REPLAY_LIMIT + 1])
        if len(rows) > REPLAY_LIMIT:
            return None  # too much missed: the client reloads the page instead
        return [{"type": "event", "id": row["pk"], "event": row["payload"]} for row in rows]


class Watch:
    """A socket's membership of one watched ticket's group. The hub holds this, not the
    socket, so a delivery the hub had already begun when the socket stopped watching (it
    iterates over the members it had) is dropped rather than sent."""

    __slots__ = ("consumer", "audience", "reference")

    def __init__(self, consumer: EventStreamConsumer, audience: str, reference: str) -> None:
        self.consumer, self.audience, self.reference = consumer, audience, reference

    async def hub_dispatch(self, message: dict[str, Any]) -> None:
        if self.consumer.watches.get(self.audience) is self:
            await self.consumer.hub_dispatch(message)

    async def hub_dispatch_events(self, messages: list[dict[str, Any]], text: str) -> None:
        if self.consumer.watches.get(self.audience) is self:
            await self.consumer.watched_events(self, messages, text)


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses implement ``audiences_for_user`` and ``watch_audience`` (sync, DB), and
    may say which events can take a watched ticket out of the user's reach
    (``event_may_end_watch``)."""

    frame_rate = 10.0
    frame_burst = 30

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.watching: dict[str, str] = {}  # the client's reference -> its audience
        self.watches: dict[str, Watch] = {}  # a watched audience -> its group membership
        self.greeted = False
        self.rate_limited_told = float("-inf")

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.schema_name: str = self.scope["schema_name"]
        audiences = await db_call(self._audiences)(user)
        if audiences is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.audiences: set[str] = set(audiences)
        self.bucket = TokenBucket(self.frame_rate, self.frame_burst)
        # An event addressed to two of this socket's audiences arrives twice; send it once.
        self.sent_ids = RecentIds()
        for audience in self.audiences:
            await hub().join(self._group(audience), self)
        await poller.watch(self.schema_name)
        self.polled = True
        await self.accept()

    def _group(self, audience: str) -> str:
        return group_name(schema_name=self.schema_name, audience=audience)

    def _audiences(self, user) -> list[str] | None:
        with tenant_schema(self.scope["schema_name"]):
            return self.audiences_for_user(user)

    def audiences_for_user(self, user) -> list[str] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def watch_audience(self, user, ticket_reference: str) -> str | None:  # pragma: no cover
        raise NotImplementedError

    def event_may_end_watch(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` (of a watched ticket) may have taken it out of the user's
        reach; if so the socket asks again before sending it (``watched_events``)."""
        return False

    def current_user(self):
        """The socket's user as stored now (None once deactivated or deleted): the role
        and the account may have changed since the handshake. Inside the tenant's schema."""
        return (
            get_user_model()
            ._default_manager.filter(pk=self.scope["user"].pk, is_active=True)
            .first()
        )

    async def disconnect(self, code: int) -> None:
        if getattr(self, "polled", False):
            poller.unwatch(self.schema_name)
            self.polled = False
        watches, self.watches, self.watching = self.watches, {}, {}
        for audience in getattr(self, "audiences", ()):
            await hub().leave(self._group(audience), watches.get(audience, self))

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if not self.bucket.take():
            now = time.monotonic()
            if now - self.rate_limited_told >= RATE_LIMITED_NOTICE_SECONDS:
                self.rate_limited_told = now
                await self.send_json({"type": "error", "error": "rate_limited"})
            return
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "error": "malformed_frame"})

    async def receive_json(self, content: Any, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        handler = self.frame_handlers().get(content["type"])
        if handler is None:
            await self.send_json({"type": "error", "error": "unknown_type"})
            return
        try:
            await handler(content)
        except (TypeError, ValueError, KeyError, AttributeError):
            # A field of an unexpected type that a handler missed: the client's mistake,
            # answered like any malformed frame. Escaping, it would end the connection
            # without disconnect() (its groups and poller count never released).
            logger.info("malformed %s frame", content["type"], exc_info=True)
            await self.send_json({"type": "error", "error": "malformed_frame"})

    def frame_handlers(self) -> dict[str, Any]:
        """What a client may send, by frame type (subclasses add their own)."""
        return {"hello": self.on_hello, "watch": self.on_watch, "presence": self.on_presence}

    async def on_hello(self, content: dict[str, Any]) -> None:
        # Once per connection: a replay reads up to REPLAY_LIMIT rows, and a reconnecting
        # client opens a new connection anyway.
        if self.greeted:
            await self.send_json({"type": "error", "error": "duplicate_hello"})
            return
        self.greeted = True
        user = self.scope["user"]
        await self.send_json(
            {
                "type": "hello",
                "version": 1,
                "tenant": self.schema_name,
                "user": {"id": user.pk, "email": user.email, "name": str(user)},
            }
        )
        last_id = content.get("last_id")
        # 0 (or nothing) means a fresh page that already shows the present: no replay.
        if isinstance(last_id, int) and not isinstance(last_id, bool) and last_id > 0:
            await self.replay(last_id)
        else:
            await self.send_json({"type": "replayed", "count": 0})

    async def replay(self, last_id: int) -> None:
        events = await db_call(replay_events)(self.schema_name, sorted(self.audiences), last_id)
        if events is None:
            await self.send_json({"type": "resync"})
            return
        for event in events:
            await self._send_event(event["id"], event["event"])
        await self.send_json({"type": "replayed", "count": len(events)})

    async def on_watch(self, content: dict[str, Any]) -> None:
        reference = content.get("ticket")
        if not isinstance(reference, str) or len(reference) > 20:
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        if reference not in self.watching and len(self.watching) >= MAX_WATCHES:
            await self.send_json({"type": "error", "error": "too_many_watches"})
            return
        audience = await db_call(self._watch)(reference)
        if audience is None:
            await self.send_json({"type": "error", "error": "not_found"})
            return
        if audience not in self.audiences:
            watch = Watch(self, audience, reference)
            self.audiences.add(audience)
            self.watches = {**self.watches, audience: watch}
            await hub().join(self._group(audience), watch)
        self.watching = {**self.watching, reference: audience}
        await self.send_json({"type": "watching", "ticket": reference})

    async def watched_events(self, watch: Watch, messages: list[dict[str, Any]], text: str) -> None:
        """A tick of a watched ticket's group. When one of its events may have moved the
        ticket out of the user's reach (another department, another assignee), access is
        checked again before anything from that event on is sent; if it is gone the
        socket stops watching and says so. Only such ticks cost a query; the rest go the
        usual way."""
        if not isinstance(messages, EventBatch):
            messages = EventBatch(messages)
        if not messages.revokes:  # a revocation closes the socket anyway
            cut = next(
                (i for i, m in enumerate(messages) if self.event_may_end_watch(m["event"])), None
            )
            if cut is not None:
                allowed = await db_call(self._watch)(watch.reference) == watch.audience
                if self.watches.get(watch.audience) is not watch:
                    return  # unwatched (or disconnected) meanwhile
                if not allowed:
                    if cut:
                        before = EventBatch(messages[:cut])
                        await self.hub_dispatch_events(
                            before, batch_text([event_text(m) for m in before])
                        )
                    await self.unwatch(watch)
                    return
        await self.hub_dispatch_events(messages, text)

    async def unwatch(self, watch: Watch) -> None:
        if self.watches.get(watch.audience) is not watch:
            return
        self.watches = {a: w for a, w in self.watches.items() if a != watch.audience}
        references = [r for r, a in self.watching.items() if a == watch.audience]
        self.watching = {r: a for r, a in self.watching.items() if a != watch.audience}
        self.audiences.discard(watch.audience)
        await hub().leave(self._group(watch.audience), watch)
        for reference in references:
            await self.send_json({"type": "unwatched", "ticket": reference})

    # Presence ("X is viewing", "X is replying") is ephemeral: it goes straight to the
    # ticket's watchers through the layer, is never logged and never replayed.
    presence_states = ("viewing", "replying", "left")
    presence_ttl_seconds = 30

    async def on_presence(self, content: dict[str, Any]) -> None:
        reference, state = content.get("ticket"), content.get("state")
        audience = self.watching.get(reference) if isinstance(reference, str) else None
        if audience is None or state not in self.presence_states:
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        user = self.scope["user"]
        try:
            await self.channel_layer.group_send(
                self._group(audience),
                {
                    "type": "realtime.presence",
                    "sender": self.channel_name,
                    "presence": {
                        "ticket": reference,
                        "user_id": user.pk,
                        "name": str(user),
                        "state": state,
                        "expires_in": self.presence_ttl_seconds,
                    },
                },
            )
        except Exception:  # the layer is down (Redis): presence is lost, the socket is not
            logger.warning("presence not sent for %s", reference, exc_info=True)
            await self.send_json({"type": "error", "error": "unavailable"})

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        if message["sender"] != self.channel_name:
            await self.send_json({"type": "presence", **message["presence"]})

    def _watch(self, reference: str) -> str | None:
        with tenant_schema(self.schema_name):
            user = self.current_user()
            return None if user is None else self.watch_audience(user, reference)

    async def hub_dispatch(self, message: dict[str, Any]) -> None:
        """A message of one of this socket's groups, handed over by the process's hub."""
        if message.get("type") == "realtime.presence":
            await self.realtime_presence(message)
        elif message.get("type") == MESSAGE_TYPE:
            await self.realtime_event(message)

    async def hub_dispatch_events(self, messages: list[dict[str, Any]], text: str) -> None:
        """The events of one tick of a group, ``text`` their frame for every socket. This
        socket sends that frame as is unless it has already sent some of them (an event
        addressed to two of its groups). The hub's ``EventBatch`` carries the ids and the
        revocation check worked out once for the whole group."""
        if not isinstance(messages, EventBatch):
            messages = EventBatch(messages)
        if messages.revokes:
            await self.close(code=CLOSE_REVOKED)
            return
        if messages.distinct and self.sent_ids.isdisjoint(messages.ids):
            self.sent_ids.extend_new(messages.ids)  # the usual case: all new, sent as framed
            await self.base_send({"type": "websocket.send", "text": text})
            return
        fresh, ids = [], set()
        for message in messages:  # the same event twice in one tick (live and polled)
            if message["id"] not in self.sent_ids and message["id"] not in ids:
                ids.add(message["id"])
                fresh.append(message)
        if not fresh:
            return
        if len(fresh) < len(messages):
            text = batch_text([event_text(m) for m in fresh])
        for message in fresh:
            self.sent_ids.add(message["id"])
        await self.base_send({"type": "websocket.send", "text": text})

    async def realtime_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event.get("type") == "access.revoked":
            await self.close(code=CLOSE_REVOKED)
            return
        await self._send_event(message["id"], event, text=message.get("text"))

    async def _send_event(
        self, event_id: int, event: dict[str, Any], *, text: str | None = None
    ) -> None:
        if event_id in self.sent_ids:
            return
        self.sent_ids.add(event_id)
        if text is not None:
            await self.send(text_data=text)
        else:
            await self.send_json({"type": "event", "id": event_id, "event": event})
