"""The Control UI on the gateway port: `/` (or `gateway.controlUi.basePath`) serves the page to
browsers and keeps accepting WebSocket upgrades for the protocol, as upstream's port does. With
`gateway.controlUi.root` set, the UI is the build in that folder (upstream's own, for one) instead
of ours; `/control-ui-config.json` describes the gateway to either.

The UI's code is only imported by the first page request; a gateway that is never browsed to
carries none of it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from openclaw.gateway.transport.browserrules import applies_own_rules, is_upgrade

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
VIEWS = ("overview", "chat", "channels", "config", "logs", "browser", "instances")


def add_page_routes(app: web.Application, gateway: GatewayContext, protocol: Handler) -> None:
    """`protocol` answers WebSocket upgrades (and, with the UI off, plain requests with 426); its
    handshake applies the browser rules to upgrades, with upstream's exact errors."""
    snap = gateway.settings.snapshot
    enabled = snap.get("gateway", "controlUi", "enabled") is not False
    from openclaw.controlui.paths import normalize_base_path  # a leaf: no UI code is loaded by it

    base = normalize_base_path(snap.get("gateway", "controlUi", "basePath"))
    configured = snap.get("gateway", "controlUi", "root")
    root = os.path.abspath(os.path.expanduser(configured)) if isinstance(configured, str) and configured else None

    @applies_own_rules
    async def landing(request: web.Request) -> web.StreamResponse:
        if is_upgrade(request) or not enabled:
            return await protocol(request)
        if base:
            raise web.HTTPFound(f"{base}/")
        return await _page(base, root)

    @applies_own_rules
    async def page(request: web.Request) -> web.StreamResponse:
        if is_upgrade(request):
            return await protocol(request)
        if not enabled:
            return await _disabled()
        return await _page(base, root)

    async def ui_config(request: web.Request) -> web.StreamResponse:
        from openclaw.gateway.transport import uiconfig

        return await uiconfig.answer(request, gateway, base)

    @applies_own_rules
    async def build_file(request: web.Request) -> web.StreamResponse:
        """A file of the configured build, or its page for the app's own paths."""
        if is_upgrade(request):
            return await protocol(request)
        if not enabled or root is None:
            return await _disabled()
        from openclaw.controlui import rootdir

        return await rootdir.serve(root, base, request.match_info["tail"], request.headers.get("Accept", ""))

    async def asset(request: web.Request) -> web.StreamResponse:
        if not enabled:
            return await _disabled()
        from openclaw.controlui import serve

        return await serve.asset(request.match_info["name"], request.headers.get("If-None-Match"))

    from openclaw.gateway.transport.uiconfig import config_paths

    for path in config_paths(base):
        app.router.add_get(path, ui_config)
    app.router.add_get("/", landing)
    if base:
        app.router.add_get(base, page)
        app.router.add_get(f"{base}/", page)
    if root is not None:  # last: every other path below the base path is the build's
        app.router.add_get(f"{base}/{{tail:.+}}", build_file)
        return
    for view in VIEWS:
        app.router.add_get(f"{base}/{view}", page)
    app.router.add_get(f"{base}/assets/{{name:.+}}", asset)


async def _page(base: str, root: str | None) -> web.StreamResponse:
    if root is not None:
        from openclaw.controlui import rootdir

        return await rootdir.page(root, base)
    from openclaw.controlui import serve

    return await serve.page(base)


async def _disabled() -> web.StreamResponse:
    from openclaw.controlui import serve

    return serve.disabled()
