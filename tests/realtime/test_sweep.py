"""With a cross-process layer (Redis), the event-log sweep hands open sockets what the
layer lost: published while Redis was down, or a dropped pub/sub message."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.models import Department
from realtime import poller
from tests.realtime.conftest import inline_db_call, socket

pytestmark = pytest.mark.asyncio


@pytest.fixture
def swept(monkeypatch, settings):
    """sweep_once over a scripted event log and a hub that records what it was handed."""
    settings.REALTIME_POLL_INTERVAL = 0
    settings.REALTIME_SWEEP_INTERVAL = 2.0
    injected: list[tuple[str, int]] = []
    settled: list[int] = []
    rows: dict[int, tuple[int, list[str], dict]] = {}
    asked: list[tuple[int, list[int], float]] = []

    class Hub:
        def inject(self, group, message):
            injected.append((group, message["id"]))
            return True

    def settled_ids_after(schema_name, high, gaps, settle_s):
        asked.append((high, gaps, settle_s))
        found, settled[:] = list(settled), []
        return found

    def events_by_id(schema_name, ids):
        return [rows[i] for i in ids]

    monkeypatch.setattr(poller, "hub", Hub)
    monkeypatch.setattr(poller, "_settled_ids_after", settled_ids_after)
    monkeypatch.setattr(poller, "_events_by_id", events_by_id)
    monkeypatch.setattr(poller, "db_call", inline_db_call)
    monkeypatch.setitem(poller._sockets, "t_x", 1)
    monkeypatch.setitem(poller._logs, "t_x", poller._Log(high=10))

    def log(event_id: int, *audiences: str) -> None:
        rows[event_id] = (event_id, list(audiences), {"type": "ticket.updated"})
        settled.append(event_id)

    return log, injected, asked


async def test_what_the_layer_brought_is_not_handed_over_again(swept):
    log, injected, asked = swept
    poller.heard("t.t_x.dept_1", {"type": "realtime.event", "id": 11, "event": {}})
    log(11, "dept.1")
    log(12, "dept.1", "managers")  # Redis was down when this one was published

    assert await poller.sweep_once() == 1
    assert injected == [("t.t_x.dept.1", 12), ("t.t_x.managers", 12)]
    assert asked == [(10, [], poller.SWEEP_SETTLE_S)]
    assert poller._logs["t_x"].local == set()  # passed: forgotten


async def test_an_id_skipped_over_is_swept_for_again_and_handed_over_when_it_settles(swept):
    log, injected, asked = swept
    log(13, "dept.1")
    await poller.sweep_once()
    log(12, "dept.1")  # committed late (or older than the settle time only now)
    await poller.sweep_once()
    await poller.sweep_once()

    assert [high_gaps[:2] for high_gaps in asked] == [(10, []), (13, [11, 12]), (13, [11])]
    assert [event_id for _, event_id in injected] == [13, 12]


async def test_heard_is_only_kept_while_sweeping_and_for_event_messages(swept, settings):
    poller.heard("t.t_x.dept_1", {"type": "realtime.presence", "id": 5})
    settings.REALTIME_POLL_INTERVAL = 1.0  # polling instead: the poller's own bookkeeping
    poller.heard("t.t_x.dept_1", {"type": "realtime.event", "id": 6, "event": {}})

    assert poller._logs["t_x"].local == set()


async def test_one_tenants_failing_sweep_does_not_stop_the_others(swept, monkeypatch):
    log, injected, _asked = swept
    monkeypatch.setitem(poller._sockets, "t_broken", 1)
    monkeypatch.setitem(poller._logs, "t_broken", poller._Log(high=0))
    original = poller._settled_ids_after

    def failing(schema_name, *args):
        if schema_name == "t_broken":
            raise RuntimeError("schema dropped")
        return original(schema_name, *args)

    monkeypatch.setattr(poller, "_settled_ids_after", failing)
    log(11, "dept.1")

    assert await poller.sweep_once() == 1
    assert injected == [("t.t_x.dept.1", 11)]


async def test_settled_reads_leave_young_events_for_a_later_sweep(alpha, live):
    """The SQL: only events older than the settle time, gaps included, in id order."""
    from django.db.models import F
    from django.utils import timezone

    from realtime.models import Event

    def setup():
        old = Event.objects.create(audiences=["managers"], payload={"type": "x"})
        young = Event.objects.create(audiences=["managers"], payload={"type": "x"})
        Event.objects.filter(pk=old.pk).update(
            created_at=F("created_at") - timezone.timedelta(seconds=5)
        )
        return old.pk, young.pk

    old, young = await live(alpha, setup)

    found = await live(alpha, poller._settled_ids_after, alpha.schema_name, old - 1, [], 2.0)
    again = await live(alpha, poller._settled_ids_after, alpha.schema_name, young, [old], 2.0)
    rows = await live(alpha, poller._events_by_id, alpha.schema_name, [old, young])

    assert found == [old]
    assert again == [old]  # asked for as a gap
    assert [(event_id, audiences) for event_id, audiences, _ in rows] == [
        (old, ["managers"]),
        (young, ["managers"]),
    ]
    assert rows[0][2] == {"type": "x"}


async def test_a_socket_catches_up_on_what_a_down_layer_lost_without_reconnecting(
    alpha, live, settings, monkeypatch
):
    """Redis down while a ticket changed: the event is in the log but never reached the
    layer. The open socket gets it from the sweep, and only once."""
    from realtime.models import Event

    settings.REALTIME_POLL_INTERVAL = 0
    settings.REALTIME_SWEEP_INTERVAL = 0.2
    monkeypatch.setattr(poller, "SWEEP_SETTLE_S", 0.3)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    dept = await live(alpha, lambda: Department.objects.get(slug="general").pk)

    # As a service whose after-commit delivery failed: the row only, no layer send.
    await live(
        alpha, Event.objects.create, audiences=[f"dept.{dept}"],
        payload={"type": "ticket.updated", "v": 1, "ticket": {"reference": "LOST-1"}},
    )  # fmt: skip

    frames = []
    for _ in range(6):
        if await agent.receive_nothing(timeout=0.5):
            if frames:
                break
            continue
        frame = await agent.receive_json_from()
        frames.extend(frame["frames"] if frame.get("type") == "batch" else [frame])
    await asyncio.sleep(0.6)  # two more sweeps: nothing handed over twice
    assert await agent.receive_nothing(timeout=0.3)
    await agent.disconnect()

    assert [f["event"]["ticket"]["reference"] for f in frames] == ["LOST-1"]


async def test_another_tenants_lost_events_never_reach_this_tenants_socket(
    alpha, bravo, live, settings, monkeypatch
):
    from realtime.models import Event

    settings.REALTIME_POLL_INTERVAL = 0
    settings.REALTIME_SWEEP_INTERVAL = 0.2
    monkeypatch.setattr(poller, "SWEEP_SETTLE_S", 0.2)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    other = socket(bravo.host, session=bravo.sessions["agent"])
    await agent.connect()
    await other.connect()
    dept = await live(bravo, lambda: Department.objects.get(slug="general").pk)

    await live(
        bravo, Event.objects.create, audiences=[f"dept.{dept}", "managers"],
        payload={"type": "ticket.updated", "v": 1, "ticket": {"reference": "BRAVO-ONLY"}},
    )  # fmt: skip

    frame = await other.receive_json_from(timeout=3)
    assert await agent.receive_nothing(timeout=1.0)
    await agent.disconnect()
    await other.disconnect()

    assert frame["event"]["ticket"]["reference"] == "BRAVO-ONLY"
