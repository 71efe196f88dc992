"""A small Chrome DevTools Protocol client over aiohttp (already loaded by the gateway).

HTTP `/json/*` endpoints for targets, and a WebSocket connection per page for
commands and events.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from openclaw.browser.errors import BrowserError
from openclaw.httpbody import BodyTooLarge, read_body

COMMAND_TIMEOUT_S = 15.0
MAX_JSON_BYTES = 4 * 1024 * 1024  # /json/list of a browser with many tabs stays far below this


async def json_get(session: aiohttp.ClientSession, base: str, path: str, timeout: float = 2.0,
                   method: str = "GET") -> Any:
    async with session.request(method, base.rstrip("/") + path, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
        if resp.status >= 400:
            raise BrowserError(502, "CDP_HTTP_ERROR", f"{method} {path} answered HTTP {resp.status}")
        try:
            text = (await read_body(resp.content, MAX_JSON_BYTES, resp.headers)).decode("utf-8", errors="replace")
        except BodyTooLarge:
            raise BrowserError(502, "CDP_HTTP_ERROR",
                               f"{method} {path} answered more than {MAX_JSON_BYTES} bytes") from None
        return json.loads(text) if text.strip().startswith(("{", "[")) else text


async def version(session: aiohttp.ClientSession, base: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """`/json/version`, or None when nothing answers there."""
    try:
        data = await json_get(session, base, "/json/version", timeout)
    except (TimeoutError, aiohttp.ClientError, BrowserError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def targets(session: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    data = await json_get(session, base, "/json/list")
    return [t for t in data if isinstance(t, dict) and t.get("id")]


async def new_tab(session: aiohttp.ClientSession, base: str, url: str) -> dict[str, Any]:
    """Open `url` in a new tab. Chromium unescapes the whole query of `/json/new?` once, so the URL is
    escaped whole: a `#fragment` (a dashboard's token) or `%2F` left bare would be cut or changed."""
    path = "/json/new?" + quote(url, safe="")
    try:
        target = await json_get(session, base, path, method="PUT")
    except BrowserError:
        target = await json_get(session, base, path)
    if not isinstance(target, dict):
        raise BrowserError(502, "CDP_HTTP_ERROR", "/json/new answered without a target")
    return target


async def activate(session: aiohttp.ClientSession, base: str, target_id: str) -> None:
    await json_get(session, base, f"/json/activate/{target_id}")


async def close_tab(session: aiohttp.ClientSession, base: str, target_id: str) -> None:
    await json_get(session, base, f"/json/close/{target_id}")


class CdpConnection:
    """One DevTools WebSocket: numbered commands, and events you can wait for."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._waiters: list[tuple[str, Callable[[dict[str, Any]], bool], asyncio.Future[dict[str, Any]]]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, ws_url: str) -> CdpConnection:
        try:
            ws = await session.ws_connect(ws_url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=2))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise BrowserError(502, "CDP_CONNECT_FAILED", f"cannot open DevTools socket {ws_url}: {exc}") from None
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "id" in data:
                    fut = self._pending.pop(data["id"], None)
                    if fut and not fut.done():
                        fut.set_result(data)
                else:
                    self._dispatch(data)
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(BrowserError(502, "CDP_CLOSED", "DevTools connection closed"))

    def _dispatch(self, event: dict[str, Any]) -> None:
        for waiter in list(self._waiters):
            name, predicate, fut = waiter
            if event.get("method") == name and not fut.done() and predicate(event.get("params") or {}):
                fut.set_result(event.get("params") or {})
                self._waiters.remove(waiter)

    def expect(self, name: str, predicate: Callable[[dict[str, Any]], bool] = lambda _: True) -> asyncio.Future[Any]:
        """Register interest in an event *before* triggering it."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((name, predicate, fut))
        return fut

    async def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT_S) -> Any:
        if self.ws.closed:
            raise BrowserError(502, "CDP_CLOSED", "DevTools connection closed")
        msg_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        await self.ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._pending.pop(msg_id, None)
            raise BrowserError(504, "CDP_TIMEOUT", f"{method} timed out after {timeout:.0f}s") from None
        if "error" in reply:
            raise BrowserError(400, "CDP_ERROR", f"{method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result", {})

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
