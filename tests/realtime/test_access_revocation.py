"""A user who loses access stops hearing at once: role changes in the admin, departments
left, tickets moved away while watched; and what one connection may ask of the server."""

from __future__ import annotations

import asyncio

import pytest

from accounts.models import User
from accounts.services import user_set_role
from helpdesk.models import Department, DepartmentMember
from helpdesk.services import tickets as services
from tenants.context import tenant_schema
from tests.realtime.conftest import frames_until_quiet, live_ticket, socket

CLOSED_REVOKED = {"type": "websocket.close", "code": 4410}


@pytest.fixture
def in_alpha(alpha):
    with tenant_schema(alpha.schema_name):
        yield alpha


@pytest.fixture
def owner_client(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["owner"]
    return client


def _not_events(frames: list[dict]) -> list[dict]:
    """Live traffic of other tests' tickets may arrive meanwhile; it is not the answer."""
    return [f for f in frames if f.get("type") != "event"]


def _revocations(capture) -> list[tuple[str, ...]]:
    return [event.audiences for event in capture.take() if event.type == "access.revoked"]


def _post_role(client, user: User, role: str):
    return client.post(
        f"/admin/team/edit/{user.pk}/", {"name": user.name, "role": role, "is_active": "on"}
    )


# --- roles changed in the Wagtail admin ("Team and roles") ------------------------------


@pytest.mark.parametrize(
    ("who", "role"), [("agent", "customer"), ("manager", "customer"), ("manager", "agent")]
)
def test_the_team_form_revokes_live_access_when_a_role_loses_access(
    owner_client, in_alpha, capture_realtime_events, who, role
):
    user = User.objects.get(pk=in_alpha.users[who])

    response = _post_role(owner_client, user, role)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=user.pk).role == role
    assert _revocations(capture_realtime_events) == [
        tuple(sorted([f"user.{user.pk}", f"user.{user.pk}.portal"]))
    ]


def test_the_team_form_saving_the_same_role_revokes_nothing(
    owner_client, in_alpha, capture_realtime_events
):
    agent = User.objects.get(pk=in_alpha.users["agent"])

    response = _post_role(owner_client, agent, "agent")

    assert response.status_code == 302
    assert _revocations(capture_realtime_events) == []


@pytest.mark.asyncio
async def test_an_agent_demoted_through_the_team_form_is_disconnected_at_once(alpha, live):
    agent = socket(alpha.host, session=alpha.sessions["billing_agent"])
    assert (await agent.connect())[0]
    user = await live(alpha, User.objects.get, pk=alpha.users["billing_agent"])

    def demote():
        client = alpha.client()
        client.cookies["sessionid"] = alpha.sessions["owner"]
        return _post_role(client, user, "customer").status_code

    try:
        assert await live(alpha, demote) == 302
        assert await agent.receive_output(timeout=2) == CLOSED_REVOKED
        again = socket(alpha.host, session=alpha.sessions["billing_agent"])
        assert (await again.connect())[1] == 4403
    finally:
        await live(alpha, user_set_role, user=user, role="agent")


# --- departments left -----------------------------------------------------------------


def _department_form(department: Department) -> dict[str, str]:
    """The Department snippet's edit form as the admin posts it, members inline."""
    members = list(department.members.order_by("pk"))
    data = {
        "name": department.name,
        "slug": department.slug,
        "description": department.description,
        "manager": str(department.manager_id or ""),
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": str(len(members)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
        "categories-TOTAL_FORMS": "0",
        "categories-INITIAL_FORMS": "0",
        "categories-MIN_NUM_FORMS": "0",
        "categories-MAX_NUM_FORMS": "1000",
    }
    if department.is_public:
        data["is_public"] = "on"
    for i, member in enumerate(members):
        data[f"members-{i}-id"] = str(member.pk)
        data[f"members-{i}-user"] = str(member.user_id)
        data[f"members-{i}-tier"] = str(member.tier)
    return data


def test_removing_an_agent_from_a_department_in_the_admin_revokes_their_live_access(
    owner_client, in_alpha, capture_realtime_events
):
    billing = Department.objects.get(slug="billing")
    assert billing.categories.count() == 0  # the form below posts no categories
    data = _department_form(billing)
    data["members-0-DELETE"] = "on"

    response = owner_client.post(f"/admin/snippets/helpdesk/department/edit/{billing.pk}/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert not billing.members.exists()
    agent = in_alpha.users["billing_agent"]
    assert _revocations(capture_realtime_events) == [
        tuple(sorted([f"user.{agent}", f"user.{agent}.portal"]))
    ]


def test_a_membership_given_to_someone_else_revokes_the_previous_member(
    in_alpha, capture_realtime_events
):
    member = DepartmentMember.objects.get(user_id=in_alpha.users["billing_agent"])

    member.user_id = in_alpha.users["agent"]
    member.save()
    member.tier = 2
    member.save()  # a tier changes no one's access

    before = in_alpha.users["billing_agent"]
    assert _revocations(capture_realtime_events) == [
        tuple(sorted([f"user.{before}", f"user.{before}.portal"]))
    ]


@pytest.mark.asyncio
async def test_an_agent_removed_from_a_department_reconnects_without_it(alpha, live):
    agent_id = alpha.users["billing_agent"]
    agent = socket(alpha.host, session=alpha.sessions["billing_agent"])
    assert (await agent.connect())[0]

    def remove():
        DepartmentMember.objects.filter(user_id=agent_id, department__slug="billing").delete()

    def restore():
        billing = Department.objects.get(slug="billing")
        DepartmentMember.objects.get_or_create(department=billing, user_id=agent_id)

    try:
        await live(alpha, remove)
        assert await agent.receive_output(timeout=2) == CLOSED_REVOKED
        again = socket(alpha.host, session=alpha.sessions["billing_agent"])
        assert (await again.connect())[0]  # still an agent, with a smaller audience
        await live(alpha, live_ticket, alpha, department="billing", subject="Not yours now")
        assert "Not yours now" not in str(await frames_until_quiet(again))
        await again.disconnect()
    finally:
        await live(alpha, restore)


@pytest.mark.asyncio
async def test_a_watch_is_judged_by_the_role_the_user_has_now_not_at_the_handshake(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)
    agent_id = alpha.users["agent"]
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    assert (await agent.connect())[0]

    def set_role(role):  # behind the services' back: no revocation reaches the socket
        User.objects.filter(pk=agent_id).update(role=role, is_staff=role != "customer")

    try:
        await live(alpha, set_role, "customer")
        await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
        assert await agent.receive_json_from() == {"type": "error", "error": "not_found"}
    finally:
        await live(alpha, set_role, "agent")
    await agent.disconnect()


# --- a watched ticket moved out of reach ------------------------------------------------


@pytest.mark.asyncio
async def test_a_watcher_whose_ticket_moves_to_another_department_hears_no_more_of_it(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)  # in "general", the agent's department
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    billing_agent = socket(alpha.host, session=alpha.sessions["billing_agent"])
    for s in (agent, billing_agent):
        assert (await s.connect())[0]
    await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert await agent.receive_json_from() == {"type": "watching", "ticket": ticket.reference}
    manager = await live(alpha, User.objects.get, pk=alpha.users["manager"])
    billing = await live(alpha, Department.objects.get, slug="billing")

    await live(
        alpha, services.ticket_transfer, ticket=ticket, actor=manager, department=billing,
        reason="SECRET TRANSFER REASON",
    )  # fmt: skip

    frames = await frames_until_quiet(agent)
    assert "SECRET TRANSFER REASON" in str(await frames_until_quiet(billing_agent))  # it was sent
    assert "SECRET TRANSFER REASON" not in str(frames)
    assert {"type": "unwatched", "ticket": ticket.reference} in frames
    # Its old queue still learns that it left (the event is addressed to the department).
    moved = [f for f in frames if f.get("type") == "event"]
    assert [f["event"]["changes"] for f in moved] == [["department", "assignee"]]

    await live(
        alpha, services.ticket_reply, ticket=ticket, author=manager, body_text="LATER NOTE",
        internal=True,
    )  # fmt: skip
    assert "LATER NOTE" not in str(await frames_until_quiet(agent))
    await agent.send_json_to({"type": "hello"})  # the socket itself is still served
    assert (await agent.receive_json_from())["type"] == "hello"
    for s in (agent, billing_agent):
        await s.disconnect()


@pytest.mark.asyncio
async def test_a_watcher_who_can_still_see_a_reassigned_ticket_keeps_watching_it(alpha, live):
    ticket = await live(alpha, live_ticket, alpha)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    assert (await agent.connect())[0]
    await agent.send_json_to({"type": "watch", "ticket": ticket.reference})
    assert (await agent.receive_json_from())["type"] == "watching"
    manager = await live(alpha, User.objects.get, pk=alpha.users["manager"])
    billing_agent = await live(alpha, User.objects.get, pk=alpha.users["billing_agent"])

    await live(alpha, services.ticket_assign, ticket=ticket, actor=manager, assignee=billing_agent)
    await live(
        alpha, services.ticket_reply, ticket=ticket, author=manager, body_text="STILL YOURS",
        internal=True,
    )  # fmt: skip

    frames = await frames_until_quiet(agent)
    assert not [f for f in frames if f.get("type") == "unwatched"]
    assert "ticket.assigned" in str(frames) and "STILL YOURS" in str(frames)
    await agent.disconnect()


# --- what one connection may ask -------------------------------------------------------


@pytest.mark.asyncio
async def test_a_socket_watches_at_most_twenty_tickets(alpha, live):
    def many():
        return [live_ticket(alpha, subject=f"Watch {i}").reference for i in range(21)]

    references = await live(alpha, many)
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    assert (await agent.connect())[0]

    answers = []
    for reference in references:
        await agent.send_json_to({"type": "watch", "ticket": reference})
        answers.append(await agent.receive_json_from())
    await agent.send_json_to({"type": "watch", "ticket": references[0]})  # already watched
    again = await agent.receive_json_from()

    assert answers[:20] == [{"type": "watching", "ticket": r} for r in references[:20]]
    assert answers[20] == {"type": "error", "error": "too_many_watches"}
    assert again == {"type": "watching", "ticket": references[0]}
    await agent.disconnect()


@pytest.mark.asyncio
async def test_a_socket_says_hello_and_replays_once(alpha):
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    assert (await agent.connect())[0]

    await agent.send_json_to({"type": "hello"})
    first = _not_events(await frames_until_quiet(agent))
    await agent.send_json_to({"type": "hello", "last_id": 1})  # "replay it all again"
    second = _not_events(await frames_until_quiet(agent))

    assert [f["type"] for f in first] == ["hello", "replayed"]
    assert second == [{"type": "error", "error": "duplicate_hello"}]
    await agent.disconnect()


@pytest.mark.asyncio
async def test_a_frame_flood_gets_one_rate_limited_frame_a_second(alpha):
    agent = socket(alpha.host, session=alpha.sessions["agent"])
    assert (await agent.connect())[0]

    for _ in range(100):
        await agent.send_json_to({"type": "nope"})
    flood = _not_events(await frames_until_quiet(agent, limit=200))
    await asyncio.sleep(1.0)
    for _ in range(100):
        await agent.send_json_to({"type": "nope"})
    later = _not_events(await frames_until_quiet(agent, limit=200))

    limited = {"type": "error", "error": "rate_limited"}
    assert flood.count(limited) == 1
    assert {"type": "error", "error": "unknown_type"} in flood  # the burst was answered
    assert later.count(limited) == 1  # a second later, one more
    await agent.disconnect()
