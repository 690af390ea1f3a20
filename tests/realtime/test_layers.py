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
