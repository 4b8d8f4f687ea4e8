"""The one way the server downloads a URL: safe against server-side request forgery.

Every hop (the URL and each redirect, at most 3) is checked the same way: http/https only; the
host name is resolved once, every address it resolves to must be public (no loopback, private,
link-local/cloud metadata, multicast, reserved or unspecified address, also in IPv4-mapped IPv6,
decimal or octal spellings, which the resolver turns into the same addresses); then the
connection goes to the checked address itself, with the original name for the Host header and
TLS (SNI and certificate), so a second DNS answer cannot swap in another address. Connect and read
timeouts and a byte cap apply while streaming. What the bytes are is decided by the image intake
from the bytes, never from the response headers.

An allow-list (``TRYON_FETCH_ALLOW``: CIDR networks, or ``host:port`` pairs) lets tests and
private deployments reach addresses that are refused otherwise.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_REDIRECTS = 3
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The URL could not be downloaded; the message is safe to show to the caller."""


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched beyond public addresses, and how names are resolved."""

    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_endpoints: frozenset[tuple[str, int]] = frozenset()
    resolve: Callable[[str, int], list[str]] = field(default=_system_resolve, compare=False)

    @classmethod
    def from_allow_list(cls, entries: Sequence[str]) -> FetchPolicy:
        networks = []
        endpoints = set()
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            host, _, port = entry.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"fetch allow-list entry {entry!r}: use a CIDR or host:port")
            endpoints.add((str(ipaddress.ip_address(host.strip("[]"))), int(port)))
        return cls(tuple(networks), frozenset(endpoints))

    def permits(self, address: IPAddress, port: int) -> bool:
        if (str(address), port) in self.allowed_endpoints:
            return True
        if any(address in network for network in self.allowed_networks):
            return True
        return is_public(address)


def is_public(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address.sixtofour is not None or address.teredo is not None:
            return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_private
        and not address.is_unspecified
    )


@dataclass(frozen=True)
class _Target:
    url: str  # the URL with the checked address in place of the host name
    host_header: str
    server_name: str


def _check(url: str, policy: FetchPolicy) -> _Target:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("only http and https URLs can be fetched")
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are not fetched")
    host = parts.hostname
    if not host:
        raise FetchError("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise FetchError("the URL has an invalid port") from exc
    try:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in policy.resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise FetchError("the host name could not be resolved") from exc
    if not addresses:
        raise FetchError("the host name could not be resolved")
    # Every address must pass: a name that also resolves to an internal address is refused.
    if not all(policy.permits(address, port) for address in addresses):
        raise FetchError("the address of this host is not allowed")
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    default_port = port == (443 if parts.scheme.lower() == "https" else 80)
    netloc = literal if default_port else f"{literal}:{port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return _Target(
        urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        host_header,
        host,
    )


def fetch_bytes(
    url: str, *, max_bytes: int, timeout: float, policy: FetchPolicy | None = None
) -> bytes:
    """GET ``url`` and return its body; FetchError on any failure, refusal or size overrun."""
    policy = policy or FetchPolicy()
    current = url
    timeouts = httpx.Timeout(timeout, connect=min(timeout, 5.0))
    try:
        with httpx.Client(timeout=timeouts, follow_redirects=False, trust_env=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                target = _check(current, policy)
                request = client.build_request(
                    "GET",
                    target.url,
                    headers={"Host": target.host_header, "Accept": "image/*"},
                    extensions={"sni_hostname": target.server_name},
                )
                response = client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError("redirect without a location")
                        current = str(httpx.URL(current).join(location))
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"the server answered {response.status_code}")
                    return _read_capped(response, max_bytes)
                finally:
                    response.close()
            raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as exc:
        raise FetchError("the download timed out") from exc
    except httpx.HTTPError as exc:
        raise FetchError("the download failed") from exc


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("the file is too large")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise FetchError("the file is too large")
        chunks.append(chunk)
    return b"".join(chunks)
