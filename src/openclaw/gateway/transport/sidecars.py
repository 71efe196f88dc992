"""The gateway's derived-port services: browser control (base + 2) and the canvas host (base + 4).

Both listen on 127.0.0.1 only. A port that cannot be bound is logged and
reported in status; the gateway itself keeps running.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw import logfile
from openclaw.agents.workspace import workspace_dir
from openclaw.errors import GatewayLockError
from openclaw.gateway.httpserve import close, serve
from openclaw.gateway.transport.bind import bind_exclusive
from openclaw.profiles.env import expand_user

if TYPE_CHECKING:
    from openclaw.canvas.host import CanvasHost
    from openclaw.gateway.settings import GatewaySettings
    from openclaw.gateway.state.context import RuntimeState
    from openclaw.gateway.state.hooks import Services

LOCALHOST = ("127.0.0.1",)
BROWSER_DEADLINE_FACTOR = 4  # a browser action may start Chromium, navigate and wait for the page


def canvas_root(settings: GatewaySettings, env: Mapping[str, str]) -> Path:
    root = settings.snapshot.get("canvasHost", "root")
    if isinstance(root, str) and root:
        return expand_user(root, env)
    return workspace_dir(settings.config, settings.paths, env) / "canvas"


class Sidecars:
    def __init__(self, state: RuntimeState, services: Services, env: Mapping[str, str]) -> None:
        self.state = state
        self.services = services
        self.env = env
        self.canvas: CanvasHost | None = None
        self._served: list[tuple[web.AppRunner, list[socket.socket]]] = []
        self.listening: dict[str, int | None] = {"browser": None, "canvas": None}

    async def prepare(self) -> None:
        """File-system work before anyone is answered: the canvas root and its starter page."""
        if self._enabled("canvasHost", "OPENCLAW_SKIP_CANVAS_HOST"):
            self.canvas = await asyncio.to_thread(self._prepare_canvas)

    def _enabled(self, section: str, skip_env: str) -> bool:
        off = (self.env.get(skip_env) or "").lower() in ("1", "true", "yes")
        return self.state.settings.snapshot.get(section, "enabled") is not False and not off

    async def start(self) -> None:
        s = self.state.settings
        if self._enabled("browser", "OPENCLAW_SKIP_BROWSER_CONTROL_SERVER"):
            from openclaw.browser.http import control_app

            app = control_app(self.services.browser, lambda: self.state.settings.auth)
            await self._serve("browser", app, s.footprint.control,
                              s.limits.http_request_ms * BROWSER_DEADLINE_FACTOR)
        if self.canvas is not None:
            await self._serve("canvas", self.canvas.app(), s.footprint.canvas)

    def _prepare_canvas(self) -> CanvasHost:
        """The canvas host and its starter page; it never serves a file inside a state dir (file
        system work: run in a thread)."""
        from openclaw.canvas.host import CanvasHost
        from openclaw.canvas.safeopen import Fence
        from openclaw.ports.instances import host_state_dirs
        from openclaw.profiles.isolation import is_workspace_name, state_dirs_near

        s = self.state.settings
        running = host_state_dirs(s.paths)  # gateways running now; profiles made later are found under home

        def fence() -> Fence:
            dirs = state_dirs_near(s.paths.home, s.paths.state_dir, running)
            return Fence.of(dirs, s.paths.state_dir, is_workspace_name)

        live_reload = s.snapshot.get("canvasHost", "liveReload") is not False
        canvas = CanvasHost(lambda: canvas_root(self.state.settings, self.env), live_reload, fence=fence)
        try:
            canvas.ensure_starter()
        except OSError as exc:
            logfile.warn(f"canvas root {canvas.root} is not writable: {exc}", subsystem="canvas")
        return canvas

    async def _serve(self, name: str, app: web.Application, port: int, request_ms: int | None = None) -> None:
        try:
            sockets = await bind_exclusive(LOCALHOST, port, retries=4, interval=0.25)
        except GatewayLockError as exc:
            logfile.error(f"{name} service not started: {exc}", subsystem=name)
            return
        self._served.append((await serve(app, sockets, self.state.settings.limits, request_ms), sockets))
        self.listening[name] = port
        logfile.info(f"{name} listening on http://127.0.0.1:{port}/", subsystem=name)

    async def stop(self) -> None:
        if self.canvas is not None:
            await self.canvas.close()
        for runner, sockets in self._served:
            await close(runner, sockets)
        self._served = []
        self.listening = {"browser": None, "canvas": None}

    def describe(self) -> dict[str, Any]:
        from openclaw.browser.profiles import BrowserConfig, summary

        s = self.state.settings
        fp = s.footprint
        browser = summary(BrowserConfig.from_config(s.config, fp, s.paths.state_dir),
                          getattr(self.services.browser_started, "browsers", {}))
        browser["listening"] = self.listening["browser"] is not None
        canvas = {"port": fp.canvas, "listening": self.listening["canvas"] is not None,
                  "root": str(canvas_root(s, self.env)), "url": f"http://127.0.0.1:{fp.canvas}/"}
        return {"browser": browser, "canvas": canvas}
