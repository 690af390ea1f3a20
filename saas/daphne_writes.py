"""Websocket frames leave daphne at once, not on the event loop's next turn.

Twisted's TCP transport never sends inside ``write``: it buffers the bytes, registers
the socket for writing (an ``epoll_ctl``), sends when the loop next reports the socket
writable, then unregisters it (another ``epoll_ctl``). A live event to 1,000 sockets is
1,000 such round trips through the loop; with daphne under bench/realtime.py's load
they were a quarter of its CPU (py-spy: ``doWrite``, ``add_writer``/``remove_writer``).

``install()`` makes ``write`` on a websocket connection try the send first when nothing
is waiting in the buffers, as asyncio's own transports do. Whatever the socket does
not take at once (a slow reader, a full send buffer) goes through Twisted's buffer as
before, after what was sent, so the order of bytes is kept.

Only websocket connections, which autobahn configures without Nagle's algorithm
(``tcpNoDelay``, on by default) and writes a frame at a time; the option is applied to
the socket here, before the first direct send (autobahn's Twisted protocol tries to
before it has copied its options, so the socket kept Nagle). Two frames sent in a row
then leave as they are written instead of the second waiting for the first one's
acknowledgement. HTTP responses, written in parts, and TLS connections keep Twisted's
path.

There is no extension point for this in daphne or Twisted, so it replaces
``twisted.internet.tcp.Connection.write``; ``saas.asgi`` installs it when daphne serves
the application.
"""

from __future__ import annotations


def _immediate(connection, data) -> bytes:
    """Send what the socket takes now; the bytes it did not take."""
    protocol = connection.protocol
    if (
        not data
        or connection.TLS
        or not connection.connected
        or connection._writeDisconnected
        or connection._tempDataLen
        or connection.offset != len(connection.dataBuffer)
        or not getattr(protocol, "tcpNoDelay", False)  # autobahn's websocket protocols
    ):
        return data
    if not getattr(connection, "_sends_at_once", False):
        connection.setTcpNoDelay(True)
        connection._sends_at_once = True
    sent = connection.writeSomeData(data)
    if not isinstance(sent, int):  # the connection is lost: Twisted's path reports it
        return data
    return data[sent:]


def install() -> None:
    from twisted.internet import tcp

    if getattr(tcp.Connection.write, "immediate", False):
        return
    buffered_write = tcp.Connection.write

    def write(self, data):
        try:
            rest = _immediate(self, data)
        except AttributeError:  # a Twisted whose transports look otherwise: its own path
            rest = data
        if rest:
            buffered_write(self, rest)

    write.immediate = True
    tcp.Connection.write = write
