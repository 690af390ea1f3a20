"""The event-log poller's bookkeeping: ids skipped over, events this process sent itself."""

from __future__ import annotations

import pytest

from realtime import poller

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

    def db_call(fn):
        async def call(*args):
            return fn(*args)

        return call

    monkeypatch.setattr(poller, "get_channel_layer", Layer)
    monkeypatch.setattr(poller, "_events_after", events_after)
    monkeypatch.setattr(poller, "db_call", db_call)
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
