"""The tests themselves run offline: the socket guard in conftest refuses anything but loopback."""

import socket

import pytest


def test_a_connection_off_this_machine_is_refused():
    with socket.socket() as s, pytest.raises(OSError, match="reach no network"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as c:
            c.connect(server.getsockname())
            assert c.getpeername()[0] == "127.0.0.1"
