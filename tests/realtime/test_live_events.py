"""Live events: who hears what, replay after reconnect, revocation, isolation, faults."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services import user_set_role
from helpdesk.models import Department
from helpdesk.services import tickets as services
from tests.realtime.conftest import live_ticket, socket

pytestmark = pytest.mark.asyncio


async def _events(communicator, *, until: str | None = None, limit: int = 20) -> list[dict]:
    frames = []
    for _ in range(limit):
        if await communicator.receive_nothing(timeout=0.5):
            break
        frame = await communicator.receive_json_from()
        # A busy tick's events arrive together, in one "batch" frame.
        batch = frame["frames"] if frame.get("type") == "batch" else [frame]
        frames.extend(batch)
        if until and any(f.get("type") == until for f in batch):
            break
    return frames


def _reference(frame) -> str:
    ticket = frame["event"].get("ticket")
    return ticket if isinstance(ticket, str) else (ticket or {}).get("reference", "")


def _types(frames) -> list[str]:
    return [f["event"]["type"] for f in frames if f["type"] == "event"]


async def test_department_agents_and_managers_hear_a_new_ticket_others_do_not(alpha, live):
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    manager = socket(alpha.host, session=alpha.sessions["manager"])
    billing = socket(alpha.host, session=alpha.sessions["billing_agent"])
    for s in (agent, manager, billing):
        assert (await s.connect())[0]

    ticket = await live(alpha, live_ticket, alpha)

    for s in (agent, manager):
        frames = await _events(s)
        assert _types(frames) == ["ticket.created"]
        assert frames[0]["event"]["ticket"]["reference"] == ticket.reference
    assert await billing.receive_nothing(timeout=0.5)
    for s in (agent, manager, billing):
        await s.disconnect()


async def test_customer_sees_public_replies_live_and_never_internal_notes(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)
    customer = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await customer.connect()
    await agent.connect()
    await customer.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await customer.receive_json_from())["type"] == "watching"
    agent_user = await live(alpha, User.objects.get, pk=alpha.users["agent"])

    await live(
        alpha, services.ticket_reply, ticket=ticket, author=agent_user,
        body_text="INTERNAL ONLY", internal=True,
    )  # fmt: skip
    await live(alpha, services.ticket_reply, ticket=ticket, author=agent_user, body_text="Fixed")

    customer_frames = await _events(customer)
    agent_frames = await _events(agent)
    bodies = [f["event"]["message"]["body_html"] for f in customer_frames
              if f["event"]["type"] == "message.created"]  # fmt: skip
    assert bodies == ["<p>Fixed</p>"]
    assert "INTERNAL ONLY" not in str(customer_frames)
    assert "priority" not in str(customer_frames) and "assignee" not in str(customer_frames)
    assert "INTERNAL ONLY" in str(agent_frames)
    assert any(
        f["event"]["type"] == "ticket.updated" and f["event"]["ticket"]["status_label"]
        for f in customer_frames
    )
    await customer.disconnect()
    await agent.disconnect()


async def test_a_customer_cannot_watch_someone_elses_ticket(alpha, live):
    theirs = await live(alpha, live_ticket, alpha, requester="other_customer")
    customer = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
    await customer.connect()

    await customer.send_json_to({"type": "watch", "ticket": theirs.reference})

    assert await customer.receive_json_from() == {"type": "error", "error": "not_found"}
    await customer.disconnect()


async def test_reconnecting_client_gets_what_it_missed_then_live_traffic(alpha, live):
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    first = await live(alpha, live_ticket, alpha, subject="Before the blip")
    seen = await _events(agent)
    last_id = seen[-1]["id"]
    await agent.disconnect()

    missed = [
        await live(alpha, live_ticket, alpha, subject=f"During the blip {i}") for i in range(3)
    ]
    again = socket(alpha.host, session=alpha.sessions["agent"])
    await again.connect()
    await again.send_json_to({"type": "hello", "last_id": last_id})
    frames = await _events(again, until="replayed", limit=50)

    assert frames[0]["type"] == "hello"
    assert frames[-1]["type"] == "replayed"
    replayed = {_reference(f) for f in frames if f["type"] == "event"}
    assert {t.reference for t in missed} <= replayed
    assert all(f["id"] >= 1 for f in frames if f["type"] == "event")
    # Ids only grow, so the client can drop anything it has already applied.
    ids = [f["id"] for f in frames if f["type"] == "event"]
    assert ids == sorted(ids)
    assert first.reference in {_reference(f) for f in seen if f["type"] == "event"}
    await again.disconnect()


async def test_a_revoked_agent_stops_receiving_at_once(alpha, live):
    agent = socket(alpha.host, session=alpha.sessions["billing_agent"])
    assert (await agent.connect())[0]
    user = await live(alpha, User.objects.get, pk=alpha.users["billing_agent"])

    try:
        await live(alpha, user_set_role, user=user, role="customer")
        closed = await agent.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4410}
        again = socket(alpha.host, session=alpha.sessions["billing_agent"])
        assert (await again.connect())[1] == 4403
    finally:
        await live(alpha, user_set_role, user=user, role="agent")


async def test_tenant_b_sockets_never_hear_tenant_a(alpha, bravo, live):
    bravo_manager = socket(bravo.host, session=bravo.sessions["manager"])
    await bravo_manager.connect()

    ticket = await live(alpha, live_ticket, alpha)
    await bravo_manager.send_json_to({"type": "watch", "ticket": ticket.reference})
    await bravo_manager.send_json_to({"type": "hello", "last_id": 0})

    frames = await _events(bravo_manager, limit=50)
    assert {"type": "error", "error": "not_found"} in frames
    assert ticket.reference not in str(frames)
    await bravo_manager.disconnect()


async def test_frame_flood_is_rate_limited_without_dropping_the_socket(alpha):
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()

    for _ in range(60):
        await agent.send_json_to({"type": "nope"})
    frames = []
    while not await agent.receive_nothing(timeout=0.5):
        frames.append(await agent.receive_json_from())
    await agent.send_json_to({"type": "nope"})  # the socket is still open and answering

    # The burst's frames are answered; past it, one notice (not one per frame).
    assert frames.count({"type": "error", "error": "rate_limited"}) == 1
    assert frames.count({"type": "error", "error": "unknown_type"}) >= 20
    assert (await agent.receive_json_from())["type"] == "error"
    await agent.disconnect()


async def test_presence_with_the_layer_down_answers_an_error_and_keeps_the_socket(
    alpha, live, monkeypatch
):
    from channels.layers import get_channel_layer

    ticket = await live(alpha, live_ticket, alpha)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await agent.receive_json_from())["type"] == "watching"

    async def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", broken)
    await agent.send_json_to({"type": "presence", "ticket": ticket.reference, "state": "viewing"})

    assert await agent.receive_json_from() == {"type": "error", "error": "unavailable"}
    await agent.send_json_to({"type": "nope"})  # still open
    assert (await agent.receive_json_from())["error"] == "unknown_type"
    await agent.disconnect()


async def test_presence_reaches_other_watchers_not_the_sender_and_not_customers(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)
    first = socket(alpha.host, session=alpha.sessions["agent"])
    second = socket(alpha.host, session=alpha.sessions["manager"])
    customer = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
    for s in (first, second, customer):
        await s.connect()
        await s.send_json_to({"type": "watch", "ticket": ticket.reference})
        assert (await s.receive_json_from())["type"] == "watching"

    await first.send_json_to({"type": "presence", "ticket": ticket.reference, "state": "replying"})
    seen = next(f for f in await _events(second) if f["type"] == "presence")

    assert seen == {
        "type": "presence", "ticket": ticket.reference, "user_id": alpha.users["agent"],
        "name": "Alpha Corp Agent", "state": "replying", "expires_in": 30,
    }  # fmt: skip
    assert not [f for f in await _events(first) if f["type"] == "presence"]
    assert not [f for f in await _events(customer) if f["type"] == "presence"]
    await first.send_json_to({"type": "presence", "ticket": "ZZZZ-ZZZZ", "state": "viewing"})
    assert {"type": "error", "error": "malformed_frame"} in await _events(first)
    for s in (first, second, customer):
        await s.disconnect()


async def test_a_fresh_page_gets_no_replay_and_a_long_absence_asks_for_a_reload(
    alpha, live, monkeypatch
):
    monkeypatch.setattr("realtime.consumers.REPLAY_LIMIT", 2)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    await live(alpha, live_ticket, alpha)
    last_id = (await _events(agent))[-1]["id"]
    await agent.disconnect()
    for i in range(3):
        await live(alpha, live_ticket, alpha, subject=f"Missed {i}")

    fresh = socket(alpha.host, session=alpha.sessions["agent"])
    await fresh.connect()
    await fresh.send_json_to({"type": "hello", "last_id": 0})
    fresh_frames = await _events(fresh)
    back = socket(alpha.host, session=alpha.sessions["agent"])
    await back.connect()
    await back.send_json_to({"type": "hello", "last_id": last_id})
    back_frames = await _events(back)

    assert [f["type"] for f in fresh_frames] == ["hello", "replayed"]
    assert [f["type"] for f in back_frames] == ["hello", "resync"]
    await fresh.disconnect()
    await back.disconnect()


async def test_events_written_by_another_process_arrive_through_the_log_poller(
    alpha, live, settings
):
    """The single-process default has no Redis: a background worker's events reach the
    sockets through the event log (helpdesk events written with no live delivery)."""
    from realtime.models import Event

    settings.REALTIME_POLL_INTERVAL = 0.2
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    dept = await live(alpha, lambda: Department.objects.get(slug="general").pk)

    # As a worker in another process would: the row only, no channel-layer send.
    await live(
        alpha, Event.objects.create, audiences=[f"dept.{dept}"],
        payload={"type": "ticket.updated", "v": 1, "ticket": {"reference": "FROM-WORK"}},
    )  # fmt: skip

    frames = await _events(agent)
    assert [f["event"]["ticket"]["reference"] for f in frames] == ["FROM-WORK"]
    await agent.disconnect()


def _log_as_a_worker(schema_name: str, dept: int, reference: str, *, hold=None) -> None:
    """What a background worker of the single-process default does: the event row, then
    after commit a notification, and no channel-layer send (its in-memory layer reaches
    no socket). ``hold``: (logged, release) events to commit only when released."""
    from django.db import transaction

    from realtime import poller
    from realtime.models import Event

    with transaction.atomic():
        Event.objects.create(
            audiences=[f"dept.{dept}"],
            payload={"type": "ticket.updated", "v": 1, "ticket": {"reference": reference}},
        )
        if hold is not None:
            logged, release = hold
            logged.set()
            assert release.wait(10)
    poller.notify(schema_name)


async def test_a_workers_event_arrives_at_once_by_notification_not_the_interval(
    alpha, live, settings
):
    import time

    settings.REALTIME_POLL_INTERVAL = 30  # only the notification can bring it in time
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    dept = await live(alpha, lambda: Department.objects.get(slug="general").pk)
    started = time.monotonic()

    await live(alpha, _log_as_a_worker, alpha.schema_name, dept, "NOTIFIED")

    frames = await _events(agent)
    assert [f["event"]["ticket"]["reference"] for f in frames] == ["NOTIFIED"]
    assert time.monotonic() - started < 5
    await agent.disconnect()


async def test_an_event_committed_after_a_newer_one_still_arrives_live(alpha, live, settings):
    """Ids are taken at insert, commits land in any order: the poller looks again for
    the id it skipped over."""
    import asyncio
    import threading

    settings.REALTIME_POLL_INTERVAL = 30
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    dept = await live(alpha, lambda: Department.objects.get(slug="general").pk)
    logged, release = threading.Event(), threading.Event()

    def older() -> None:  # another worker: a thread and a database connection of its own
        from django.db import connection

        from tenants.context import tenant_schema

        try:
            with tenant_schema(alpha.schema_name):
                _log_as_a_worker(alpha.schema_name, dept, "OLDER", hold=(logged, release))
        finally:
            connection.close()

    slow = asyncio.ensure_future(asyncio.to_thread(older))
    assert await asyncio.to_thread(logged.wait, 10)  # holds the smaller id, uncommitted
    await live(alpha, _log_as_a_worker, alpha.schema_name, dept, "NEWER")
    first = await _events(agent)
    release.set()
    await slow
    second = await _events(agent)

    assert [f["event"]["ticket"]["reference"] for f in first] == ["NEWER"]
    assert [f["event"]["ticket"]["reference"] for f in second] == ["OLDER"]
    assert second[0]["id"] < first[0]["id"]
    await agent.disconnect()


async def test_a_change_watched_live_on_the_ticket_page_is_not_marked_in_the_queue(alpha, live):
    """The page reports the last change it showed; the mark is that change's time, so a
    later change (not yet shown) is still marked."""
    import datetime as dt

    from helpdesk.models import TicketSeen

    ticket = await live(alpha, live_ticket, alpha)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await agent.receive_json_from())["type"] == "watching"
    agent_id = alpha.users["agent"]
    manager = await live(alpha, User.objects.get, pk=alpha.users["manager"])
    await live(alpha, services.ticket_update, ticket=ticket, actor=manager, tags=["printer"])
    shown = [f for f in await _events(agent) if f["event"]["type"] == "ticket.updated"][-1]
    shown_at = shown["event"]["ticket"]["updated_at"]

    await agent.send_json_to({"type": "seen", "ticket": ticket.reference, "updated_at": shown_at})
    assert await agent.receive_nothing(timeout=0.5)  # no answer when all is well

    def seen_at():
        return TicketSeen.objects.get(user_id=agent_id, ticket=ticket).seen_at

    assert await live(alpha, seen_at) == dt.datetime.fromisoformat(shown_at)
    # A change after the one the page reported keeps its mark.
    await live(alpha, services.ticket_update, ticket=ticket, actor=manager, tags=["scanner"])
    await _events(agent)
    assert await live(alpha, seen_at) < await live(alpha, _ticket_updated_at, ticket.pk)
    assert await live(alpha, seen_at) == dt.datetime.fromisoformat(shown_at)
    # A claim past the ticket's own last change is held to it.
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    await agent.send_json_to({"type": "seen", "ticket": ticket.reference, "updated_at": future})
    assert await agent.receive_nothing(timeout=0.5)
    row = await live(alpha, _ticket_updated_at, ticket.pk)
    assert await live(alpha, seen_at) == row
    await agent.disconnect()


def _ticket_updated_at(pk):
    from helpdesk.models import Ticket

    return Ticket.objects.get(pk=pk).updated_at


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "seen", "ticket": "NOT-WATCHED", "updated_at": "2026-11-30T10:00:00+00:00"},
        {"type": "seen", "ticket": "WATCHED", "updated_at": "yesterday"},
        {"type": "seen", "ticket": "WATCHED", "updated_at": "2026-11-30T10:00:00"},  # no zone
        {"type": "seen", "ticket": "WATCHED", "updated_at": 1764496800},
        {"type": "seen", "ticket": "WATCHED"},
        {"type": "seen", "ticket": [], "updated_at": "2026-11-30T10:00:00+00:00"},
        {"type": "seen", "ticket": {"a": 1}, "updated_at": "2026-11-30T10:00:00+00:00"},
        {"type": "presence", "ticket": [], "state": "viewing"},
    ],
)
async def test_a_bad_seen_frame_gets_an_error_and_marks_nothing(alpha, live, frame):
    from helpdesk.models import TicketSeen

    ticket = await live(alpha, live_ticket, alpha)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    await agent.connect()
    await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await agent.receive_json_from())["type"] == "watching"
    await _events(agent)
    if frame.get("ticket") == "WATCHED":
        frame = {**frame, "ticket": ticket.reference}

    await agent.send_json_to(frame)

    assert await agent.receive_json_from() == {"type": "error", "error": "malformed_frame"}
    assert not await live(
        alpha, TicketSeen.objects.filter(user_id=alpha.users["agent"], ticket=ticket).exists
    )
    await agent.send_json_to({"type": "hello"})  # the socket is still open and served
    assert (await agent.receive_json_from())["type"] == "hello"
    await agent.disconnect()


async def test_customers_sockets_have_no_seen_marks(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)
    customer = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
    await customer.connect()
    await customer.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await customer.receive_json_from())["type"] == "watching"

    await customer.send_json_to(
        {"type": "seen", "ticket": ticket.reference, "updated_at": "2026-11-30T10:00:00+00:00"}
    )

    assert await customer.receive_json_from() == {"type": "error", "error": "unknown_type"}
    await customer.disconnect()
