"""Websocket frames leave daphne's Twisted transport when written (saas.daphne_writes)."""

from __future__ import annotations

import socket

import pytest
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp

from saas import daphne_writes


class FakeReactor:
    def __init__(self) -> None:
        self.writers: list[object] = []

    def addWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        self.writers.append(writer)

    def removeWriter(self, writer) -> None:  # noqa: N802
        pass


class HttpProtocol:
    """Not a websocket: what daphne's HTTP channel is to the transport."""


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(tcp.Connection, "write", tcp.Connection.write)  # restored after
    daphne_writes.install()
    daphne_writes.install()  # a second call changes nothing
    assert tcp.Connection.write.immediate


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


def _connection(sock: socket.socket, protocol=None) -> tuple[tcp.Connection, FakeReactor]:
    reactor = FakeReactor()
    connection = tcp.Connection(sock, protocol or WebSocketProtocol(), reactor)
    connection.connected = 1
    return connection, reactor


def _receive(client: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        received += client.recv(size - len(received))
    return received


def test_a_websocket_frame_is_sent_at_once(installed, pair):
    server, client = pair
    connection, reactor = _connection(server)

    connection.write(b"frame one")
    connection.write(b"frame two")

    assert reactor.writers == []  # no writer registered: nothing waits for the loop
    assert _receive(client, 18) == b"frame oneframe two"


def test_without_the_patch_the_frame_waits_for_the_loop(pair, monkeypatch):
    # Importing saas.asgi (other tests do) installs it in this process: undo that here.
    original = getattr(tcp.Connection.write, "buffered", tcp.Connection.write)
    monkeypatch.setattr(tcp.Connection, "write", original)
    server, client = pair
    connection, reactor = _connection(server)

    connection.write(b"frame")

    assert reactor.writers == [connection] and connection._tempDataBuffer == [b"frame"]


@pytest.mark.parametrize(
    "state",
    [
        "http",
        "closing",
        "aborting",
        "half-closed",
        "pull producer",
    ],
)
def test_other_connections_keep_twisteds_buffered_write(installed, pair, state):
    server, client = pair
    connection, reactor = _connection(server, HttpProtocol() if state == "http" else None)
    if state == "closing":
        connection.disconnecting = True
    elif state == "aborting":
        connection._aborting = True
    elif state == "half-closed":
        connection._writeDisconnected = True
    elif state == "pull producer":
        connection.producer, connection.streamingProducer = object(), False

    connection.write(b"bytes")

    if state == "half-closed":  # Twisted drops what is written after a half-close
        assert connection._tempDataLen == 0
    else:
        assert reactor.writers == [connection] and connection._tempDataBuffer == [b"bytes"]


def test_what_the_socket_does_not_take_goes_out_after_in_order(installed, pair):
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    connection, reactor = _connection(server)
    big = bytes(range(256)) * 8192  # 2 MiB: more than the socket takes at once

    def drain(received: bytearray) -> None:  # what has arrived, without waiting
        client.setblocking(False)
        try:
            while chunk := client.recv(1 << 20):
                received += chunk
        except BlockingIOError:
            pass
        finally:
            client.settimeout(5)

    connection.write(big)
    assert 0 < connection._tempDataLen < len(big) and reactor.writers
    received = bytearray(client.recv(65536))
    connection.doWrite()  # part of the rest, as the loop would: dataBuffer half sent
    assert connection.offset < len(connection.dataBuffer)
    drain(received)  # the socket could take more now, but Twisted still holds some
    connection.write(b"after")  # must queue behind that rest, not jump ahead
    while connection.offset < len(connection.dataBuffer) or connection._tempDataLen:
        drain(received)
        connection.doWrite()
    received += _receive(client, len(big) + 5 - len(received))

    assert bytes(received) == big + b"after"


def test_a_twisted_whose_transport_looks_otherwise_gets_its_own_buffered_write(
    installed, pair, monkeypatch
):
    server, client = pair
    connection, reactor = _connection(server)

    def changed(*args):
        raise AttributeError("'Connection' object has no attribute '_tempDataLen'")

    monkeypatch.setattr(daphne_writes, "_sends_now", changed)
    connection.write(b"frame")

    assert reactor.writers == [connection]
    assert connection._tempDataBuffer == [b"frame"]
