"""A Slack stand-in on loopback: the Web API under `/api` (auth.test, apps.connections.open,
chat.postMessage, chat.update, conversations.open), Socket Mode (hello, `events_api` and
`slash_commands` envelopes that must be acked, redelivered with `retry_attempt` when they are not,
`disconnect` events, forced drops) and slash commands' response URLs (five uses each, as Slack's);
tests inject user messages and slash commands and read what the bot posted, answered in acks, and
sent to response URLs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web
from helpers import Env, Gateway, wait_for

SCOPES = "app_mentions:read,channels:history,chat:write,im:history,im:read,im:write"


@dataclass
class App:
    bot_token: str
    app_token: str
    user_id: str
    name: str
    posted: list[dict[str, Any]] = field(default_factory=list)
    unacked: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope id -> envelope
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)  # envelope ids, once per delivery
    acked: list[str] = field(default_factory=list)
    ack_payloads: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope id -> the ack's payload
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # response url id -> bodies
    connects: int = 0


class FakeSlack:
    def __init__(self, ack_deadline: float = 3.0) -> None:
        self.apps: dict[str, App] = {}
        self.ack_deadline = ack_deadline
        self.failures: list[tuple[str, int, dict[str, Any], dict[str, str]]] = []  # (method, status, body, headers)
        self.calls: list[tuple[str, float]] = []  # (method, time)
        self.refusing = False  # apps.connections.open answers as if Slack were down
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._redeliverer: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._thread.start()
        self._run(self._start())
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/socket/{token}", self._socket)
        app.router.add_post("/respond/{rid}", self._respond)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._redeliverer = self._loop.create_task(self._redeliver_late())

    def stop(self) -> None:
        async def close() -> None:
            if self._redeliverer is not None:
                self._redeliverer.cancel()
            for app in self.apps.values():
                for ws in list(app.sockets):
                    await ws.close()
            await self._runner.cleanup()  # type: ignore[union-attr]

        self._run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _run(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    # -- test controls ------------------------------------------------------------------------
    def add_app(self, name: str = "rescue") -> App:
        n = next(self._ids)
        app = App(f"xoxb-{n}-{name}-secret", f"xapp-1-A{n}-{name}-secret", f"UB{n:04d}", name)
        self.apps[app.bot_token] = self.apps[app.app_token] = app
        return app

    def say(self, app: App, user: str, text: str, channel: str | None = None, thread_ts: str | None = None,
            mention: bool = False) -> str:
        """`user` writes `text` (a DM unless `channel`); a mention also sends `app_mention`. Returns the ts."""
        ts = f"{time.time():.6f}"
        chat = channel or f"D{user}"
        if mention:
            text = f"<@{app.user_id}> {text}"
        event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": chat,
                 "channel_type": "channel" if channel else "im", "client_msg_id": f"c-{ts}"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        events = [event] + ([{**event, "type": "app_mention"}] if mention else [])
        for item in events:
            self._run(self._enqueue(app, "events_api", {"type": "event_callback",
                                                        "event_id": f"Ev{next(self._ids)}", "event": item}))
        return ts

    def slash(self, app: App, user: str, command: str, text: str = "", channel: str | None = None) -> tuple[str, str]:
        """`user` runs `command text` in `channel` (their DM with the bot unless given): (envelope id,
        response url id)."""
        rid = f"R{next(self._ids)}"
        chat = channel or f"D{user}"
        app.responses[rid] = []
        payload = {"token": "verification-token", "team_id": "T1", "team_domain": "standin", "channel_id": chat,
                   "channel_name": "directmessage" if chat.startswith("D") else "general", "user_id": user,
                   "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A1",
                   "is_enterprise_install": "false",
                   "response_url": f"http://127.0.0.1:{self.port}/respond/{rid}", "trigger_id": f"trig-{rid}"}
        return self._run(self._enqueue(app, "slash_commands", payload)), rid

    def responded(self, app: App, rid: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(app.responses.get(rid, []))

    def drop(self, app: App) -> None:
        """Cut every socket of `app` without a close handshake (as a network failure does)."""
        async def cut() -> None:
            for ws in list(app.sockets):
                transport = ws._req.transport if ws._req else None  # type: ignore[union-attr]
                if transport is not None:
                    transport.abort()
        self._run(cut())

    def disconnect(self, app: App, reason: str = "refresh_requested") -> None:
        async def send() -> None:
            for ws in list(app.sockets):
                await ws.send_str(json.dumps({"type": "disconnect", "reason": reason}))
        self._run(send())

    def fail_next(self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.failures.append((method, status, body, headers or {}))

    def posted(self, app: App, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in app.posted if m["channel"] == channel]

    def texts(self, app: App, channel: str) -> list[str]:
        return [m["text"] for m in self.posted(app, channel)]

    def connected(self, app: App) -> bool:
        return bool(app.sockets)

    # -- Socket Mode ----------------------------------------------------------------------------
    async def _enqueue(self, app: App, kind: str, payload: dict[str, Any]) -> str:
        envelope_id = f"env-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0, "retry_reason": "", "payload": payload, "sent_at": 0.0}
        app.unacked[envelope_id] = envelope
        await self._deliver(app, envelope)
        return envelope_id

    async def _deliver(self, app: App, envelope: dict[str, Any]) -> None:
        if not app.sockets:
            return  # sent again when the app connects
        envelope["sent_at"] = time.monotonic()
        app.delivered.append(envelope["envelope_id"])
        with contextlib.suppress(ConnectionError, RuntimeError):
            await app.sockets[-1].send_str(json.dumps({k: v for k, v in envelope.items() if k != "sent_at"}))

    async def _redeliver_late(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            for app in {id(a): a for a in self.apps.values()}.values():
                for envelope in list(app.unacked.values()):
                    if envelope["sent_at"] and time.monotonic() - envelope["sent_at"] > self.ack_deadline:
                        envelope["retry_attempt"] += 1
                        envelope["retry_reason"] = "timeout"
                        await self._deliver(app, envelope)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        app = self.apps.get(request.match_info["token"])
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        if app is None:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return ws
        app.sockets.append(ws)
        app.connects += 1
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(app.sockets),
                                      "debug_info": {"host": "standin"}, "connection_info": {"app_id": "A1"}}))
        for envelope in list(app.unacked.values()):  # not acked on an earlier connection: sent again
            envelope["retry_attempt"] += 1
            envelope["retry_reason"] = "connection"
            await self._deliver(app, envelope)
        try:
            async for frame in ws:
                data = json.loads(frame.data)
                ack = data.get("envelope_id")
                if app.unacked.pop(ack, None) is not None:
                    app.acked.append(ack)
                    if isinstance(data.get("payload"), dict):
                        app.ack_payloads[ack] = data["payload"]
        finally:
            app.sockets.remove(ws)
        return ws

    # -- response URLs --------------------------------------------------------------------------
    async def _respond(self, request: web.Request) -> web.Response:
        """A slash command's response_url: JSON `{text, response_type}`, five uses, then `used_url`."""
        rid = request.match_info["rid"]
        with self._lock:
            failure = next((f for f in self.failures if f[0] == "response_url"), None)
            if failure:
                self.failures.remove(failure)
        if failure:
            return web.json_response(failure[2], status=failure[1], headers=failure[3])
        body = await request.json()
        with self._lock:
            owner = next((a for a in self.apps.values() if rid in a.responses), None)
            if owner is None or len(owner.responses[rid]) >= 5:
                return web.json_response({"ok": False, "error": "used_url"}, status=404)
            owner.responses[rid].append({"text": body.get("text"), "response_type": body.get("response_type")})
        return web.Response(text="ok")

    # -- the Web API ----------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append((method, time.monotonic()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        params = await request.json() if request.can_read_body else {}
        with self._lock:
            failure = next((f for f in self.failures if f[0] == method), None)
            if failure:
                self.failures.remove(failure)
        if failure:
            return web.json_response(failure[2], status=failure[1], headers=failure[3])
        app = self.apps.get(token)
        if app is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        is_app = token == app.app_token
        if method == "apps.connections.open":
            if not is_app:
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            if self.refusing:
                return web.json_response({"ok": False, "error": "internal_error"}, status=503)
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket/{token}"})
        if is_app:
            return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://standin.slack.com/", "team": "Stand-in",
                                      "user": app.name, "team_id": "T1", "user_id": app.user_id, "bot_id": "B1"},
                                     headers={"X-OAuth-Scopes": SCOPES})
        if method == "chat.postMessage":
            text = str(params.get("text") or "")
            if not text:
                return web.json_response({"ok": False, "error": "no_text"})
            if len(text) > 40000:
                return web.json_response({"ok": False, "error": "msg_too_long"})
            ts = f"{time.time():.6f}"
            with self._lock:
                app.posted.append({"channel": params.get("channel"), "text": text,
                                   "thread_ts": params.get("thread_ts"), "ts": ts})
            return web.json_response({"ok": True, "channel": params.get("channel"), "ts": ts})
        if method == "chat.update":
            return web.json_response({"ok": True, "channel": params.get("channel"), "ts": params.get("ts")})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": f"D{params.get('users')}"}})
        return web.json_response({"ok": False, "error": "unknown_method"})


def start_with_slack(env: Env, port: int, gateways: list[Gateway], slack: dict[str, Any],
                     profile: str | None = None) -> Gateway:
    env.provision(profile, port)
    env.set_config(("channels.slack", json.dumps(slack)), profile=profile)
    gw = env.gateway(profile).start()
    gateways.append(gw)
    return gw.wait_healthy(port)


def slack_config(fake: FakeSlack, app: App, **extra: Any) -> dict[str, Any]:
    return {"mode": "socket", "botToken": app.bot_token, "appToken": app.app_token, "apiRoot": fake.api_root,
            **extra}


def replies(fake: FakeSlack, app: App, channel: str, count: int, timeout: float = 20) -> list[str]:
    wait_for(lambda: len(fake.posted(app, channel)) >= count, timeout=timeout, what=f"{count} posts in {channel}")
    return fake.texts(app, channel)
