"""Websocket frames leave daphne's Twisted transport when written (saas.daphne_writes)."""

from __future__ import annotations

import socket

import pytest
from twisted.internet import tcp

from saas import daphne_writes


class FakeReactor:
    def __init__(self) -> None:
        self.writers: list[object] = []

    def addWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        self.writers.append(writer)

    def removeWriter(self, writer) -> None:  # noqa: N802
        pass


class WebsocketProtocol:
    tcpNoDelay = True  # noqa: N815 - autobahn's option, copied onto its protocols


class HttpProtocol:
    pass


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(tcp.Connection, "write", tcp.Connection.write)  # restored after
    daphne_writes.install()
    daphne_writes.install()  # a second call changes nothing
    assert tcp.Connection.write.immediate
    return tcp.Connection.write


@pytest.fixture
def pair():
    """A real TCP connection on 127.0.0.1: (server side socket, client side socket)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    server.setblocking(False)
    client.settimeout(5)
    yield server, client
    server.close()
    client.close()


def _connection(sock: socket.socket, protocol) -> tuple[tcp.Connection, FakeReactor]:
    reactor = FakeReactor()
    connection = tcp.Connection(sock, protocol, reactor)
    connection.connected = 1
    return connection, reactor


def test_a_websocket_frame_is_sent_at_once_without_nagle(installed, pair):
    server, client = pair
    connection, reactor = _connection(server, WebsocketProtocol())

    connection.write(b"frame one")
    connection.write(b"frame two")

    assert reactor.writers == []  # no writer registered: nothing waits for the loop
    assert server.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    received = b""
    while len(received) < 18:
        received += client.recv(100)
    assert received == b"frame oneframe two"


def test_http_keeps_twisteds_buffered_write(installed, pair):
    server, client = pair
    connection, reactor = _connection(server, HttpProtocol())

    connection.write(b"HTTP/1.1 200 OK\r\n")

    assert reactor.writers == [connection]  # sent when the loop says writable
    assert connection._tempDataBuffer == [b"HTTP/1.1 200 OK\r\n"]
    assert not server.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_what_the_socket_does_not_take_is_buffered_in_order(installed, pair):
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    connection, reactor = _connection(server, WebsocketProtocol())
    big = bytes(range(256)) * 8192  # 2 MiB: more than the socket takes at once

    connection.write(big)
    pending = connection._tempDataLen
    connection.write(b"after")  # must queue behind the rest, not jump ahead

    assert 0 < pending < len(big)
    assert reactor.writers and connection._tempDataLen == pending + len(b"after")
    sent = len(big) - pending
    assert b"".join(connection._tempDataBuffer) == big[sent:] + b"after"


def test_a_lost_connection_is_left_to_twisted(installed, pair):
    server, client = pair
    connection, reactor = _connection(server, WebsocketProtocol())
    connection.connected = 0

    connection.write(b"late frame")  # Twisted's write drops it, as before

    assert reactor.writers == [] and connection._tempDataLen == 0


def test_a_twisted_whose_transport_looks_otherwise_gets_its_own_buffered_write(
    installed, pair, monkeypatch
):
    server, client = pair
    connection, reactor = _connection(server, WebsocketProtocol())

    def changed(connection, data):
        raise AttributeError("'Connection' object has no attribute '_tempDataLen'")

    monkeypatch.setattr(daphne_writes, "_immediate", changed)
    connection.write(b"frame")

    assert reactor.writers == [connection]
    assert connection._tempDataBuffer == [b"frame"]
