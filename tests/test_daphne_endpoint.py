"""The product's daphne listens with a backlog that takes a reconnect storm."""

from __future__ import annotations

import pytest
from twisted.internet import endpoints

from saas.start import DAPHNE_ARGS, LISTEN_BACKLOG, daphne_arguments


@pytest.mark.parametrize(
    ("host", "interface"),
    [("0.0.0.0", "0.0.0.0"), ("127.0.0.1", "127.0.0.1"), ("::", "::"), ("::1", "::1")],
)
def test_endpoint_parses_with_the_backlog(host, interface):
    arguments = daphne_arguments(host, "8000")
    assert arguments[0] == "-e"
    assert arguments[2:] == DAPHNE_ARGS
    # Parsing only stores the reactor: none is imported (that would install Twisted's
    # default one in this process, where daphne's tests want asyncio's).
    server = endpoints.serverFromString(object(), arguments[1])
    assert server._port == 8000
    assert server._interface == interface
    assert server._backlog == LISTEN_BACKLOG > 50  # Twisted's default dropped handshakes


def test_port_must_be_a_number():
    with pytest.raises(ValueError):
        daphne_arguments("0.0.0.0", "8000; rm")
