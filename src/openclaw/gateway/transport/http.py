"""HTTP probes on the gateway port: `/health[z]`, `/ready[z]`, `/startup[z]` (GET/HEAD only), the
canvas routes, and whether an HTTP caller is local or authenticated.

Probes answer anyone the browser rules let through (kubelets send no `Origin` and name the pod
IP); only local or authenticated callers see details.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw import __version__
from openclaw.gateway.auth import check_bearer, client_of
from openclaw.locality import is_local_request

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from openclaw.gateway.httpapi.state import HttpApiState
    from openclaw.gateway.state.context import GatewayContext
    from openclaw.gateway.transport.sidecars import Sidecars

JSON_HEADERS = {"Cache-Control": "no-store"}


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, headers=JSON_HEADERS,
                        content_type="application/json", charset="utf-8")


def _no_canvas() -> web.Response:
    return web.Response(status=404, text="canvas host is disabled\n")


def _authorized(request: web.Request, gateway: GatewayContext) -> bool:
    """A direct local request, or a bearer token/password (a wrong one counts towards the
    lockout, so probes are no way around it): both see probe details and the canvas."""
    local = is_local_request(request)
    if local or gateway.settings.auth.mode == "none":
        return local
    return check_bearer(request.headers.get("Authorization"), gateway.settings.auth, gateway.rate_limiter,
                        client_of(request, gateway.settings), local, count_missing=False).ok


def add_canvas_routes(app: web.Application, gateway: GatewayContext, sidecars: Sidecars) -> None:
    """The canvas on the gateway port (`/__openclaw__/canvas/`), for local or authenticated callers."""

    def allowed(request: web.Request) -> web.Response | None:
        if not _authorized(request, gateway):
            return web.json_response({"error": "Unauthorized", "code": "UNAUTHORIZED"}, status=401)
        return None

    async def files(request: web.Request) -> web.StreamResponse:
        refused, canvas = allowed(request), sidecars.canvas
        if refused is not None or canvas is None:
            return refused or _no_canvas()
        return await canvas.serve(request, request.match_info["tail"])

    async def live(request: web.Request) -> web.StreamResponse:
        refused, canvas = allowed(request), sidecars.canvas
        if refused is not None or canvas is None:
            return refused or _no_canvas()
        return await canvas.websocket(request)

    async def bare(_: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/__openclaw__/canvas/")

    app.router.add_route("*", "/__openclaw__/canvas", bare)
    app.router.add_route("*", "/__openclaw__/canvas/{tail:.*}", files)
    app.router.add_get("/__openclaw__/ws", live)


def add_http_routes(app: web.Application, gateway: GatewayContext,
                    http_api: Callable[[], HttpApiState | None]) -> None:
    """`http_api`: the OpenAI-compatible endpoints' state, once made (its request bodies show in `/readyz`)."""

    def guard(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if request.method not in ("GET", "HEAD"):
                return web.Response(status=405, text="Method Not Allowed", headers={"Allow": "GET, HEAD"})
            return await handler(request)

        return wrapped

    async def health(_: web.Request) -> web.Response:
        return _json({"ok": True, "status": "live"})

    async def startup(request: web.Request) -> web.Response:
        status = "draining" if gateway.draining else ("started" if gateway.started else "starting")
        ok = status == "started"
        body: dict[str, Any] = {"ok": ok, "status": status}
        if _authorized(request, gateway):
            body.update(version=__version__, uptimeMs=gateway.uptime_ms())
            if status == "starting":
                body["pendingReason"] = "startup-sidecars"
        return _json(body, 200 if ok else 503)

    async def ready(request: web.Request) -> web.Response:
        failing = ["gateway-draining"] if gateway.draining else ([] if gateway.started else ["startup-sidecars"])
        ok = not failing
        body: dict[str, Any] = {"ready": ok}
        if _authorized(request, gateway):
            body.update(failing=failing, uptimeMs=gateway.uptime_ms())
            channels, api = gateway.services.channels, http_api()
            if channels is not None and channels.suppressed:
                body["suppressed"] = sorted(channels.suppressed)
            if api is not None:  # request bodies held now and at most (bounded)
                body["httpBodies"] = api.bodies.stats()
        return _json(body, 200 if ok else 503)

    for path, handler in (("/health", health), ("/healthz", health), ("/startup", startup),
                          ("/startupz", startup), ("/ready", ready), ("/readyz", ready)):
        app.router.add_route("*", path, guard(handler))
