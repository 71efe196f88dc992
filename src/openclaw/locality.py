"""Is this request local? Exact parsing of hosts, `Host` headers and browser origins.

Shared by every HTTP surface (gateway, browser control, canvas). A request is
local only when it comes from a loopback peer, through no proxy, and names a
loopback host: a DNS-rebinding page reaches us from loopback too, but under
its own host name.
"""

from __future__ import annotations

import ipaddress
import re
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
