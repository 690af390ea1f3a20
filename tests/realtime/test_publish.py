"""Handing committed events to a cross-process channel layer from code that has no
event loop of its own (background workers, management commands)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import publish
from realtime.publish import MESSAGE_TYPE, deliver_all

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the cross-process path needs Redis (REDIS_URL)"
)


def _message(event_id: int) -> dict:
    return {"type": MESSAGE_TYPE, "id": event_id, "event": {"type": "ticket.updated"}}


@needs_redis
def test_a_worker_thread_delivers_through_one_long_lived_loop_in_order():
    layer = get_channel_layer()
    group = f"test_publish.{time.monotonic_ns()}"
    received: list[int] = []
    subscribed, done = threading.Event(), threading.Event()

    async def listen() -> None:  # another process's socket, in effect: its own loop
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        subscribed.set()
        try:
            while len(received) < 3:
                message = await asyncio.wait_for(layer.receive(channel), timeout=10)
                received.append(message["id"])
        finally:
            await layer.group_discard(group, channel)
            done.set()

    listener = threading.Thread(target=lambda: asyncio.run(listen()))
    listener.start()
    assert subscribed.wait(10)
    loops = []

    def worker() -> None:  # a plain thread: no event loop, no ASGI server above it
        for event_id in (1, 2, 3):
            deliver_all([([group], _message(event_id))])
            loops.append(publish._delivery_loop())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(15)
    listener.join(15)

    assert done.is_set() and received == [1, 2, 3]
    assert len({id(loop) for loop in loops}) == 1 and loops[0].is_running()


@needs_redis
def test_a_redis_that_stops_answering_holds_the_caller_for_the_timeout_only(
    settings, monkeypatch, caplog
):
    from channels.layers import channel_layers

    silent = socket.socket()  # accepts connections (the backlog), never answers a byte
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0"}]},
        }
    }
    channel_layers.backends = {}
    monkeypatch.setattr(publish, "DELIVERY_TIMEOUT_S", 0.5)
    try:
        started = time.monotonic()
        deliver_all([(["test_publish.silent"], _message(1))])  # must not raise
        elapsed = time.monotonic() - started
    finally:
        channel_layers.backends = {}
        silent.close()

    assert 0.4 < elapsed < 3
    assert "realtime delivery failed for events [1]" in caplog.text


def test_without_a_cross_process_layer_a_delivery_wakes_the_web_processes(settings, monkeypatch):
    """After commit: the local send, then a NOTIFY for the web process's poller (which
    skips what this process already sent)."""
    from channels.layers import channel_layers

    from realtime import poller

    notified, local = [], []
    monkeypatch.setattr(poller, "notify", notified.append)
    monkeypatch.setattr(poller, "delivering_here", lambda schema, ids: local.append(ids))
    settings.REALTIME_POLL_INTERVAL = 1.0
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    try:
        layer = get_channel_layer()
        async_to_sync(layer.group_add)("t.t_x.dept.1", "hub.inmemory!h")
        deliver_all([(["t.t_x.dept.1"], _message(7))], schema_name="t_x")
        # No one here on the group (a worker, or no socket in that department): nothing
        # sent or marked here, the pollers read it after the notification.
        deliver_all([(["t.t_x.dept.2"], _message(9))], schema_name="t_x")
        settings.REALTIME_POLL_INTERVAL = 0  # Redis: no poller, no NOTIFY
        deliver_all([(["t.t_x.dept.1"], _message(8))], schema_name="t_x")

        async def receive():
            return await asyncio.wait_for(layer.receive("hub.inmemory!h"), 5)

        received = [async_to_sync(receive)()["id"] for _ in range(2)]
    finally:
        channel_layers.backends = {}

    assert notified == ["t_x", "t_x"]
    assert local == [[7]]
    assert received == [7, 8]
