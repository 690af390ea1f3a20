"""The event-log poller's bookkeeping: ids skipped over, events this process sent itself."""

from __future__ import annotations

import pytest

from realtime import poller
from tests.realtime.conftest import inline_db_call

pytestmark = pytest.mark.asyncio


@pytest.fixture
def log_rows(monkeypatch):
    """poll_once over a scripted event log and a layer that records what it was given."""
    sent: list[tuple[str, int]] = []
    found: list[tuple[int, list[str], dict]] = []
    asked: list[tuple[int, list[int]]] = []

    class Layer:
        async def group_send(self, group, message):
            sent.append((group, message["id"]))

    def events_after(schema_name, high, gaps):
        asked.append((high, gaps))
        rows, found[:] = list(found), []
        return rows

    monkeypatch.setattr(poller, "get_channel_layer", Layer)
    monkeypatch.setattr(poller, "_events_after", events_after)
    monkeypatch.setattr(poller, "db_call", inline_db_call)
    monkeypatch.setitem(poller._sockets, "t_x", 1)
    monkeypatch.setitem(poller._logs, "t_x", poller._Log(high=10))
    return found, sent, asked


async def test_an_id_skipped_over_is_looked_for_again_and_delivered_when_it_commits(log_rows):
    found, sent, asked = log_rows
    found[:] = [(11, ["dept.1"], {}), (13, ["dept.1", "managers"], {})]

    assert await poller.poll_once() == 2
    found[:] = [(12, ["dept.1"], {})]  # committed after 13
    assert await poller.poll_once() == 1
    assert await poller.poll_once() == 0

    assert asked == [(10, []), (13, [12]), (13, [])]
    assert [event_id for _, event_id in sent] == [11, 13, 13, 12]
    assert ("t.t_x.managers", 13) in sent


async def test_a_notifications_read_asks_only_for_young_gaps_the_full_read_for_all(
    log_rows, monkeypatch
):
    """Ids that never come (deleted rows, a rolled-back import) must not weigh on the
    reads a busy tenant's notifications cause, 80 a second; a late commit still arrives."""
    found, sent, asked = log_rows
    found[:] = [(12, ["dept.1"], {})]
    await poller.poll_once()  # 11 skipped over
    await poller.poll_once({"t_x"})  # a notification's read: 11 is young, asked for
    monkeypatch.setattr(poller, "GAP_FRESH_S", -1.0)
    await poller.poll_once({"t_x"})  # no longer young: not in a notification's read...
    monkeypatch.setattr(poller, "GAP_OLD_EVERY_S", 0.0)
    await poller.poll_once({"t_x"})  # ... but in one every GAP_OLD_EVERY_S
    monkeypatch.setattr(poller, "GAP_OLD_EVERY_S", 60.0)
    found[:] = [(11, ["dept.1"], {})]  # committed very late
    await poller.poll_once()  # the interval's full read

    assert asked == [(10, []), (12, [11]), (12, []), (12, [11]), (12, [11])]
    assert [event_id for _, event_id in sent] == [12, 11]
    assert poller._logs["t_x"].gaps == {}


async def test_an_id_that_never_commits_is_given_up_after_the_wait(log_rows, monkeypatch):
    found, sent, asked = log_rows
    found[:] = [(12, ["dept.1"], {})]
    await poller.poll_once()
    monkeypatch.setattr(poller, "GAP_WAIT_S", 0.0)

    await poller.poll_once()

    assert asked == [(10, []), (12, [])]
    assert poller._logs["t_x"].gaps == {}


async def test_events_this_process_delivered_itself_are_not_sent_again(log_rows):
    found, sent, _ = log_rows
    poller.delivering_here("t_x", [11, 12])
    poller.delivering_here("t_other", [11])  # no socket of that tenant here: ignored
    found[:] = [(11, ["dept.1"], {}), (12, ["dept.1"], {}), (13, ["dept.1"], {})]

    assert await poller.poll_once() == 1

    assert [event_id for _, event_id in sent] == [13]
    assert poller._logs["t_x"].local == set()
    assert "t_other" not in poller._logs


async def test_a_jump_of_millions_of_ids_keeps_only_the_newest_gaps(log_rows):
    import time

    found, sent, _ = log_rows
    found[:] = [(5_000_000, ["dept.1"], {})]

    started = time.monotonic()
    await poller.poll_once()

    assert time.monotonic() - started < 0.5
    gaps = poller._logs["t_x"].gaps
    assert len(gaps) == poller.MAX_GAPS and min(gaps) == 5_000_000 - poller.MAX_GAPS
    assert [event_id for _, event_id in sent] == [5_000_000]


async def test_one_tenants_failing_read_does_not_stop_the_others(log_rows, monkeypatch):
    found, sent, _ = log_rows
    monkeypatch.setitem(poller._sockets, "t_broken", 1)
    monkeypatch.setitem(poller._logs, "t_broken", poller._Log(high=0))
    read = poller._events_after

    def events_after(schema_name, high, gaps):
        if schema_name == "t_broken":
            raise RuntimeError("relation does not exist")
        return read(schema_name, high, gaps)

    monkeypatch.setattr(poller, "_events_after", events_after)
    found[:] = [(11, ["dept.1"], {})]

    assert await poller.poll_once({"t_broken", "t_x"}) == 1
    assert sent == [("t.t_x.dept.1", 11)]


async def test_a_full_read_wakes_the_poller_again_for_the_rest(log_rows, monkeypatch):
    found, _, _ = log_rows
    monkeypatch.setattr(poller, "BATCH", 2)
    monkeypatch.setattr(poller, "_woken", set())
    found[:] = [(11, ["dept.1"], {}), (12, ["dept.1"], {})]

    await poller.poll_once()

    assert poller._woken == {"t_x"}


async def test_every_tenant_is_read_each_interval_however_busy_another_keeps_it(
    monkeypatch, settings
):
    """Notifications for one tenant every 50 ms must not starve the interval's full read."""
    import asyncio
    import contextlib

    settings.REALTIME_POLL_INTERVAL = 0.3
    calls: list[set[str] | None] = []

    async def poll_once(schemas=None):
        calls.append(None if schemas is None else set(schemas))
        return 0

    async def listen(wake):
        while True:
            poller._woken.add("t_busy")
            wake.set()
            await asyncio.sleep(0.05)

    monkeypatch.setattr(poller, "poll_once", poll_once)
    monkeypatch.setattr(poller, "_listen", listen)
    monkeypatch.setitem(poller._sockets, "t_busy", 1)
    monkeypatch.setitem(poller._sockets, "t_quiet", 1)
    monkeypatch.setattr(poller, "_wake", asyncio.Event())
    runner = asyncio.get_running_loop().create_task(poller._run())
    await asyncio.sleep(1.0)
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner

    assert {"t_busy"} in calls
    assert calls.count(None) >= 2  # every watched tenant, about every 0.3 s
