"""One set of browser rules for every request on the gateway port, WebSocket or HTTP.

A web page can make a browser send requests to the gateway: from another site
(its `Origin` says so), or from its own name rebound in DNS to 127.0.0.1 (its
`Host` says so). Both are refused by the same function, whichever way the
request came: the WebSocket handshake calls it with what `connect` saw, an HTTP
middleware calls it for every other route. Callers that are not browsers send
no `Origin`; they are held by the `Host` rule (gateway auth `none`) and by the
secret (token or password) alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import hdrs, web

from openclaw.locality import DEFAULT_PORTS, format_origin, is_loopback_name, parse_origin, split_host_header

ORIGIN_NOT_ALLOWED = ("origin not allowed (open the Control UI from the gateway host or allow it in "
                      "gateway.controlUi.allowedOrigins)")
HOST_NOT_ALLOWED = ("host not allowed (a gateway without auth answers requests for 127.0.0.1 or localhost only; "
                    "set gateway.auth.token to reach it by another name)")
OWN_RULES = "_applies_browser_rules"  # set on a route handler whose upgrades run the rules in their handshake

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def origin_allowed(origin: str, host: str | None, allowed: Iterable[str], auth_mode: str) -> bool:
    """A browser page may connect from an allow-listed origin, from loopback to a loopback Host,
    or from the gateway's own origin when a secret guards it (never with auth `none`: a page
    that rebinds its own DNS name to 127.0.0.1 is same-origin with itself)."""
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    if format_origin(parsed) in {o.rstrip("/").lower() for o in allowed}:
        return True
    target = split_host_header(host)
    if target is None:
        return False
    if is_loopback_name(parsed[1]) and is_loopback_name(target[0]):
        return True
    same = parsed[1] == target[0] and parsed[2] == (target[1] or DEFAULT_PORTS[parsed[0]])
    return same and auth_mode != "none"


def host_allowed(host: str | None, auth_mode: str) -> bool:
    """Without a secret, only a loopback `Host`: a rebinding page names its own host."""
    if auth_mode != "none":
        return True
    target = split_host_header(host)
    return target is not None and is_loopback_name(target[0])


def problem(origin: str | None, host: str | None, allowed: Iterable[str], auth_mode: str) -> str | None:
    """Why a request with these headers is refused, or None when it may go on."""
    if not host_allowed(host, auth_mode):
        return HOST_NOT_ALLOWED
    if origin is not None and not origin_allowed(origin, host, allowed, auth_mode):
        return ORIGIN_NOT_ALLOWED
    return None


def request_problem(request: web.Request, allowed: Iterable[str], auth_mode: str) -> str | None:
    return problem(request.headers.get(hdrs.ORIGIN), request.headers.get(hdrs.HOST), allowed, auth_mode)


def applies_own_rules(handler: Any) -> Any:
    """Mark a route whose WebSocket upgrades are checked by their handshake (with upstream's exact
    errors) instead of being refused before the upgrade."""
    setattr(handler, OWN_RULES, True)
    return handler


def is_upgrade(request: web.Request) -> bool:
    return "websocket" in request.headers.get(hdrs.UPGRADE, "").lower()


def middleware(settings: Callable[[], Any]) -> Any:
    """Every route on the port: refused with 403 before its handler runs. `settings()` is the
    gateway's current settings (auth mode, allowed origins)."""

    @web.middleware
    async def browser_rules(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_upgrade(request) and getattr(request.match_info.handler, OWN_RULES, False):
            return await handler(request)
        current = settings()
        refused = request_problem(request, current.allowed_origins, current.auth.mode)
        if refused is None:
            return await handler(request)
        return web.json_response({"ok": False, "error": {"type": "forbidden", "message": refused}}, status=403,
                                 headers={"Cache-Control": "no-store"})

    return browser_rules
