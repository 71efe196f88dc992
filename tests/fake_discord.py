"""A Discord gateway + REST stand-in on loopback, speaking API v10 as Discord does.

REST: GET /gateway/bot (hands out the WebSocket URL), GET /users/@me, POST
/channels/{id}/messages, POST /channels/{id}/typing, POST /users/@me/channels;
429s with `retry_after` and the X-RateLimit-* headers on demand. Gateway:
HELLO, IDENTIFY (intents recorded) -> READY with session_id and
resume_gateway_url, heartbeats/ACK, MESSAGE_CREATE dispatches with sequence
numbers, RESUME replaying what the session missed, INVALID_SESSION, RECONNECT,
and a forced drop. Everything received is recorded for the tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web
from helpers import Env, Gateway, wait_for

HEARTBEAT_MS = 1000


@dataclass
class Bot:
    token: str
    username: str
    id: str
    intents: list[int] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"channel_id", "content"}
    typing: list[str] = field(default_factory=list)
    identifies: int = 0
    resumes: int = 0
    heartbeats: int = 0
    app_flags: int = 1 << 19  # GATEWAY_MESSAGE_CONTENT


@dataclass
class Session:
    bot: Bot
    id: str
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for replay
    ws: web.WebSocketResponse | None = None


class FakeDiscord:
    def __init__(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.sessions: dict[str, Session] = {}
        self.failures: list[tuple[str, str, int, dict[str, Any], dict[str, str]]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST call
        self.users: dict[str, str] = {}  # user id -> name, of everyone who wrote
        self.channels: dict[str, dict[str, Any]] = {}  # guild channels and threads, for GET /channels/{id}
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.down = False  # while set, the gateway refuses sockets (a restarting Discord)
        self.ack = True  # unset: heartbeats go unanswered (a zombie link)
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeDiscord:
        self._thread.start()
        self._run(self._start())
        return self

    def _run(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._socket)
        app.router.add_get("/resume", self._socket)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        self._run(self._runner.cleanup())  # type: ignore[union-attr]
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    # -- test controls ------------------------------------------------------------------------
    def add_bot(self, token: str, username: str) -> Bot:
        bot = Bot(token, username, str(next(self._ids)))
        self.bots[token] = bot
        return bot

    def new_id(self) -> str:
        return str(next(self._ids))

    def user_message(self, token: str, user_id: str, text: str, channel_id: str | None = None,
                     guild_id: str | None = None, mention: bool = False, username: str | None = None) -> str:
        """A user writes (a DM when no guild); returns the message id. Dispatched to the bot's live
        session, or kept for its replay when the socket is down."""
        bot = self.bots[token]
        self.users[user_id] = username or f"user{user_id}"
        message = {"id": self.new_id(), "channel_id": channel_id or f"dm-{user_id}", "content": text,
                   "author": {"id": user_id, "username": username or f"user{user_id}", "bot": False},
                   "mentions": [{"id": bot.id, "username": bot.username}] if mention else [],
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "type": 0}
        if guild_id:
            message["guild_id"] = guild_id
        else:
            message["channel_id"] = channel_id or self.dm_channel(user_id)
        self._run(self._dispatch(bot, "MESSAGE_CREATE", message))
        return str(message["id"])

    def dm_channel(self, user_id: str) -> str:
        return str(int(user_id) + 5_000_000)

    def event(self, token: str, kind: str, data: dict[str, Any]) -> None:
        listed = [data] if kind in ("CHANNEL_CREATE", "THREAD_CREATE") else [
            item for key in ("channels", "threads") if isinstance(data.get(key), list) for item in data[key]]
        for item in listed:
            self.add_channel(item)
        self._run(self._dispatch(self.bots[token], kind, data))

    def add_channel(self, data: dict[str, Any]) -> None:
        """A channel or thread Discord knows (GET /channels/{id}), whether or not the bot was told of it."""
        self.channels[str(data["id"])] = data

    def drop(self, token: str, code: int = WSCloseCode.ABNORMAL_CLOSURE) -> None:
        """Close the bot's socket as a network failure would (the session stays resumable)."""
        self._run(self._close(self.bots[token], code))

    def send_op(self, token: str, op: int, data: Any = None) -> None:
        """RECONNECT (7) or INVALID_SESSION (9) to the bot's live socket."""
        async def go() -> None:
            session = self._live(self.bots[token])
            if session and session.ws:
                await session.ws.send_json({"op": op, "d": data})
        self._run(go())

    def fail_next(self, token: str, path: str, status: int, body: dict[str, Any],
                  headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.failures.append((token, path, status, body, headers or {}))

    def messages_to(self, token: str, channel_id: str) -> list[str]:
        with self._lock:
            return [m["content"] for m in self.bots[token].sent if m["channel_id"] == channel_id]

    def connected(self, token: str) -> bool:
        session = self._live(self.bots[token])
        return bool(session and session.ws and not session.ws.closed)

    # -- the gateway ----------------------------------------------------------------------------
    def _live(self, bot: Bot) -> Session | None:
        return next((s for s in self.sessions.values() if s.bot is bot and s.ws is not None), None)

    async def _dispatch(self, bot: Bot, kind: str, data: dict[str, Any]) -> None:
        session = next((s for s in self.sessions.values() if s.bot is bot), None)
        if session is None:
            raise RuntimeError(f"{bot.username} has no session")
        session.seq += 1
        event = {"op": 0, "t": kind, "s": session.seq, "d": data}
        session.events.append(event)
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_json(event)

    async def _close(self, bot: Bot, code: int) -> None:
        session = self._live(bot)
        if session and session.ws:
            ws, session.ws = session.ws, None
            await ws.close(code=code)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}})
        session: Session | None = None
        async for msg in ws:
            payload = json.loads(msg.data)
            op, data = payload.get("op"), payload.get("d")
            if op == 1:
                if session:
                    session.bot.heartbeats += 1
                if self.ack:
                    await ws.send_json({"op": 11})
            elif op == 2:
                session = await self._identify(ws, data)
                if session is None:
                    return ws
            elif op == 6:
                session = await self._resume(ws, data)
                if session is None:
                    return ws
        if session is not None and session.ws is ws:
            session.ws = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        bot = self.bots.get(str(data.get("token")))
        if bot is None:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        bot.identifies += 1
        bot.intents.append(int(data.get("intents") or 0))
        for old in [s for s in self.sessions.values() if s.bot is bot]:
            del self.sessions[old.id]
        session = Session(bot, f"session-{self.new_id()}", ws=ws)
        self.sessions[session.id] = session
        await self._dispatch(bot, "READY", {
            "v": 10, "session_id": session.id, "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
            "user": {"id": bot.id, "username": bot.username, "bot": True}, "guilds": []})
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.bot.token != data.get("token"):
            await ws.send_json({"op": 9, "d": False})
            return None
        session.bot.resumes += 1
        session.ws = ws
        seq = int(data.get("seq") or 0)
        for event in session.events:  # what the session missed, in order
            if event["s"] > seq:
                await ws.send_json(event)
        await self._dispatch(session.bot, "RESUMED", {})
        return session

    # -- REST -----------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.requests.append((request.method, path))
        auth = request.headers.get("Authorization", "")
        bot = self.bots.get(auth.removeprefix("Bot ")) if auth.startswith("Bot ") else None
        if bot is None:
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        with self._lock:
            failure = next((f for f in self.failures if f[0] == bot.token and f[1] == path), None)
            if failure:
                self.failures.remove(failure)
        if failure:
            return web.json_response(failure[3], status=failure[2], headers=failure[4])
        body = await request.json() if request.can_read_body else {}
        limits = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "1.0",
                  "X-RateLimit-Bucket": f"bucket{abs(hash(path)) % 1000}"}
        if path == "/gateway/bot":
            return web.json_response({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1,
                                      "session_start_limit": {"total": 1000, "remaining": 999,
                                                              "reset_after": 86400000, "max_concurrency": 1}})
        if path == "/users/@me":
            return web.json_response({"id": bot.id, "username": bot.username, "bot": True})
        parts = path.strip("/").split("/")
        if path == "/applications/@me":
            return web.json_response({"id": bot.id, "name": bot.username, "flags": bot.app_flags})
        if parts[:1] == ["channels"] and len(parts) == 2 and request.method == "GET":
            if parts[1] in self.channels:
                return web.json_response(self.channels[parts[1]])
            return web.json_response({"message": "Unknown Channel", "code": 10003}, status=404)
        if parts[:1] == ["users"] and len(parts) == 2 and parts[1] in self.users:
            return web.json_response({"id": parts[1], "username": self.users[parts[1]]})
        if path == "/users/@me/channels" and request.method == "POST":
            return web.json_response({"id": self.dm_channel(str(body.get("recipient_id"))), "type": 1})
        if len(parts) == 3 and parts[0] == "channels" and parts[2] == "typing":
            bot.typing.append(parts[1])
            return web.Response(status=204, headers=limits)
        if len(parts) == 3 and parts[0] == "channels" and parts[2] == "messages" and request.method == "POST":
            content = str(body.get("content") or "")
            if not content or len(content) > 2000:
                return web.json_response({"message": "Invalid Form Body", "code": 50035}, status=400)
            with self._lock:
                bot.sent.append({"channel_id": parts[1], "content": content})
            return web.json_response({"id": self.new_id(), "channel_id": parts[1], "content": content},
                                     headers=limits)
        return web.json_response({"message": "404: Not Found", "code": 0}, status=404)


_tokens = itertools.count(1)


def new_bot(dc: FakeDiscord, name: str = "rescue_bot") -> str:
    token = f"MTA{next(_tokens):021d}.GhIjKl.{name}-secret-token-part-xyz"  # shaped as Discord's are
    dc.add_bot(token, name)
    return token


def start_with_discord(env: Env, port: int, gateways: list[Gateway], discord: dict,
                       profile: str | None = None) -> Gateway:
    env.provision(profile, port)
    env.set_config(("channels.discord", json.dumps(discord)), profile=profile)
    gw = env.gateway(profile).start()
    gateways.append(gw)
    return gw.wait_healthy(port)


def replies(dc: FakeDiscord, token: str, channel: str, count: int, timeout: float = 15) -> list[str]:
    wait_for(lambda: len(dc.messages_to(token, channel)) >= count, timeout=timeout,
             what=f"{count} replies in {channel}")
    return dc.messages_to(token, channel)
