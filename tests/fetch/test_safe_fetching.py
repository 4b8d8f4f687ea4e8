"""Safe fetching: internal addresses are refused before any connection is made."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tryon.fetch.client import FetchError, FetchPolicy, fetch_bytes


class Listener:
    """A loopback socket that counts the connections made to it (and answers none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    target = Listener()
    yield target
    target.close()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every request that reaches the transport (there must be none)."""
    attempts: list[str] = []
    original = httpx.HTTPTransport.handle_request

    def recording(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        return original(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", recording)
    return attempts


def fetch(url: str, policy: FetchPolicy | None = None) -> bytes:
    return fetch_bytes(url, max_bytes=1024 * 1024, timeout=2, policy=policy)


LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::1]:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f.1:{port}/",
    "http://017700000001:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
def test_loopback_in_every_spelling_is_refused_without_connecting(
    template: str, listener: Listener, no_connections: list[str]
) -> None:
    with pytest.raises(FetchError, match="not allowed"):
        fetch(template.format(port=listener.port))
    assert listener.connections == 0
    assert no_connections == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://10.255.255.254/",
        "http://172.16.0.1/",
        "http://172.31.255.254/",
        "http://192.168.1.1/",
        "http://[fc00::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ],
)
def test_internal_and_metadata_addresses_are_refused(url: str, no_connections: list[str]) -> None:
    with pytest.raises(FetchError, match="not allowed"):
        fetch(url)
    assert no_connections == []


def test_a_name_that_resolves_to_loopback_is_refused(
    listener: Listener, no_connections: list[str]
) -> None:
    policy = FetchPolicy(resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(FetchError, match="not allowed"):
        fetch(f"http://images.shop.example:{listener.port}/a.jpg", policy)
    assert listener.connections == 0 and no_connections == []


def test_a_name_with_one_internal_address_among_public_ones_is_refused(
    no_connections: list[str],
) -> None:
    policy = FetchPolicy(resolve=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(FetchError, match="not allowed"):
        fetch("http://mixed.example/a.jpg", policy)
    assert no_connections == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch(url)


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[tuple[ThreadingHTTPServer, dict[str, tuple[int, dict[str, str], bytes]]]]:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, routes
    server.shutdown()
    server.server_close()


def test_allowed_origin_is_fetched_and_host_header_kept(origin) -> None:  # type: ignore[no-untyped-def]
    server, routes = origin
    routes["/a.jpg"] = (200, {}, b"image-bytes")
    port = server.server_address[1]
    policy = FetchPolicy.from_allow_list([f"127.0.0.1:{port}"])
    policy = FetchPolicy(
        policy.allowed_networks, policy.allowed_endpoints, lambda h, p: ["127.0.0.1"]
    )
    assert fetch(f"http://shop.example:{port}/a.jpg", policy) == b"image-bytes"


def test_redirect_to_loopback_is_rechecked_and_refused(origin, listener: Listener) -> None:  # type: ignore[no-untyped-def]
    server, routes = origin
    port = server.server_address[1]
    routes["/a.jpg"] = (302, {"Location": f"http://localhost:{listener.port}/secret"}, b"")
    allowed = FetchPolicy.from_allow_list([f"127.0.0.1:{port}"])
    policy = FetchPolicy(
        allowed.allowed_networks,
        allowed.allowed_endpoints,
        lambda host, p: ["127.0.0.1"],  # both names resolve to loopback
    )
    with pytest.raises(FetchError, match="not allowed"):
        fetch(f"http://public.shop.example:{port}/a.jpg", policy)
    assert listener.connections == 0


def test_at_most_three_redirects(origin) -> None:  # type: ignore[no-untyped-def]
    server, routes = origin
    port = server.server_address[1]
    for hop in range(5):
        routes[f"/{hop}"] = (302, {"Location": f"/{hop + 1}"}, b"")
    routes["/5"] = (200, {}, b"done")
    policy = FetchPolicy.from_allow_list([f"127.0.0.1:{port}"])
    routes["/2"] = (302, {"Location": "/5"}, b"")
    assert fetch(f"http://127.0.0.1:{port}/0", policy) == b"done"  # 3 redirects: fine
    routes["/2"] = (302, {"Location": "/3"}, b"")
    with pytest.raises(FetchError, match="redirects"):
        fetch(f"http://127.0.0.1:{port}/0", policy)


def test_byte_cap_applies_while_streaming(origin) -> None:  # type: ignore[no-untyped-def]
    server, routes = origin
    port = server.server_address[1]
    routes["/big"] = (200, {}, b"x" * 5000)
    policy = FetchPolicy.from_allow_list([f"127.0.0.1:{port}"])
    with pytest.raises(FetchError, match="too large"):
        fetch_bytes(f"http://127.0.0.1:{port}/big", max_bytes=4000, timeout=2, policy=policy)
