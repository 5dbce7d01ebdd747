"""The suite's network guard (pytest-socket, configured in tests/conftest.py): a test may reach loopback only.

The fake providers, the live server, Redis and PostgreSQL all listen on 127.0.0.1; any other outbound connection
(a real provider, a recording URL on the internet) fails the test instead of leaving the machine.
"""

import socket
import threading

import pytest
import requests
from pytest_socket import SocketConnectBlockedError

TEST_NET = "192.0.2.1"  # RFC 5737 TEST-NET-1: never routed

pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")  # the guard warns too


def test_a_connection_to_a_non_loopback_address_fails_with_the_guards_error():
    with socket.socket() as sock, pytest.raises(SocketConnectBlockedError, match=TEST_NET):
        sock.connect((TEST_NET, 80))


def test_an_http_request_to_a_non_loopback_address_fails_with_the_guards_error():
    # what the twilio library or a recording download would do: requests/urllib3 do not wrap the guard's error
    with pytest.raises(SocketConnectBlockedError, match=TEST_NET):
        requests.get(f"http://{TEST_NET}/", timeout=1)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_connection_to_loopback_works(host):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        accepted = []
        acceptor = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
        acceptor.start()
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"ping")
            acceptor.join(5)
            with accepted[0] as peer:
                assert peer.recv(4) == b"ping"


def test_an_ipv6_loopback_connection_works():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        server.listen(1)
        with socket.socket(socket.AF_INET6) as client:
            client.connect(("::1", server.getsockname()[1]))
            assert client.getpeername()[0] == "::1"


def test_a_unix_socket_connection_works(tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            assert client.getpeername() == path
