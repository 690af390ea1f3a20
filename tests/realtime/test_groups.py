import pytest

from realtime.groups import group_name


def test_group_names_are_schema_scoped_and_channels_safe():
    assert group_name(schema_name="t_alpha", audience="desk") == "t.t_alpha.desk"
    assert group_name(schema_name="t_alpha", audience="ticket:42") == "t.t_alpha.ticket_42"
    with pytest.raises(ValueError):
        group_name(schema_name="t_alpha", audience="x" * 100)


def test_prune_deletes_old_events_in_every_tenant(alpha, bravo):
    import datetime as dt
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from realtime.models import Event
    from tenants.context import tenant_schema

    for fixture in (alpha, bravo):
        with tenant_schema(fixture.schema_name):
            old = Event.objects.create(audiences=["managers"], payload={"type": "x"})
            Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
            Event.objects.create(audiences=["managers"], payload={"type": "fresh"})

    out = StringIO()
    call_command("realtime_prune", "--days", "7", stdout=out)

    for fixture in (alpha, bravo):
        with tenant_schema(fixture.schema_name):
            assert not Event.objects.filter(payload__type="x").exists()
            assert Event.objects.filter(payload__type="fresh").exists()


@pytest.mark.asyncio
async def test_a_hub_group_survives_a_failing_receive_and_keeps_delivering():
    import asyncio

    from realtime.hub import Hub

    class FlakyLayer:
        def __init__(self):
            self.queue: asyncio.Queue = asyncio.Queue()
            self.failures = 1

        async def new_channel(self, prefix=""):
            return prefix + "x"

        async def group_add(self, group, channel):
            pass

        async def group_discard(self, group, channel):
            pass

        async def receive(self, channel):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("redis went away")
            return await self.queue.get()

    class Member:
        def __init__(self):
            self.got = asyncio.Queue()

        async def hub_dispatch(self, message):
            await self.got.put(message)

    layer, member = FlakyLayer(), Member()
    hub = Hub(layer)
    await hub.join("t.alpha.dept.1", member)
    await layer.queue.put({"type": "realtime.event", "id": 7})

    assert await asyncio.wait_for(member.got.get(), timeout=3) == {
        "type": "realtime.event",
        "id": 7,
    }
    await hub.leave("t.alpha.dept.1", member)
    assert hub.groups == {}


@pytest.mark.asyncio
async def test_sockets_joining_a_group_at_once_share_one_subscription_and_all_hear_it():
    import asyncio

    from realtime.hub import Hub

    class SlowLayer:  # like Redis: making a channel and subscribing take a round trip
        def __init__(self):
            self.queues: dict[str, asyncio.Queue] = {}
            self.groups: dict[str, set[str]] = {}

        async def new_channel(self, prefix=""):
            await asyncio.sleep(0.01)
            name = f"{prefix}{len(self.queues)}"
            self.queues[name] = asyncio.Queue()
            return name

        async def group_add(self, group, channel):
            await asyncio.sleep(0.01)
            self.groups.setdefault(group, set()).add(channel)

        async def group_discard(self, group, channel):
            self.groups.get(group, set()).discard(channel)

        async def group_send(self, group, message):
            for channel in self.groups.get(group, ()):
                await self.queues[channel].put(message)

        async def receive(self, channel):
            return await self.queues[channel].get()

    class Member:
        def __init__(self):
            self.got = asyncio.Queue()

        async def hub_dispatch(self, message):
            await self.got.put(message)

    layer, members = SlowLayer(), [Member() for _ in range(50)]
    hub = Hub(layer)
    await asyncio.gather(*(hub.join("t.alpha.dept.1", m) for m in members))
    await layer.group_send("t.alpha.dept.1", {"id": 1})

    assert layer.groups["t.alpha.dept.1"] == {"hub.0"}  # one subscription for 50 sockets
    for member in members:
        assert await asyncio.wait_for(member.got.get(), timeout=3) == {"id": 1}
    for member in members:
        await hub.leave("t.alpha.dept.1", member)
    assert hub.groups == {} and layer.groups["t.alpha.dept.1"] == set()


class _QueueLayer:
    """An in-process layer with the calls the hub makes."""

    def __init__(self):
        import asyncio

        self.queues: dict[str, asyncio.Queue] = {}
        self.groups: dict[str, set[str]] = {}

    async def new_channel(self, prefix=""):
        import asyncio

        name = f"{prefix}{len(self.queues)}"
        self.queues[name] = asyncio.Queue()
        return name

    async def group_add(self, group, channel):
        self.groups.setdefault(group, set()).add(channel)

    async def group_discard(self, group, channel):
        self.groups.get(group, set()).discard(channel)

    async def group_send(self, group, message):
        for channel in self.groups.get(group, ()):
            self.queues[channel].put_nowait(message)

    async def receive(self, channel):
        return await self.queues[channel].get()


def _event(event_id: int) -> dict:
    import json

    event = {"type": "ticket.updated", "ticket": {"reference": f"T-{event_id}"}}
    return {
        "type": "realtime.event",
        "id": event_id,
        "event": event,
        "text": json.dumps({"type": "event", "id": event_id, "event": event}),
    }


@pytest.mark.asyncio
async def test_a_lone_event_leaves_at_once_and_a_busy_tick_goes_out_as_one_frame():
    import asyncio
    import json

    from realtime.hub import Hub

    class Member:
        def __init__(self):
            self.frames: list[tuple[list[int], str]] = []

        async def hub_dispatch(self, message):  # presence and the like
            raise AssertionError("events come through hub_dispatch_events")

        async def hub_dispatch_events(self, messages, text):
            self.frames.append(([m["id"] for m in messages], text))

    layer, members = _QueueLayer(), [Member(), Member()]
    hub = Hub(layer, tick=0.05)
    for member in members:
        await hub.join("t.alpha.desk", member)

    await layer.group_send("t.alpha.desk", _event(1))
    await asyncio.sleep(0.01)  # well inside the tick: the first event did not wait for it
    for event_id in (2, 3, 4):
        await layer.group_send("t.alpha.desk", _event(event_id))
    await asyncio.sleep(0.15)

    for member in members:
        assert [ids for ids, _ in member.frames] == [[1], [2, 3, 4]]
        single, batch = (json.loads(text) for _, text in member.frames)
        assert single == {"type": "event", "id": 1, "event": _event(1)["event"]}
        assert batch["type"] == "batch"
        assert [frame["id"] for frame in batch["frames"]] == [2, 3, 4]
    assert members[0].frames[1][1] is members[1].frames[1][1]  # encoded once for all
    for member in members:
        await hub.leave("t.alpha.desk", member)
    assert hub.groups == {}


@pytest.mark.asyncio
async def test_a_groups_deliveries_are_spaced_by_how_long_its_sends_take():
    """Each send costs the server CPU: a group whose sends take long (a big group, a
    slow machine) waits SEND_SPACING times that before its next frame (and sends fuller
    ones), so that its sends cannot take the whole process; a quick one keeps its tick."""
    import asyncio
    import time

    from realtime.hub import SEND_SPACING, Hub

    class Member:
        def __init__(self, cost: float):
            self.cost = cost
            self.at: list[float] = []
            self.ids: list[int] = []

        async def hub_dispatch_events(self, messages, text):
            self.at.append(asyncio.get_running_loop().time())
            self.ids += [m["id"] for m in messages]
            time.sleep(self.cost)  # the CPU a real send takes, holding the loop

    async def load(group: str, members: list[Member], events: int, every: float) -> None:
        for member in members:
            await hub.join(group, member)
        for event_id in range(1, events + 1):
            await layer.group_send(group, _event(event_id))
            await asyncio.sleep(every)
        await asyncio.sleep(0.4)

    layer = _QueueLayer()
    hub = Hub(layer, tick=0.01)
    quick = [Member(0.0)]
    await load("t.alpha.quick", quick, events=6, every=0.03)
    assert quick[0].ids == [1, 2, 3, 4, 5, 6] and len(quick[0].at) == 6  # each alone

    slow = [Member(0.001) for _ in range(50)]  # 50 ms a delivery: next one 100 ms on
    await load("t.alpha.slow", slow, events=15, every=0.02)
    assert all(member.ids == list(range(1, 16)) for member in slow)  # nothing lost
    starts = slow[0].at
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.05 * SEND_SPACING * 0.95
    assert 2 <= len(starts) <= 8  # fewer, fuller frames than the 15 events

    # After a quiet spell a lone event leaves at once, however slow the last delivery was.
    sent_at = asyncio.get_running_loop().time()
    await layer.group_send("t.alpha.slow", _event(16))
    await asyncio.sleep(0.01)
    assert all(member.ids[-1] == 16 for member in slow)
    assert min(member.at[-1] for member in slow) - sent_at < 0.01  # the first send at once


@pytest.mark.asyncio
async def test_a_delivery_to_a_big_group_lets_the_loop_run_between_slices_of_sockets():
    """The poller and the layer keep reading while 1,000 sockets are written to; the time
    spent elsewhere does not count as the sends' own (it would stretch the spacing)."""
    import asyncio
    import time

    from realtime.hub import YIELD_EVERY, Hub

    ticks: list[int] = []
    seen: list[int] = []

    class Member:
        async def hub_dispatch_events(self, messages, text):
            seen.append(len(ticks))

    async def elsewhere():
        while True:
            ticks.append(1)
            if len(ticks) == 2:
                time.sleep(0.05)  # other work, between two slices of the delivery
            await asyncio.sleep(0)

    hub = Hub(_QueueLayer(), tick=0.01)
    group = type("G", (), {"members": {Member() for _ in range(YIELD_EVERY * 3)}})()
    other = asyncio.get_running_loop().create_task(elsewhere())
    await asyncio.sleep(0)
    took = await hub._deliver("t.alpha.big", group, [_event(1)])
    other.cancel()

    assert len(seen) == YIELD_EVERY * 3
    assert len(set(seen)) == 3  # the other task ran twice during the delivery
    assert 0 <= took < 0.04  # its 50 ms are not the sends' own time


@pytest.mark.asyncio
async def test_a_groups_spacing_has_a_ceiling_so_a_slow_delivery_cannot_feed_on_itself():
    """A delivery of 150 ms would space the next by 300 ms; capped, a busy group's
    deliveries follow each other instead of leaving the loop idle as the backlog grows."""
    import asyncio
    import time

    from realtime.hub import MAX_SPACING_SECONDS, Hub

    class Member:
        def __init__(self):
            self.at: list[float] = []

        async def hub_dispatch_events(self, messages, text):
            self.at.append(asyncio.get_running_loop().time())
            time.sleep(0.15)

    layer = _QueueLayer()
    hub = Hub(layer, tick=0.01)
    member = Member()
    await hub.join("t.alpha.slow", member)
    await layer.group_send("t.alpha.slow", _event(1))
    await asyncio.sleep(0.01)  # the first delivery starts (and holds the loop 150 ms)
    await layer.group_send("t.alpha.slow", _event(2))
    await asyncio.sleep(0.5)

    assert len(member.at) == 2
    assert MAX_SPACING_SECONDS < 0.15
    assert member.at[1] - member.at[0] < 0.25  # uncapped: 2 x 150 ms


@pytest.mark.asyncio
async def test_a_socket_sends_an_event_it_heard_from_two_groups_once():
    import json

    from realtime.consumers import CLOSE_REVOKED, EventStreamConsumer, RecentIds
    from realtime.hub import batch_text

    sent, closed = [], []
    consumer = EventStreamConsumer()
    consumer.sent_ids = RecentIds()

    async def base_send(message):
        sent.append(message)

    async def close(code=None):
        closed.append(code)

    consumer.base_send, consumer.close = base_send, close
    first = [_event(1), _event(2)]
    await consumer.hub_dispatch_events(first, batch_text([m["text"] for m in first]))
    second = [_event(2), _event(3)]  # 2 again, through the socket's other group
    await consumer.hub_dispatch_events(second, batch_text([m["text"] for m in second]))

    twice = [_event(6), _event(6)]  # one tick: sent live, and found again by the poller
    await consumer.hub_dispatch_events(twice, batch_text([m["text"] for m in twice]))

    frames = [json.loads(m["text"]) for m in sent]
    assert [f["id"] for f in frames[0]["frames"]] == [1, 2]
    assert frames[1] == {"type": "event", "id": 3, "event": _event(3)["event"]}
    assert frames[2] == {"type": "event", "id": 6, "event": _event(6)["event"]}

    revoked = _event(4)
    revoked["event"] = {"type": "access.revoked"}
    await consumer.hub_dispatch_events([_event(5), revoked], "unused")
    assert closed == [CLOSE_REVOKED] and len(sent) == 3


@pytest.mark.asyncio
async def test_a_socket_given_the_hubs_event_batch_sends_the_shared_frame_and_still_dedupes():
    """The hub works out a tick's ids once (EventBatch); a socket with none of them sent
    yet sends the group's frame itself, and falls back to picking when it has some."""
    import json

    from realtime.consumers import CLOSE_REVOKED, EventStreamConsumer, RecentIds
    from realtime.hub import EventBatch, batch_text

    sent, closed = [], []
    consumer = EventStreamConsumer()
    consumer.sent_ids = RecentIds(size=3)

    async def base_send(message):
        sent.append(message)

    async def close(code=None):
        closed.append(code)

    consumer.base_send, consumer.close = base_send, close

    def tick(*event_ids):
        messages = [_event(i) for i in event_ids]
        return EventBatch(messages), batch_text([m["text"] for m in messages])

    first, first_text = tick(1, 2)
    await consumer.hub_dispatch_events(first, first_text)
    again, again_text = tick(2, 3)  # 2 came through the socket's other group
    await consumer.hub_dispatch_events(again, again_text)
    twice, twice_text = tick(6, 6)
    await consumer.hub_dispatch_events(twice, twice_text)

    assert sent[0]["text"] is first_text  # the shared frame, not a copy
    frames = [json.loads(m["text"]) for m in sent]
    assert frames[1] == {"type": "event", "id": 3, "event": _event(3)["event"]}
    assert frames[2] == {"type": "event", "id": 6, "event": _event(6)["event"]}
    assert list(consumer.sent_ids.order) == [2, 3, 6]  # the window still holds 3
    assert 1 not in consumer.sent_ids and 6 in consumer.sent_ids

    revoked = _event(7)
    revoked["event"] = {"type": "access.revoked"}
    batch = EventBatch([_event(8), revoked])
    assert batch.revokes and batch.ids == (8, 7)
    await consumer.hub_dispatch_events(batch, "unused")
    assert closed == [CLOSE_REVOKED] and len(sent) == 3


def test_recent_ids_keep_the_last_ones_only():
    from realtime.consumers import RecentIds

    recent = RecentIds(size=3)
    for event_id in (1, 2, 2, 3, 4):
        recent.add(event_id)

    assert 1 not in recent and all(n in recent for n in (2, 3, 4))
    assert len(recent.order) == len(recent.members) == 3


@pytest.mark.asyncio
async def test_a_socket_that_leaves_during_a_delivery_gets_nothing_more_of_it():
    """Between slices of a big delivery the loop runs: a socket whose access was revoked
    meanwhile (it left the group) is not written to from the rest of the slice list."""
    import asyncio

    from realtime.hub import YIELD_EVERY, Hub

    got: list[object] = []

    class Member:
        async def hub_dispatch_events(self, messages, text):
            got.append(self)

    members = [Member() for _ in range(YIELD_EVERY * 2)]
    group = type("G", (), {"members": set(members)})()
    leaving = [m for m in members if m not in list(group.members)[:YIELD_EVERY]]

    async def revoke():
        group.members.difference_update(leaving)

    asyncio.get_running_loop().create_task(revoke())  # runs at the delivery's first yield
    await Hub(_QueueLayer(), tick=0.01)._deliver("t.alpha.big", group, [_event(1)])

    assert len(got) == YIELD_EVERY
    assert not set(got) & set(leaving)
