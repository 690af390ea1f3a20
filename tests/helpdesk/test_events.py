"""Which events each service emits, to whom; and that a dead channel layer loses nothing."""

from helpdesk.models import TicketStatus
from helpdesk.services import tickets as services
from realtime.models import Event


def test_each_service_emits_exactly_its_events_to_exactly_its_audiences(
    in_alpha, alpha, people, new_ticket, billing, capture_realtime_events
):
    events = capture_realtime_events

    def emitted():
        taken = events.take()
        assert {e.schema_name for e in taken} <= {alpha.schema_name}  # never another tenant
        return [(e.type, list(e.audiences)) for e in taken]

    ticket = new_ticket()
    t = ticket.pk
    dept = ticket.department_id
    customer = people["customer"].pk
    assert emitted() == [
        ("ticket.created", sorted(["managers", f"dept.{dept}", f"ticket.{t}"])),
        ("ticket.created", sorted([f"ticket.{t}.public", f"user.{customer}.portal"])),
    ]

    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="n", internal=True)
    internal = emitted()
    assert [name for name, _ in internal] == ["message.created", "ticket.updated"]
    assert all(f"user.{customer}.portal" not in audiences for _, audiences in internal)
    assert all(f"ticket.{t}.public" not in audiences for _, audiences in internal)

    services.ticket_reply(ticket=ticket, author=people["agent"], body_text="p")
    staff = sorted(["managers", f"dept.{dept}", f"ticket.{t}"])
    public = sorted([f"ticket.{t}.public", f"user.{customer}.portal"])
    assert emitted() == [
        ("message.created", staff),  # with the desk's fields
        ("message.created", public),  # without them
        ("ticket.updated", staff),
        ("ticket.updated", public),
    ]

    services.ticket_assign(ticket=ticket, actor=people["agent"], assignee=people["agent"])
    assert emitted() == [
        ("ticket.assigned",
         sorted(["managers", f"dept.{dept}", f"ticket.{t}", f"user.{people['agent'].pk}"])),
    ]  # fmt: skip

    services.ticket_transfer(ticket=ticket, actor=people["agent"], department=billing)
    ((name, audiences),) = emitted()
    assert name == "ticket.updated"
    assert {f"dept.{dept}", f"dept.{billing.pk}", f"user.{people['agent'].pk}"} <= set(audiences)

    services.ticket_update(
        ticket=ticket, actor=people["manager"], status=TicketStatus.objects.get(key="resolved")
    )
    assert [name for name, _ in emitted()] == ["ticket.updated", "ticket.updated"]


def test_message_events_name_mentions_and_owner_for_agents_and_nothing_of_it_for_customers(
    in_alpha, people, new_ticket, capture_realtime_events
):
    ticket = new_ticket()
    capture_realtime_events.take()
    manager = people["manager"]

    services.ticket_reply(
        ticket=ticket, author=people["agent"], body_text=f"@{manager.email} look", internal=True
    )
    services.ticket_reply(ticket=ticket, author=people["agent"], body_text=f"@{manager.email}")

    note, reply_staff, reply_public = (
        e for e in capture_realtime_events.take() if e.type == "message.created"
    )
    assert note.payload["message"]["mentions"] == [manager.pk]
    assert reply_staff.payload["message"]["mentions"] == []  # only notes mention
    assert (note.payload["department_id"], note.payload["assignee_id"]) == (
        ticket.department_id, ticket.assignee_id,
    )  # fmt: skip
    # The customer's copy carries nothing of the desk.
    assert set(reply_public.payload) == {"type", "v", "ticket", "message"}
    assert "mentions" not in reply_public.payload["message"]
    assert not {f"ticket.{ticket.pk}", "managers"} & set(reply_public.audiences)


def test_a_tenants_services_log_their_events_in_that_tenant_only(
    alpha, bravo, capture_realtime_events
):
    from tests.fixtures.tickets import ticket_with_upload

    ticket_with_upload(bravo, name="a.txt", content=b"hello")

    taken = capture_realtime_events.take()
    assert [e.type for e in taken] == ["ticket.created", "ticket.created"]
    assert {e.schema_name for e in taken} == {bravo.schema_name}


def test_the_capture_fails_an_event_named_for_another_tenant(alpha, bravo, capture_realtime_events):
    """The check the fixture makes on every test that uses it can fail."""
    import pytest

    from helpdesk import events
    from tenants.context import tenant_schema

    with tenant_schema(bravo.schema_name):
        events.publish_many_on_commit(
            schema_name=alpha.schema_name, events=[(["managers"], {"type": "ticket.updated"})]
        )
    with pytest.raises(AssertionError, match="named for another tenant"):
        capture_realtime_events.take()


def test_redis_down_loses_no_ticket_and_no_event(
    alpha, in_alpha, people, general, monkeypatch, django_capture_on_commit_callbacks
):
    async def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    from channels.layers import get_channel_layer

    monkeypatch.setattr(get_channel_layer(), "group_send", broken)
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/tickets/new/",
            {"department": general.pk, "subject": "Redis is down", "urgency": 2, "body": "x"},
        )

    assert response.status_code == 302
    assert Event.objects.filter(payload__type="ticket.created").exists()


def test_with_redis_unreachable_pages_and_api_keep_working(
    alpha, in_alpha, general, settings, django_capture_on_commit_callbacks
):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
    channel_layers.backends = {}
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["customer"]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(
                "/tickets/new/",
                {"department": general.pk, "subject": "No Redis", "urgency": 2, "body": "x"},
            )
        health = client.get("/healthz")
    finally:
        channel_layers.backends = {}

    assert page.status_code == 302
    assert Event.objects.filter(payload__ticket__subject="No Redis").exists()
    assert health.status_code == 503
    assert health.json()["checks"]["channel_layer"]["ok"] is False
    assert health.json()["checks"]["database"]["ok"] is True
