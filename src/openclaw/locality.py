"""Is this request local? Exact parsing of hosts, `Host` headers and browser origins.

Shared by every HTTP surface (gateway, browser control, canvas). A request is
local only when it comes from a loopback peer, through no proxy, and names a
loopback host: a DNS-rebinding page reaches us from loopback too, but under
its own host name. Which client a request is from is its peer address, or,
when that peer is a proxy named in `gateway.trustedProxies`, the address the
proxy reports in `X-Forwarded-For`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

FORWARD_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


def _valid_host(host: str) -> bool:
    """A DNS name or an IP literal (urlsplit lets spaces and much else through)."""
    if _NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RequestLike(Protocol):
    @property
    def remote(self) -> str | None: ...

    @property
    def headers(self) -> object: ...


def is_loopback_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def is_loopback_name(host: str | None) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1, spelled exactly (no `127.0.0.1.evil.example`)."""
    if not host:
        return False
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host == "localhost" or is_loopback_ip(host)


def split_host_header(value: str | None) -> tuple[str, int | None] | None:
    """`Host` header -> (lower-case host, port or None); None when it is not a host[:port]."""
    if not value:
        return None
    try:
        parts = urlsplit(f"//{value.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    host = host.rstrip(".")
    return (host, port) if _valid_host(host) else None


def parse_origin(origin: str | None) -> tuple[str, str, int] | None:
    """`Origin` header -> (scheme, host, port with the scheme's default filled in); None if opaque or odd."""
    if not origin or origin == "null":
        return None
    try:
        parts = urlsplit(origin.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or parts.path not in ("", "/"):
        return None
    host = host.rstrip(".")
    if not _valid_host(host):
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def format_origin(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


def has_loopback_host(headers: object) -> bool:
    hp = split_host_header(headers.get("Host"))  # type: ignore[attr-defined]
    return hp is not None and is_loopback_name(hp[0])


def is_local_request(request: RequestLike) -> bool:
    """Loopback peer, no proxy headers, and a loopback `Host` (what upstream calls direct-local)."""
    headers = request.headers
    return (is_loopback_ip(request.remote or "")
            and not any(h in headers for h in FORWARD_HEADERS)  # type: ignore[operator]
            and has_loopback_host(headers))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue  # the config's validation names bad entries; here they match nothing
    return tuple(out)


def parse_proxy_entry(entry: str) -> bool:
    """An address or CIDR block, as `gateway.trustedProxies` takes them."""
    try:
        ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return False
    return True


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr.version == net.version and addr in net for net in networks)


def client_address(remote: str | None, headers: object, trusted_proxies: Iterable[str] = ()) -> str:
    """The address a request is from: its peer, or, when the peer is a trusted proxy, the last
    address in `X-Forwarded-For` that is not itself a trusted proxy (hops further left were written
    by the client itself and are not believed)."""
    peer = remote or "?"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(_address(peer), networks):
        return peer
    values = headers.getall("X-Forwarded-For", []) if hasattr(headers, "getall") else [
        headers.get("X-Forwarded-For")]  # type: ignore[attr-defined]
    hops = [_address(h) for value in values if value for h in value.split(",")]
    for addr in reversed(hops):
        if addr is None:
            return peer  # a hop the proxies wrote that is not an address: keep to the proxy
        if not _trusted(addr, networks):
            return str(addr)
    return str(hops[0]) if hops else peer  # proxies all the way: the first one saw the client
