"""The in-memory channel layer of the single-process default."""

from __future__ import annotations

import asyncio

import pytest

from realtime.layers import InMemoryChannelLayer

pytestmark = pytest.mark.asyncio


async def test_it_sweeps_expired_messages_once_a_second_not_on_every_receive(monkeypatch):
    layer = InMemoryChannelLayer(expiry=60)
    sweeps = []
    original = InMemoryChannelLayer.__mro__[1]._clean_expired
    monkeypatch.setattr(
        InMemoryChannelLayer.__mro__[1], "_clean_expired", lambda s: sweeps.append(original(s))
    )
    for number in range(50):
        await layer.send("hub.inmemory!a", {"type": "x", "n": number})
    received = [(await layer.receive("hub.inmemory!a"))["n"] for _ in range(50)]

    assert received == list(range(50))
    assert len(sweeps) == 1


async def test_expired_messages_still_go_and_take_their_channel_out_of_groups():
    layer = InMemoryChannelLayer(expiry=0.2)
    layer.SWEEP_INTERVAL_S = 0.0
    await layer.group_add("t.t_a.dept.1", "gone.inmemory!b")
    await layer.send("gone.inmemory!b", {"type": "stale"})
    await asyncio.sleep(0.3)
    await layer.send("live.inmemory!c", {"type": "fresh"})

    fresh = await asyncio.wait_for(layer.receive("live.inmemory!c"), timeout=5)
    assert fresh["type"] == "fresh"
    assert "gone.inmemory!b" not in layer.channels
    assert "gone.inmemory!b" not in layer.groups.get("t.t_a.dept.1", {})


async def test_a_group_membership_outlives_a_day(monkeypatch):
    """The hub joins a group once and stays while it has sockets there."""
    import time

    layer = InMemoryChannelLayer()
    layer.SWEEP_INTERVAL_S = 0.0
    await layer.group_add("t.t_a.dept.1", "hub.inmemory!h")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3 * 86400)

    await layer.group_send("t.t_a.dept.1", {"type": "realtime.event", "id": 1})
    message = await asyncio.wait_for(layer.receive("hub.inmemory!h"), timeout=5)

    assert message["id"] == 1
    assert "hub.inmemory!h" in layer.groups["t.t_a.dept.1"]


async def test_a_group_send_does_not_yield_so_a_burst_reaches_the_hub_together():
    """The poller sends a read's events one after another; a reader of the group must
    find all of them queued when it next runs, not one per turn of the loop."""
    layer = InMemoryChannelLayer()
    await layer.group_add("t.t_a.dept.1", "hub.inmemory!h")
    await layer.group_add("t.t_a.dept.1", "hub.inmemory!i")
    turns = 0

    async def other_task():
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    before = turns
    for number in range(20):
        await layer.group_send("t.t_a.dept.1", {"type": "realtime.event", "id": number})
    during = turns - before
    task.cancel()

    assert during == 0
    for channel in ("hub.inmemory!h", "hub.inmemory!i"):
        assert layer.channels[channel].qsize() == 20
        received = [(await layer.receive(channel))["id"] for _ in range(20)]
        assert received == list(range(20))


async def test_a_full_channel_drops_the_message_with_a_warning_and_others_still_get_it(caplog):
    layer = InMemoryChannelLayer(capacity=2)
    await layer.group_add("t.t_a.dept.1", "hub.inmemory!full")
    await layer.group_add("t.t_a.dept.1", "hub.inmemory!free")
    for number in range(2):
        await layer.send("hub.inmemory!full", {"type": "x", "id": number})

    await layer.group_send("t.t_a.dept.1", {"type": "realtime.event", "id": 9})
    await layer.group_send("t.t_a.dept.1", {"type": "realtime.event", "id": 10})

    assert (await layer.receive("hub.inmemory!free"))["id"] == 9
    assert (await layer.receive("hub.inmemory!free"))["id"] == 10
    assert layer.channels["hub.inmemory!full"].qsize() == 2
    assert caplog.text.count("hub.inmemory!full is full") == 1  # once a second, not per message
