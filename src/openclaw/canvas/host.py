"""The canvas host: the workspace's `canvas/` folder over HTTP, with live reload.

Served standalone on `canvasHost.port` (base + 4, loopback) and on the gateway
port under `/__openclaw__/canvas/`. HTML gets a small script that reloads the
page when a file under the root changes; the watcher only runs while at
least one page is connected.

Never served, whatever the root: dotfiles and dot-folders, config and
credential files, paths with NUL bytes, and anything `canvas.safeopen`
refuses (a link out of the root, a file inside an instance's state dir, a
second name of a file, someone else's file): the file is opened once,
without following links out, judged by its descriptor, and that descriptor
is what is served. The standalone port answers only requests that name a
loopback host.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from openclaw import logfile
from openclaw.canvas.safeopen import Fence, Opened, Refused, open_beneath
from openclaw.canvas.starter import STARTER_HTML
from openclaw.locality import has_loopback_host
from openclaw.wsresponse import WebSocket

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

PREFIX = "/__openclaw__/canvas"
WS_PATH = "/__openclaw__/ws"
DEBOUNCE_MS = 75
MAX_LIVE_CLIENTS = 64  # pages with live reload open at once; more get 503
MAX_INJECT_BYTES = 4 * 1024 * 1024  # HTML up to this size gets the live-reload script; larger goes as it is
PIECE = 256 * 1024  # bytes read from the file per step while streaming
SECRET_NAMES = ("openclaw.json", "credentials", "auth-profiles.json", "id_rsa", "id_ed25519")
SECRET_SUFFIXES = (".bak", ".pem", ".key", ".p12", ".pfx", ".tmp", ".lock", ".sqlite", ".sqlite-wal")
RELOAD_SCRIPT = """<script>
(() => {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connect = () => {
    const ws = new WebSocket(`${scheme}://${location.host}/__openclaw__/ws`);
    ws.onmessage = (event) => { if (event.data === "reload") location.reload(); };
    ws.onclose = () => setTimeout(connect, 1000);
  };
  connect();
  const bridge = (message) => {
    const handlers = globalThis.webkit && globalThis.webkit.messageHandlers;
    if (handlers && handlers.openclawCanvasA2UIAction) handlers.openclawCanvasA2UIAction.postMessage(message);
    else if (globalThis.openclawCanvasA2UIAction)
      globalThis.openclawCanvasA2UIAction.postMessage(JSON.stringify(message));
  };
  globalThis.OpenClaw = Object.assign(globalThis.OpenClaw || {}, {
    postMessage: bridge,
    sendUserAction: (action) => bridge({ userAction: { ...action, id: action.id || crypto.randomUUID() } }),
  });
})();
</script>
"""


@web.middleware
async def loopback_host_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The standalone port has no auth: only pages that name a loopback host may read it."""
    if not has_loopback_host(request.headers):
        return web.Response(status=403, text="the canvas answers requests for 127.0.0.1 or localhost only\n")
    return await handler(request)


def inject(html: str) -> str:
    """Insert the live-reload script before the last `</body>` (or at the end)."""
    index = html.lower().rfind("</body>")
    return html + RELOAD_SCRIPT if index < 0 else html[:index] + RELOAD_SCRIPT + html[index:]


def secret_looking(name: str) -> bool:
    lower = name.lower()
    return lower.startswith(".") or lower in SECRET_NAMES or lower.endswith(SECRET_SUFFIXES)


class CanvasHost:
    def __init__(self, root: Callable[[], Path], live_reload: bool = True,
                 fence: Callable[[], Fence] = lambda: Fence(frozenset(), frozenset())) -> None:
        self._root = root
        self.live_reload = live_reload
        self._fence = fence  # state dirs by device and inode, taken anew for every request
        self.clients: set[web.WebSocketResponse] = set()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def root(self) -> Path:
        return self._root()

    def ensure_starter(self) -> None:
        """The starter page, only where no `index.html` is: a name taken by anything, a dangling link
        included, is left alone (writing through a link would write wherever it points)."""
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(root / "index.html", flags, 0o644)
        except FileExistsError:
            return
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(STARTER_HTML)

    def open_file(self, rel: str) -> Opened | None:
        """The file for a URL path inside the root, opened (see canvas.safeopen), or None."""
        parts = [p for p in rel.replace("\\", "/").split("/") if p]
        if "\0" in rel or any(secret_looking(p) for p in parts):
            return None
        try:
            return open_beneath(self.root, parts, self._fence(), lambda name: not secret_looking(name))
        except Refused:
            return None

    async def serve(self, request: web.Request, rel: str) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="Method Not Allowed", headers={"Allow": "GET, HEAD"})
        job = asyncio.ensure_future(asyncio.to_thread(self.open_file, rel))  # path walk and fstat: off the loop
        try:
            opened = await asyncio.shield(job)
        except asyncio.CancelledError:
            job.add_done_callback(_close_result)  # the client left: the descriptor still gets closed
            raise
        if opened is None:
            headers = {"Cache-Control": "no-store"}
            if rel.strip("/") in ("", "index.html"):
                return web.Response(status=404, text=f"Missing file.\nCreate {self.root}/index.html\n", headers=headers)
            return web.Response(status=404, text="not found\n", headers=headers)
        held = _Held(opened.fd)
        try:
            return await self._send(request, opened, held)
        finally:
            held.close()

    async def _send(self, request: web.Request, opened: Opened, held: _Held) -> web.StreamResponse:
        """The opened file: small HTML with the live-reload script, anything else streamed from the
        descriptor (never more than the size it had when opened)."""
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        ctype = mimetypes.guess_type(opened.name)[0] or "application/octet-stream"
        if ctype == "text/html" and self.live_reload and opened.size <= MAX_INJECT_BYTES:
            data = await held.read(opened.size, 0)
            return web.Response(text=inject(data.decode("utf-8", errors="replace")), content_type="text/html",
                                charset="utf-8", headers=headers)
        resp = web.StreamResponse(headers=headers)
        resp.content_type = ctype
        if ctype.startswith("text/"):
            resp.charset = "utf-8"
        resp.content_length = opened.size
        await resp.prepare(request)
        offset = 0
        while request.method != "HEAD" and offset < opened.size:
            piece = await held.read(min(PIECE, opened.size - offset), offset)
            if not piece:
                break  # the file shrank meanwhile: the client sees a short body
            await resp.write(piece)  # waits while the client's buffer is full
            offset += len(piece)
        await resp.write_eof()
        return resp

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.live_reload:
            return web.Response(status=404, text="live reload is off\n")
        if len(self.clients) >= MAX_LIVE_CLIENTS:
            return web.Response(status=503, text="too many live-reload pages open\n")
        ws = WebSocket(heartbeat=30, compress=False, max_msg_size=1024)  # lets go once closed
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="upgrade required\n")
        await ws.prepare(request)
        self.clients.add(ws)
        self._ensure_watcher()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.clients.discard(ws)
        return ws

    def _ensure_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        """Watch the root while pages are connected; tell them to reload on every settled change."""
        from watchfiles import awatch

        stop = asyncio.Event()

        async def stop_when_idle() -> None:
            while self.clients:  # noqa: ASYNC110 - a lazy check: a page arriving in between keeps the watcher
                await asyncio.sleep(1.0)
            stop.set()

        idle = asyncio.create_task(stop_when_idle())
        try:
            async for _ in awatch(self.root, stop_event=stop, debounce=DEBOUNCE_MS, step=25,
                                  watch_filter=lambda _, p: not Path(p).name.startswith(".")):
                await self.broadcast("reload")
        except (OSError, RuntimeError) as exc:
            logfile.warn(f"canvas live reload stopped: {exc}; set canvasHost.liveReload=false or use a smaller root",
                         subsystem="canvas")
        finally:
            idle.cancel()

    async def broadcast(self, message: str) -> None:
        await asyncio.gather(*(ws.send_str(message) for ws in list(self.clients)), return_exceptions=True)

    async def close(self) -> None:
        for ws in list(self.clients):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._watcher:
            self._watcher.cancel()

    def app(self) -> web.Application:
        """The standalone server for the canvas port: `/`, `/<file>`, the prefixed paths and the WS."""
        app = web.Application(client_max_size=1024, middlewares=[loopback_host_only])
        app.router.add_get(WS_PATH, self.websocket)

        async def files(request: web.Request) -> web.StreamResponse:
            rel = request.match_info.get("tail", "")
            if ("/" + rel).startswith(PREFIX):
                rel = ("/" + rel)[len(PREFIX):]
            return await self.serve(request, rel)

        app.router.add_route("*", "/{tail:.*}", files)
        return app


class _Held:
    """A served file's descriptor: reads run in a thread; closing waits for a read in flight."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._busy: asyncio.Future[bytes] | None = None

    async def read(self, size: int, offset: int) -> bytes:
        self._busy = asyncio.ensure_future(asyncio.to_thread(os.pread, self.fd, size, offset))
        return await asyncio.shield(self._busy)

    def close(self) -> None:
        if self._busy is not None and not self._busy.done():
            self._busy.add_done_callback(lambda _: os.close(self.fd))
        else:
            os.close(self.fd)


def _close_result(job: asyncio.Future[Opened | None]) -> None:
    if not job.cancelled() and job.exception() is None and job.result() is not None:
        os.close(job.result().fd)  # type: ignore[union-attr]
