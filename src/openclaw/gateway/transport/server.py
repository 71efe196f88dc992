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
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw.gateway.httpapi import LONG_PATHS, add_api_routes
from openclaw.gateway.httpserve import close, serve
from openclaw.gateway.methods import load_methods
from openclaw.gateway.protocol import CLOSE_RESTART
from openclaw.gateway.state.context import GatewayContext, RuntimeState
from openclaw.gateway.state.hooks import Hooks, Services
from openclaw.gateway.transport import browserrules
from openclaw.gateway.transport.bind import bind_exclusive
from openclaw.gateway.transport.http import add_canvas_routes, add_http_routes
from openclaw.gateway.transport.pages import add_page_routes
from openclaw.gateway.transport.resources import MemoryTrimmer
from openclaw.gateway.transport.sidecars import Sidecars

if TYPE_CHECKING:
    from openclaw.gateway.httpapi.state import HttpApiState

RESTART_EXPECTED_MS = 1500


class GatewayServer:
    def __init__(self, state: RuntimeState, services: Services, env: Mapping[str, str], hooks: Hooks | None,
                 http_api: Callable[[], HttpApiState], http_api_made: Callable[[], HttpApiState | None]) -> None:
        """`http_api`: the OpenAI-compatible endpoints' state (made on first use and kept across restarts
        by the caller); `http_api_made`: it, once made."""
        self._http_api, self._http_api_made = http_api, http_api_made
        self._trimmer = MemoryTrimmer()
        self.sidecars = Sidecars(state, services, env)
        self.methods = load_methods()
        self.gateway = GatewayContext(state, services, env, self.methods, hooks,
                                      describe_sidecars=self.sidecars.describe,
                                      connection_ended=self._trimmer.connection_ended)
        self._stop: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._runner: web.AppRunner | None = None
        self._sockets: list[socket.socket] = []
        self._tick_task: asyncio.Task[None] | None = None

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
        await self.sidecars.prepare()
        app = web.Application(client_max_size=settings.limits.max_payload_bytes,
                              middlewares=[browserrules.middleware(lambda: self.gateway.settings)])
        add_http_routes(app, self.gateway, self._http_api_made)
        add_canvas_routes(app, self.gateway, self.sidecars)
        add_api_routes(app, self.gateway, self._http_api)
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
        from openclaw.gateway.transport.connection import serve_websocket

        return await serve_websocket(self.gateway, self.methods, request)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.gateway.settings.limits.tick_interval_ms / 1000)
            self.gateway.broadcast("tick", {"ts": int(time.time() * 1000)})
