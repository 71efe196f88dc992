"""The gateway server: one port for the WebSocket protocol and HTTP, read top-down.

`start()` binds and begins serving, `wait()` returns when a stop or restart is
requested, `shutdown()` tells every client and closes them with 1012. What
methods, handlers and connections see of the gateway is its `GatewayContext`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from openclaw.gateway import browserrules
from openclaw.gateway.bind import bind_exclusive
from openclaw.gateway.context import GatewayContext, RuntimeState
from openclaw.gateway.http import add_canvas_routes, add_http_routes
from openclaw.gateway.httpapi import LONG_PATHS, add_api_routes
from openclaw.gateway.httpserve import close, serve
from openclaw.gateway.methods import load_methods
from openclaw.gateway.pages import add_page_routes
from openclaw.gateway.protocol import CLOSE_RESTART
from openclaw.gateway.settings import GatewaySettings
from openclaw.gateway.sidecars import Sidecars

RESTART_EXPECTED_MS = 1500


class GatewayServer:
    def __init__(self, settings: GatewaySettings, state: RuntimeState, env: Mapping[str, str],
                 hooks: Any = None) -> None:
        env = dict(env)
        self.gateway = GatewayContext(settings, state, env, load_methods(), hooks)
        self.sidecars = self.gateway.sidecars = Sidecars(self.gateway)
        self._stop = asyncio.get_running_loop().create_future()
        self._runner: web.AppRunner | None = None
        self._sockets: list[socket.socket] = []
        self._tick_task: asyncio.Task[None] | None = None
        if state.browser is None and any((settings.paths.state_dir / "browser").glob("*/chromium.pid")):
            _ = self.gateway.browser  # a browser outlived a killed gateway: adopt it now

    @property
    def started(self) -> bool:
        return self.gateway.started

    # -- start / serve / shutdown -----------------------------------------
    async def start(self, before_serving: Callable[[], Awaitable[None]] | None = None) -> None:
        """Bind, run `before_serving` (the port is ours, nobody is answered yet), then serve."""
        settings = self.gateway.settings
        self._sockets = await bind_exclusive(settings.bind_hosts, settings.port, settings.limits.bind_retries,
                                             settings.limits.bind_interval_s)
        if before_serving is not None:
            await before_serving()
        if self.gateway.state.devices is None:
            from openclaw.gateway.devicestore import DeviceStore

            devices = DeviceStore(settings.paths.state_dir)
            await asyncio.to_thread(devices.load)
            self.gateway.state.devices = devices
        await self.sidecars.prepare()
        app = web.Application(client_max_size=settings.limits.max_payload_bytes,
                              middlewares=[browserrules.middleware(lambda: self.gateway.settings)])
        add_http_routes(app, self.gateway)
        add_canvas_routes(app, self.gateway)
        add_api_routes(app, self.gateway)
        add_page_routes(app, self.gateway, self._protocol)
        self._runner = await serve(app, self._sockets, settings.limits, long_paths=LONG_PATHS)
        await self.sidecars.start()
        self.gateway.started = True
        self._tick_task = asyncio.create_task(self._tick_loop())

    async def wait(self) -> str:
        """Block until `request_stop` is called; returns `stop` or `restart`."""
        return await self._stop

    def request_stop(self, reason: str = "stop") -> None:
        if not self._stop.done():
            self._stop.set_result(reason)

    async def shutdown(self, restart: bool) -> None:
        """Tell every client, close them all at once (each gets the close grace period), stop."""
        gateway = self.gateway
        gateway.draining = True
        gateway.stop_presence()
        payload: dict[str, Any] = {"reason": "gateway restarting" if restart else "gateway stopping"}
        if restart:
            payload["restartExpectedMs"] = RESTART_EXPECTED_MS
        gateway.broadcast("shutdown", payload)
        await asyncio.gather(*(c.close(CLOSE_RESTART, "service restart") for c in list(gateway.connections)),
                             return_exceptions=True)
        if self._tick_task:
            self._tick_task.cancel()
        await self.sidecars.stop()
        await close(self._runner, self._sockets)
        gateway.started = False

    async def _protocol(self, request: web.Request) -> web.StreamResponse:
        """The protocol's code loads with the first connection: an idle gateway does not carry it."""
        from openclaw.gateway.connection import serve_websocket

        return await serve_websocket(self.gateway, request)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.gateway.settings.limits.tick_interval_ms / 1000)
            self.gateway.broadcast("tick", {"ts": int(time.time() * 1000)})
