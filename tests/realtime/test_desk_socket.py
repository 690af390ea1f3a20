"""/ws/desk/: tenant from the Host header, user from that tenant's session."""

import pytest
from channels.testing import WebsocketCommunicator

from realtime.groups import group_name
from saas.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


def _socket(host, *, session=None, origin=None):
    headers = [(b"host", host.encode())]
    origin = f"http://{host}" if origin is None else origin
    if origin:
        headers.append((b"origin", origin.encode()))
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/desk/", headers=headers)


async def test_agent_gets_hello_with_tenant_and_user(alpha):
    socket = _socket(alpha.host, session=alpha.sessions["agent"])

    connected, _ = await socket.connect()
    await socket.send_json_to({"type": "hello"})
    reply = await socket.receive_json_from()
    await socket.disconnect()

    assert connected
    assert reply == {
        "type": "hello",
        "version": 1,
        "tenant": alpha.schema_name,
        "user": {
            "id": alpha.users["agent"],
            "email": "agent@alpha.test",
            "name": "Alpha Corp Agent",
        },
    }


async def test_host_with_port_resolves_the_tenant(alpha):
    socket = _socket(f"{alpha.host}:8000", session=alpha.sessions["agent"])

    connected, _ = await socket.connect()
    await socket.disconnect()

    assert connected


async def test_anonymous_user_is_rejected(alpha):
    socket = _socket(alpha.host)

    connected, code = await socket.connect()

    assert not connected
    assert code == 4401


async def test_customer_is_rejected_from_the_desk(alpha):
    socket = _socket(alpha.host, session=alpha.sessions["customer"])

    connected, code = await socket.connect()

    assert not connected
    assert code == 4403


async def test_unknown_host_is_rejected(alpha):
    socket = _socket("nobody.localhost", session=alpha.sessions["agent"])

    connected, _ = await socket.connect()

    assert not connected


async def test_public_host_is_rejected(alpha):
    socket = _socket("localhost", session=alpha.sessions["agent"])

    connected, _ = await socket.connect()

    assert not connected


async def test_another_tenants_cookie_is_anonymous_here(alpha, bravo):
    socket = _socket(bravo.host, session=alpha.sessions["owner"])

    connected, code = await socket.connect()

    assert not connected
    assert code == 4401


@pytest.mark.parametrize("origin", ["http://bravo.localhost", "http://evil.example", ""])
async def test_foreign_or_missing_origin_is_rejected(alpha, bravo, origin):
    socket = _socket(alpha.host, session=alpha.sessions["agent"], origin=origin or "")
    if not origin:
        socket.scope["headers"] = [h for h in socket.scope["headers"] if h[0] != b"origin"]

    connected, _ = await socket.connect()

    assert not connected


async def test_malformed_frames_get_an_error_frame_and_the_socket_stays_open(alpha):
    socket = _socket(alpha.host, session=alpha.sessions["agent"])
    await socket.connect()

    await socket.send_to(text_data="{not json")
    first = await socket.receive_json_from()
    await socket.send_json_to(["not", "an", "object"])
    second = await socket.receive_json_from()
    await socket.send_json_to({"type": "launch-missiles"})
    third = await socket.receive_json_from()
    await socket.send_json_to({"type": "hello"})
    still_there = await socket.receive_json_from()
    await socket.disconnect()

    assert first == second == {"type": "error", "error": "malformed_frame"}
    assert third == {"type": "error", "error": "unknown_type"}
    assert still_there["type"] == "hello"


async def test_group_names_carry_the_schema_so_events_stay_in_their_tenant(alpha, bravo):
    from channels.layers import get_channel_layer

    alpha_socket = _socket(alpha.host, session=alpha.sessions["agent"])
    bravo_socket = _socket(bravo.host, session=bravo.sessions["agent"])
    await alpha_socket.connect()
    await bravo_socket.connect()

    await get_channel_layer().group_send(
        group_name(schema_name=bravo.schema_name, audience=f"user.{bravo.users['agent']}"),
        {"type": "realtime.event", "id": 1, "event": {"type": "ping", "for": "bravo"}},
    )

    assert await bravo_socket.receive_json_from() == {
        "type": "event", "id": 1, "event": {"type": "ping", "for": "bravo"},
    }  # fmt: skip
    assert await alpha_socket.receive_nothing(timeout=0.3)
    await alpha_socket.disconnect()
    await bravo_socket.disconnect()


async def test_sockets_give_their_pooled_connections_back(alpha):
    """Each handshake reads the tenant, origin, session and user on a worker thread; its
    connection must go back to the pool after the call, or a few hundred sockets drain
    it (Channels' test communicator disables its own clean-up, so the call does it)."""
    from django.db import connection

    pool = connection.pool
    assert pool is not None, "the connection pool is on by default"

    def checked_out() -> int:
        stats = pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = checked_out()
    for _ in range(pool.max_size + 2):  # more sockets than the pool has connections
        socket = _socket(alpha.host, session=alpha.sessions["agent"])
        connected, _ = await socket.connect()
        assert connected
        await socket.disconnect()

    assert checked_out() <= before
