"""One bot account's connection to the Discord gateway (WebSocket, JSON encoding, API v10).

HELLO names the heartbeat interval; the session IDENTIFYs with its intents or,
after a drop, RESUMEs with its session id and the last sequence number seen so
Discord replays what was missed. A heartbeat that is not ACKed before the next
one is due means a dead link: the socket is closed with a resumable code and
reopened. RECONNECT and resumable INVALID_SESSION resume; a non-resumable one
identifies afresh. Reconnects back off (short cap: a gateway that is back is
found quickly); closes that no retry can fix (bad token, intents) end the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiohttp

from openclaw.channels.discord_api import DiscordApi, DiscordError
from openclaw.retry import Backoff

# GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT (privileged: enabled in the Developer Portal)
INTENTS = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15)
RECONNECT = Backoff(base_s=0.25, cap_s=1.0, jitter=0.2)
HELLO_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 15.0  # the TCP/TLS connect and the WebSocket upgrade
MAX_FRAME = 4 * 1024 * 1024  # READY for a bot in many guilds is large; anything bigger is refused
RESUMABLE_CLOSE = 4000  # a close code other than 1000/1001 keeps the session resumable
FATAL_CLOSES = {4004: "the bot token was rejected (4004 Authentication failed)",
                4010: "invalid shard (4010)", 4011: "sharding required (4011)",
                4012: "invalid API version (4012)", 4013: "invalid intents (4013)",
                4014: "disallowed intents (4014): enable the Message Content intent for the bot "
                      "in the Discord Developer Portal"}
FRESH_CLOSES = {4007, 4009}  # invalid seq, session timed out: identify afresh

Dispatch = Callable[[str, dict[str, Any]], Awaitable[None]]


class GatewayFatal(Exception):
    """A failure retrying cannot fix (bad token, disallowed intents)."""


class _Reconnect(Exception):
    """Close this socket and connect again (resuming when the session allows)."""


class DiscordGateway:
    def __init__(self, api: DiscordApi, token: str, on_dispatch: Dispatch, intents: int = INTENTS) -> None:
        self.api = api
        self._token = token
        self.on_dispatch = on_dispatch
        self.intents = intents
        self.session_id: str | None = None
        self.resume_url: str | None = None
        self.seq: int | None = None
        self.user: dict[str, Any] = {}
        self.connected = False
        self.connects = self.resumes = self.identifies = 0
        self.last_ready_at: float | None = None
        self._acked = True
        self._reached = False
        self._gateway_url: str | None = None

    async def run(self, on_error: Callable[[str], None]) -> None:
        """Stay connected until cancelled; GatewayFatal ends the run."""
        waits = RECONNECT.waits()
        while True:
            self._reached = False
            try:
                await self._connect_once()
            except (DiscordError, aiohttp.ClientError, OSError, TimeoutError, _Reconnect, ValueError) as exc:
                if isinstance(exc, DiscordError) and exc.status == 401:
                    raise GatewayFatal("the bot token was rejected (401 Unauthorized)") from None
                on_error(_describe(exc))
            self.connected = False
            if self._reached:  # this socket worked: the next attempt starts from the shortest wait
                waits.reset()
            await waits.sleep()

    async def _connect_once(self) -> None:
        """One socket's life, until it closes."""
        url = self.resume_url if self.session_id and self.resume_url else await self._url()
        resuming = bool(self.session_id)
        query = ("?" if urlsplit(url).path.strip("/") else "/?") + "v=10&encoding=json"
        socket = self.api.session.ws_connect(url.rstrip("/") + query, autoping=True, max_msg_size=MAX_FRAME,
                                             timeout=aiohttp.ClientWSTimeout(ws_close=5))
        async with await asyncio.wait_for(socket, CONNECT_TIMEOUT_S) as ws:
            self.connects += 1
            hello = await ws.receive(timeout=HELLO_TIMEOUT_S)
            interval = _hello_interval(hello)
            await ws.send_json(self._resume() if resuming else self._identify())
            beat = asyncio.create_task(self._heartbeat(ws, interval))
            try:
                await self._read(ws, interval)
            except asyncio.CancelledError:  # a stop: the session stays resumable for the next start
                with contextlib.suppress(Exception):
                    await asyncio.shield(ws.close(code=RESUMABLE_CLOSE))
                raise
            finally:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await beat
                self.connected = False

    def saved(self) -> tuple[str | None, int | None, str | None]:
        """What a later start in this process needs to resume this session."""
        return self.session_id, self.seq, self.resume_url

    def restore(self, saved: tuple[str | None, int | None, str | None]) -> None:
        self.session_id, self.seq, self.resume_url = saved

    async def _url(self) -> str:
        if self._gateway_url is None:
            self._gateway_url = await self.api.gateway_url()
        return self._gateway_url

    def _identify(self) -> dict[str, Any]:
        self.identifies += 1
        return {"op": 2, "d": {"token": self._token, "intents": self.intents,
                               "properties": {"os": "linux", "browser": "openclaw", "device": "openclaw"}}}

    def _resume(self) -> dict[str, Any]:
        self.resumes += 1
        return {"op": 6, "d": {"token": self._token, "session_id": self.session_id, "seq": self.seq}}

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, interval: float) -> None:
        self._acked = True
        await asyncio.sleep(interval * random.random())  # Discord asks for a jittered first beat
        while not ws.closed:
            if not self._acked:  # no ACK for the last beat: a zombie link
                await ws.close(code=RESUMABLE_CLOSE)
                return
            self._acked = False
            await ws.send_json({"op": 1, "d": self.seq})
            await asyncio.sleep(interval)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, interval: float) -> None:
        while True:
            msg = await ws.receive(timeout=interval * 2 + 5)  # silence past two beats: the link is gone
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.ERROR):
                self._closed(ws.close_code)
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            if not isinstance(payload, dict):
                continue
            await self._handle(ws, payload)

    async def _handle(self, ws: aiohttp.ClientWebSocketResponse, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 11:
            self._acked = True
        elif op == 1:  # the gateway asks for a beat now
            await ws.send_json({"op": 1, "d": self.seq})
        elif op == 7:
            await ws.close(code=RESUMABLE_CLOSE)
            raise _Reconnect("the gateway asked for a reconnect")
        elif op == 9:
            if not data:
                self.session_id = self.seq = None
            await ws.close(code=RESUMABLE_CLOSE)
            raise _Reconnect("the session was invalidated" + (" (resumable)" if data else ""))
        elif op == 0 and isinstance(data, dict):
            await self._dispatch(str(payload.get("t")), data, payload.get("s"))

    async def _dispatch(self, kind: str, data: dict[str, Any], seq: Any) -> None:
        ready = kind in ("READY", "RESUMED")
        if kind == "READY":
            self.session_id = str(data.get("session_id") or "") or None
            resume_url = data.get("resume_gateway_url")
            self.resume_url = resume_url if isinstance(resume_url, str) else None
            user = data.get("user")
            self.user = user if isinstance(user, dict) else {}
        if ready:
            self.connected, self._reached, self.last_ready_at = True, True, time.time()
        await self.on_dispatch(kind, data)  # the message is on record before its sequence number counts
        if isinstance(seq, int) and (self.seq is None or seq > self.seq):
            self.seq = seq

    def _closed(self, code: int | None) -> NoReturn:
        if code in FATAL_CLOSES:
            raise GatewayFatal(FATAL_CLOSES[code])
        if code in FRESH_CLOSES:
            self.session_id = self.seq = None
        raise _Reconnect(f"the gateway closed the connection ({code})")


def _hello_interval(msg: aiohttp.WSMessage) -> float:
    if msg.type != aiohttp.WSMsgType.TEXT:
        raise _Reconnect("the gateway sent no HELLO")
    hello = json.loads(msg.data)
    interval = (hello.get("d") or {}).get("heartbeat_interval") if isinstance(hello, dict) else None
    if hello.get("op") != 10 or not isinstance(interval, int | float) or interval <= 0:
        raise _Reconnect("the gateway's first frame was not HELLO")
    return float(interval) / 1000


def _describe(exc: Exception) -> str:
    if isinstance(exc, DiscordError | _Reconnect):
        return str(exc)
    status = f" {exc.status}" if isinstance(exc, aiohttp.WSServerHandshakeError) else ""
    return f"gateway connection failed: {type(exc).__name__}{status}; reconnecting"
