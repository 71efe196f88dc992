"""Serving an aiohttp app on bound sockets with time limits on every HTTP connection.

aiohttp's keep-alive timer also runs from the moment a connection is made, so
`http_idle_ms` closes sockets that never send a request, request lines and
headers that never finish, and idle keep-alive connections alike. A request
deadline covers the rest: a body that trickles in, a handler that hangs. A
client that takes nothing of its reply for `http_idle_ms` is let go (a slow
reader that still reads keeps its connection until the deadline). An unread
request body is drained for at most the close grace period. WebSockets are
exempt; their protocol has its own limits.

What goes wrong in a handler stays in the log, one line each: a client that
left mid-reply is one `info` line, an unexpected error one `error` line and a
generic 500 (never the exception's text), and aiohttp's own reports (a
malformed request) lose their tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from openclaw import logfile, memguard
from openclaw.gateway.limits import Limits

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CUT = web.RequestKey("openclaw_reader_cut", bool)  # the gateway let go of this reader itself (logged)
HIGH_WATER = 64 * 1024  # asyncio's default: above it a write waits for the peer
M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)
BIG_BUFFER_BYTES = 1024 * 1024


def gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def unsent(request: web.Request) -> int:
    """Bytes the socket has accepted from us and not sent yet."""
    transport = request.transport
    return transport.get_write_buffer_size() if transport is not None else 0


def let_go(request: web.Request, why: str) -> None:
    """Drop a client we will not wait for (logged once here; later errors on it are not)."""
    request[CUT] = True
    logfile.warn(f"letting go of an HTTP client of {request.path}: {why}", subsystem="http", remote=request.remote)
    if request.transport is not None:
        request.transport.abort()


async def while_read(request: web.Request, sending: Awaitable[Any], size: int, idle_s: float) -> None:
    """Await a write of `size` bytes; let go of the client when it takes nothing for `idle_s`
    (then ConnectionError, as when it leaves)."""
    if unsent(request) + size <= HIGH_WATER:  # it will not wait for the reader: no task needed
        await sending
        return
    task = asyncio.ensure_future(sending)
    try:
        await asyncio.sleep(0)  # the write starts: what it could not send yet is the baseline
        before = unsent(request)
        while True:
            done, _ = await asyncio.wait({task}, timeout=idle_s)
            if done:
                task.result()  # its exception, if the write failed
                return
            now = unsent(request)
            if now >= before:
                let_go(request, f"it read nothing for {idle_s:g} s")
                raise ConnectionResetError("reader stalled")
            before = now
    finally:
        if not task.done():  # given up (stalled, or the request's deadline): the write goes with it
            task.cancel()


def request_deadline(seconds: float, long_paths: tuple[str, ...] = (), long_seconds: float = 0.0,
                     idle_seconds: float = 10.0) -> Middleware:
    """Every request ends within `seconds` (those under `long_paths`, which run agent turns,
    within `long_seconds`); errors become short answers and single log lines."""

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
        except web.HTTPException:
            raise
        except ConnectionError as exc:
            if not gone(request):
                return _internal_error(request, f"{type(exc).__name__}: {exc}")
            return _client_left(request)
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 and one log line, never its text
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            return _internal_error(request, f"{type(exc).__name__}: {exc}")
        try:
            async with asyncio.timeout(limit):
                await response.prepare(request)
                await while_read(request, response.write_eof(), response.content_length or 0, idle_seconds)
        except TimeoutError:  # a reader that reads too slowly to finish in time: let go of it
            let_go(request, f"its reply was not read within {limit:g} s")
        except ConnectionError:
            _client_left(request)
        return response

    return deadline


def _client_left(request: web.Request) -> web.StreamResponse:
    if not request.get(CUT):
        logfile.info(f"HTTP client left before its reply was complete: {request.method} {request.path}",
                     subsystem="http", remote=request.remote)
        request[CUT] = True
    dropped = web.Response(status=499)  # nobody reads it: aiohttp finds the socket gone and stops quietly
    dropped.force_close()
    return dropped


def _internal_error(request: web.Request, what: str) -> web.StreamResponse:
    logfile.error(f"HTTP {request.method} {request.path} failed: {what[:500]}", subsystem="http")
    if request.writer.output_size:  # a reply was under way: it cannot become an error now, end it
        request[CUT] = True
        if request.transport is not None:
            request.transport.abort()
        return _client_left(request)
    failed = web.json_response({"ok": False, "error": {"type": "internal_error", "message":
                                "internal error (the gateway log has the details)"}}, status=500)
    failed.force_close()
    return failed


class OneLine(logging.Filter):
    """aiohttp reports malformed requests with a traceback each: keep the line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = " ".join(str(exc).split())[:200]
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {detail}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def _quiet_aiohttp() -> None:
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLine) for f in logger.filters):
            logger.addFilter(OneLine())


def big_buffers_return() -> None:
    """Buffers of a MiB or more (request bodies, their decoded text, large replies) get pages of
    their own, which go back to the system when freed. glibc would otherwise raise its mmap
    threshold after the first large free (up to 32 MiB) and keep every later large buffer in a
    heap that does not shrink: ten 20 MB bodies would leave ~80 MB behind. Smaller buffers
    (socket reads of 256 KiB) stay on the heap, where they cost no system call. Once per process,
    from any thread (mallopt takes the allocator's lock), by the runner once the gateway serves."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, BIG_BUFFER_BYTES)  # musl: a no-op


async def serve(app: web.Application, sockets: list[socket.socket], limits: Limits,
                request_ms: int | None = None, long_paths: tuple[str, ...] = ()) -> web.AppRunner:
    """Run `app` on already bound sockets (no signal handling, no access log)."""
    app.middlewares.insert(0, request_deadline((request_ms or limits.http_request_ms) / 1000, long_paths,
                                               limits.http_turn_ms / 1000, limits.http_idle_ms / 1000))
    _quiet_aiohttp()
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
