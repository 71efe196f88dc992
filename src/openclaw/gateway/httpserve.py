"""Serving an aiohttp app on bound sockets with time limits on every HTTP connection.

aiohttp's keep-alive timer also runs from the moment a connection is made, so
`http_idle_ms` closes sockets that never send a request, request lines and
headers that never finish, and idle keep-alive connections alike. A request
deadline covers the rest: a body that trickles in, a handler that hangs, a
client that does not read its response. An unread request body is drained
for at most the close grace period. WebSockets are exempt; their protocol
has its own limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

from openclaw.gateway.limits import Limits

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_deadline(seconds: float, long_paths: tuple[str, ...] = (),
                     long_seconds: float = 0.0) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Every request ends within `seconds` (those under `long_paths`, which run agent turns,
    within `long_seconds`)."""

    @web.middleware
    async def deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        limit = long_seconds if long_paths and request.path.startswith(long_paths) else seconds
        try:
            async with asyncio.timeout(limit):
                response = await handler(request)
        except TimeoutError:  # a body that trickles in, or a handler that hangs
            timed_out = web.Response(status=504, text="request timed out\n")
            timed_out.force_close()
            return timed_out
        try:
            async with asyncio.timeout(limit):
                await response.prepare(request)
                await response.write_eof()
        except TimeoutError:  # the client does not read what we send: let go of it
            if request.transport is not None:
                request.transport.abort()
        return response

    return deadline


async def serve(app: web.Application, sockets: list[socket.socket], limits: Limits,
                request_ms: int | None = None, long_paths: tuple[str, ...] = ()) -> web.AppRunner:
    """Run `app` on already bound sockets (no signal handling, no access log)."""
    app.middlewares.append(request_deadline((request_ms or limits.http_request_ms) / 1000, long_paths,
                                            limits.http_turn_ms / 1000))
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=limits.close_grace_s,
                           keepalive_timeout=limits.http_idle_ms / 1000, lingering_time=limits.close_grace_s)
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock).start()
    return runner


async def close(runner: web.AppRunner | None, sockets: list[socket.socket]) -> None:
    if runner is not None:
        await runner.cleanup()
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()
