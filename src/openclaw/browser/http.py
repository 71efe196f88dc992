"""The browser control HTTP server on 127.0.0.1:<controlPort> (never any other address).

Every request must name a loopback host (a page that rebinds its own DNS
name to 127.0.0.1 still sends that name), mutating requests from a page on
another site are refused, both before auth; then the gateway's token
(Bearer) or password is required.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from openclaw.locality import has_loopback_host, is_loopback_name
from openclaw.sharedsecret import AuthConfig, presents_secret

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _error(status: int, message: str, code: str) -> web.Response:
    return web.json_response({"error": message, "code": code}, status=status)


def _loopback_url(value: str) -> bool:
    """The URL's host is loopback, parsed exactly (`127.0.0.1.evil.example` is not)."""
    try:
        return is_loopback_name(urlsplit(value).hostname)
    except ValueError:
        return False


def cross_site(request: web.Request) -> bool:
    """True for a mutating request that a web page on another site sent."""
    if request.method not in MUTATING:
        return False
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == "null" or not _loopback_url(origin)
    referer = request.headers.get("Referer")
    return referer is not None and not _loopback_url(referer)


def authorized(request: web.Request, auth: AuthConfig) -> bool:
    if auth.mode == "none" and not (auth.token or auth.password):
        return True
    header = request.headers.get("Authorization", "")
    presented: list[str] = []
    if header.lower().startswith("bearer "):
        presented.append(header[7:].strip())
    elif header.lower().startswith("basic "):
        with contextlib.suppress(ValueError, IndexError):
            presented.append(base64.b64decode(header[6:]).decode().split(":", 1)[1])
    if request.headers.get("x-openclaw-password"):
        presented.append(request.headers["x-openclaw-password"])
    return presents_secret(auth, presented)


def control_app(service: Any, auth: Any) -> web.Application:
    """`service` and `auth` are callables (the BrowserService, the current AuthConfig): both are
    looked up per request, so the browser stack loads on first use and auth follows hot reloads."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if not has_loopback_host(request.headers):
            return _error(403, "requests must name a loopback host (127.0.0.1 or localhost)", "FORBIDDEN")
        if cross_site(request):
            return _error(403, "cross-site request refused", "FORBIDDEN")
        if not authorized(request, auth()):
            return _error(401, "Unauthorized", "UNAUTHORIZED")
        body: dict[str, Any] = {}
        if request.can_read_body:
            try:
                parsed = json.loads(await request.text() or "{}")
            except (ValueError, RecursionError):
                return _error(400, "body must be JSON", "BAD_REQUEST")
            if not isinstance(parsed, dict):
                return _error(400, "body must be a JSON object", "BAD_REQUEST")
            body = parsed
        from openclaw.browser.routes import dispatch

        status, payload = await dispatch(service(), request.method, request.path, dict(request.query), body)
        return web.json_response(payload, status=status)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
