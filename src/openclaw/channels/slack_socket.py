"""One Slack Socket Mode connection at a time, reopened whenever Slack or the network ends it.

Slack hands out the WebSocket URL (`apps.connections.open`, app-level token),
sends `hello`, then envelopes that must be acknowledged (`{"envelope_id"}`)
within three seconds or they come again with a higher `retry_attempt`. An
envelope is acknowledged only after the handler has kept what it needs (the
channel's pending store), so a drop before the ack means Slack redelivers and
the handler's dedupe drops the repeat. The handler may answer with a payload
for the ack (a slash command's immediate reply). A `disconnect` event (refresh or
warning) opens a fresh connection at once; a drop backs off briefly; a 429
waits Slack's Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from openclaw.channels.slack_api import SlackApi, SlackError
from openclaw.retry import Backoff

RECONNECT = Backoff(base_s=0.25, cap_s=1.5, jitter=0.2)  # a dropped socket is back soon after Slack is
HELLO_TIMEOUT_S = 10.0
HEARTBEAT_S = 20.0  # WebSocket pings: a silent half-open socket is noticed
MAX_FRAME = 1024 * 1024
ACKED = ("events_api", "slash_commands", "interactive")

Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]  # (type, payload) -> ack payload


class SocketGone(Exception):
    """The connection ended; `reason` says why (a disconnect event's reason, or the close)."""

    def __init__(self, reason: str, refresh: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.refresh = reason, refresh


class SocketMode:
    def __init__(self, app: SlackApi, session: aiohttp.ClientSession, on_event: Handler,
                 on_state: Callable[[bool, str | None], None]) -> None:
        self.app = app
        self.session = session
        self.on_event = on_event
        self.on_state = on_state  # (connected, error or None)
        self.connects = 0

    async def run(self) -> None:
        """Connect, serve, reconnect, until cancelled or the app token is rejected (SlackError raised)."""
        waits = RECONNECT.waits()
        while True:
            try:
                url = await self.app.open_connection()
                await self._serve(url, waits.reset)
            except SocketGone as gone:
                self.on_state(False, None if gone.refresh else f"socket closed ({gone.reason}); reconnecting")
                if gone.refresh:
                    continue  # Slack asked for a new connection: open it now
            except SlackError as exc:
                if exc.token_rejected:
                    raise
                self.on_state(False, f"{exc.method} failed: {exc.code}; retrying")
                if exc.retry_after is not None:
                    await asyncio.sleep(waits.next(exc.retry_after))
                    continue
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self.on_state(False, f"socket error: {type(exc).__name__}; reconnecting")
            await waits.sleep()

    async def _serve(self, url: str, reset: Callable[[], None]) -> None:
        async with self.session.ws_connect(url, heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME, autoping=True,
                                           timeout=aiohttp.ClientWSTimeout(ws_close=5.0)) as ws:
            hello = await asyncio.wait_for(ws.receive(), HELLO_TIMEOUT_S)
            if hello.type != aiohttp.WSMsgType.TEXT or _load(hello.data).get("type") != "hello":
                raise SocketGone("no hello")
            self.connects += 1
            reset()
            self.on_state(True, None)
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                await self._frame(ws, _load(frame.data))
            raise SocketGone(f"closed {ws.close_code}")

    async def _frame(self, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "disconnect":
            reason = str(frame.get("reason") or "")
            if reason == "link_disabled":
                raise SlackError("socket", "link_disabled (Socket Mode was turned off for this app)")
            raise SocketGone(reason or "disconnect", refresh=True)
        envelope = frame.get("envelope_id")
        if kind in ACKED and isinstance(envelope, str):
            payload = frame.get("payload")
            # kept (or judged not worth keeping) before the ack
            answer = await self.on_event(str(kind), payload) if isinstance(payload, dict) else None
            ack: dict[str, Any] = {"envelope_id": envelope}
            if answer is not None:
                ack["payload"] = answer
            await ws.send_str(json.dumps(ack))


def _load(text: Any) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
