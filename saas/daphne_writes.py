"""Websocket frames leave daphne at once, not on the event loop's next turn.

Twisted's TCP transport never sends inside ``write``: it buffers the bytes, registers
the socket for writing (an ``epoll_ctl``), sends when the loop next reports the socket
writable, then unregisters it (another ``epoll_ctl``). A live event to 1,000 sockets is
1,000 such round trips through the loop; with daphne under bench/realtime.py's load
they were a quarter of its CPU (py-spy: ``doWrite``, ``add_writer``/``remove_writer``).

``install()`` makes ``write`` on a websocket connection try the send first when nothing
is waiting in Twisted's buffers, as asyncio's own transports do. Whatever the socket
does not take at once (a slow reader, a full send buffer) goes through Twisted's buffer
as before, after what was sent, so the order of bytes is kept.

Only autobahn's websocket connections (daphne's ``WebSocketProtocol``), which write a
frame at a time on sockets without Nagle's algorithm (Twisted's ``HTTPChannel`` sets
``TCP_NODELAY`` on every connection daphne accepts, before the upgrade). HTTP
responses, TLS, a connection that is closing or aborting, and one with a pull
producer (which Twisted asks for more only from its deferred write) keep Twisted's path.

There is no extension point for this in daphne or Twisted, so it replaces
``twisted.internet.tcp.Connection.write``; ``saas.asgi`` installs it. Only daphne
serves through Twisted's transports: under another server it changes nothing.
"""

from __future__ import annotations


def _sends_now(connection, data, websocket_protocol: type) -> bool:
    """Whether ``data`` may go straight to the socket: a websocket frame with nothing
    queued before it, on a connection that is open and not being closed."""
    return (
        type(data) is bytes
        and bool(data)
        and isinstance(connection.protocol, websocket_protocol)
        and not connection.TLS
        and bool(connection.connected)
        and not connection.disconnecting
        and not connection._aborting
        and not connection._writeDisconnected
        and not connection._tempDataLen
        and connection.offset == len(connection.dataBuffer)
        and (connection.producer is None or connection.streamingProducer)
    )


def install() -> None:
    from autobahn.twisted.websocket import WebSocketServerProtocol
    from twisted.internet import tcp

    if getattr(tcp.Connection.write, "immediate", False):
        return
    buffered_write = tcp.Connection.write

    def write(self, data):
        try:
            now = _sends_now(self, data, WebSocketServerProtocol)
        except AttributeError:  # a Twisted whose transports look otherwise: its own path
            now = False
        if now:
            sent = self.writeSomeData(data)
            if isinstance(sent, int):  # else the connection is lost: Twisted reports it
                data = data[sent:]
        if data:
            buffered_write(self, data)

    write.immediate = True
    write.buffered = buffered_write  # Twisted's own
    tcp.Connection.write = write


def _frames_once(protocol, content, binary) -> bool:
    """Whether a text may go out as a frame built once for every socket it is sent to:
    an open websocket whose frames are plain (no compression, fragmentation or masking)
    and whose sends are not logged or timed frame by frame."""
    return (
        not binary
        and type(content) is str
        and protocol.state == protocol.STATE_OPEN
        and protocol._perMessageCompress is None
        and not protocol.autoFragmentSize
        and not protocol.maskServerFrames
        and not protocol.logFrames
        and not protocol.trackedTimings
    )


def install_shared_frames() -> None:
    """The hub hands the same text object to every socket of a group: frame it once.

    Daphne sends each text with autobahn's ``sendMessage``, which builds the websocket
    frame anew for every socket: a fifth to a quarter of a delivery's time under
    bench/realtime.py. Autobahn's own broadcast API builds it once
    (``prepareMessage``) and writes it to each socket (``sendPreparedMessage``); daphne
    does not use it, so ``WebSocketProtocol.serverSend`` is wrapped to: a socket given
    the very text object the previous one was gets the frame already built. Anything
    else (binary data, a socket not open, compression, fragmentation, a payload over the
    limit) takes daphne's own path, errors included.
    """
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol.serverSend, "shared_frames", False):
        return
    per_socket = WebSocketProtocol.serverSend
    last: list = [None, None, 0]  # the text, its prepared message, the payload's length

    def serverSend(self, content, binary=False):  # noqa: N802 - daphne's name
        try:
            shared = _frames_once(self, content, binary)
        except AttributeError:  # an autobahn that looks otherwise: daphne's own path
            shared = False
        if shared:
            if content is not last[0]:
                payload = content.encode("utf8")
                # doNotCompress: only uncompressed sockets come here, and the prepared
                # message then keeps the frame alone, not the payload a second time.
                prepared = self.factory.prepareMessage(payload, doNotCompress=True)
                last[:] = [content, prepared, len(payload)]
            size = last[2]
            if not 0 < self.maxMessagePayloadSize < size:
                stats = self.trafficStats  # what sendMessage and sendFrame count
                stats.outgoingWebSocketMessages += 1
                stats.outgoingWebSocketFrames += 1
                stats.outgoingOctetsAppLevel += size
                stats.outgoingOctetsWebSocketLevel += size
                self.sendPreparedMessage(last[1])
                return
        per_socket(self, content, binary)

    serverSend.shared_frames = True
    serverSend.per_socket = per_socket  # daphne's own
    WebSocketProtocol.serverSend = serverSend
