"""A text sent to many websockets is framed once (saas.daphne_writes.install_shared_frames):
the bytes on the wire are exactly daphne's own, and anything unusual takes daphne's path."""

from __future__ import annotations

import pytest
from autobahn.websocket.protocol import WebSocketServerProtocol
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet.address import IPv4Address

from saas import daphne_writes


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writeSequence(self, data) -> None:  # noqa: N802 - Twisted's name
        self.written.extend(data)

    def getPeer(self):  # noqa: N802
        return IPv4Address("TCP", "127.0.0.1", 50000)

    def getHost(self):  # noqa: N802
        return IPv4Address("TCP", "127.0.0.1", 8000)

    def setTcpNoDelay(self, enabled) -> None:  # noqa: N802
        pass

    def loseConnection(self) -> None:  # noqa: N802
        pass

    def abortConnection(self) -> None:  # noqa: N802
        pass


@pytest.fixture
def factory():
    factory = WebSocketFactory(object())
    factory.setProtocolOptions(maxMessagePayloadSize=1000)
    return factory


@pytest.fixture
def shared(monkeypatch):
    original = getattr(WebSocketProtocol.serverSend, "per_socket", WebSocketProtocol.serverSend)
    monkeypatch.setattr(WebSocketProtocol, "serverSend", original)  # restored after
    daphne_writes.install_shared_frames()
    daphne_writes.install_shared_frames()  # a second call changes nothing
    assert WebSocketProtocol.serverSend.per_socket is original
    return original


def socket_of(factory) -> WebSocketProtocol:
    """A daphne websocket, open, as after its handshake."""
    protocol = factory.buildProtocol(("127.0.0.1", 50000))
    protocol.transport = Transport()
    WebSocketServerProtocol._connectionMade(protocol)
    protocol.state = protocol.STATE_OPEN
    protocol.websocket_version = 13
    protocol.client_addr = ["127.0.0.1", 50000]
    return protocol


def test_every_socket_gets_daphnes_own_bytes_from_a_frame_built_once(shared, factory, monkeypatch):
    prepared = []
    prepare = factory.prepareMessage
    monkeypatch.setattr(
        factory,
        "prepareMessage",
        lambda payload, **options: prepared.append(payload) or prepare(payload, **options),
    )
    text = '{"type": "event", "id": 7, "event": {"subject": "چاپگر کار نمی‌کند"}}'
    sockets = [socket_of(factory) for _ in range(3)]
    by_daphne = socket_of(factory)

    for protocol in sockets:
        WebSocketProtocol.serverSend(protocol, text)
    shared(by_daphne, text)  # daphne's own serverSend

    assert len(prepared) == 1
    expected = b"".join(by_daphne.transport.written)
    assert expected[:1] == b"\x81" and expected.endswith(text.encode())
    assert all(b"".join(p.transport.written) == expected for p in sockets)
    counted = sockets[0].trafficStats
    assert counted.outgoingWebSocketMessages == by_daphne.trafficStats.outgoingWebSocketMessages
    assert counted.outgoingOctetsAppLevel == by_daphne.trafficStats.outgoingOctetsAppLevel

    WebSocketProtocol.serverSend(sockets[0], "".join(["another ", "text"]))
    assert len(prepared) == 2  # a new text object is framed anew
    assert sockets[0].transport.written[-1] == b"\x81\x0canother text"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_the_frame_is_daphnes_own_at_every_length_header(shared, size):
    factory = WebSocketFactory(object())  # no payload limit: daphne's default is 1 MiB
    text = ("ی" * size)[: size // 2] + "x" * (size - 2 * (size // 2))  # 2-byte letters
    assert len(text.encode()) == size
    ours, by_daphne = socket_of(factory), socket_of(factory)

    WebSocketProtocol.serverSend(ours, text)
    shared(by_daphne, text)

    assert b"".join(ours.transport.written) == b"".join(by_daphne.transport.written)
    assert ours.trafficStats.outgoingWebSocketFrames == 1


@pytest.mark.parametrize(
    "option", ["autoFragmentSize", "maskServerFrames", "logFrames", "trackedTimings"]
)
def test_sockets_whose_frames_or_sends_differ_take_daphnes_path(shared, option, monkeypatch):
    from autobahn.websocket.protocol import Timings

    factory = WebSocketFactory(object())
    prepared = []
    monkeypatch.setattr(factory, "prepareMessage", lambda payload, **o: prepared.append(payload))
    protocol = socket_of(factory)
    setattr(
        protocol, option, {"autoFragmentSize": 4, "trackedTimings": Timings()}.get(option, True)
    )

    WebSocketProtocol.serverSend(protocol, "fragment me")

    assert prepared == []
    assert protocol.transport.written  # daphne's own sendMessage wrote it


def test_a_socket_not_open_or_a_payload_over_the_limit_takes_daphnes_path(shared, factory):
    from autobahn.exception import Disconnected, PayloadExceededError

    closing = socket_of(factory)
    closing.state = closing.STATE_CLOSING
    with pytest.raises(Disconnected):
        WebSocketProtocol.serverSend(closing, "late")
    assert closing.transport.written == []

    with pytest.raises(PayloadExceededError):
        WebSocketProtocol.serverSend(socket_of(factory), "x" * 1001)


def test_binary_data_and_compressed_sockets_are_framed_by_daphne(shared, factory, monkeypatch):
    class Deflate:  # a negotiated permessage-deflate, compressing nothing
        def start_compress_message(self) -> None:
            pass

        def compress_message_data(self, data: bytes) -> bytes:
            return data

        def end_compress_message(self) -> bytes:
            return b""

    prepared = []
    monkeypatch.setattr(factory, "prepareMessage", lambda payload, **o: prepared.append(payload))

    binary = socket_of(factory)
    WebSocketProtocol.serverSend(binary, b"\x00\x01", binary=True)
    compressed = socket_of(factory)
    compressed._perMessageCompress = Deflate()
    WebSocketProtocol.serverSend(compressed, "text")

    assert prepared == []
    assert b"".join(binary.transport.written) == b"\x82\x02\x00\x01"
    assert b"".join(compressed.transport.written) == b"\xc1\x04text"  # RSV1: compressed
