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
