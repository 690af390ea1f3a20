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
