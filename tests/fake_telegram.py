"""A Telegram Bot API stand-in on loopback: getMe, getUpdates (long polling with offsets and
timeout), sendMessage, sendChatAction, as Telegram answers them; tests inject user messages."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from helpers import Env, Gateway, wait_for


@dataclass
class Bot:
    token: str
    username: str
    id: int
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    polls: list[dict[str, Any]] = field(default_factory=list)  # every getUpdates call's params
    next_update: int = 1000
    next_message: int = 1


class FakeTelegram:
    def __init__(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.failures: list[tuple[str, str, int, dict[str, Any]]] = []  # (token, method, status, body)
        self._loop = asyncio.new_event_loop()
        self._cond: asyncio.Condition | None = None
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.closing = False
        self.trickle = 0  # > 0: every answer goes out in pieces of this many bytes, as a slow network delivers it
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeTelegram:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._cond = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        async def close() -> None:
            self.closing = True
            async with self._cond:  # type: ignore[union-attr]
                self._cond.notify_all()  # type: ignore[union-attr]
            await self._runner.cleanup()  # type: ignore[union-attr]

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ------------------------------------------------------------------------
    def add_bot(self, token: str, username: str) -> Bot:
        bot = Bot(token, username, 7000 + len(self.bots))
        self.bots[token] = bot
        return bot

    def send_user_message(self, token: str, user_id: int, text: str, chat_id: int | None = None,
                          chat_type: str = "private", username: str | None = None) -> int:
        """A user writes to the bot; returns the update id."""
        async def add() -> int:
            bot = self.bots[token]
            bot.next_update += 1
            bot.next_message += 1
            chat = {"id": chat_id if chat_id is not None else user_id, "type": chat_type}
            bot.updates.append({"update_id": bot.next_update, "message": {
                "message_id": bot.next_message, "date": int(time.time()), "text": text, "chat": chat,
                "from": {"id": user_id, "is_bot": False, "first_name": username or f"user{user_id}",
                         "username": username or f"user{user_id}"}}})
            async with self._cond:  # type: ignore[union-attr]
                self._cond.notify_all()  # type: ignore[union-attr]
            return bot.next_update

        return asyncio.run_coroutine_threadsafe(add(), self._loop).result(5)

    def fail_next(self, token: str, method: str, status: int, body: dict[str, Any]) -> None:
        with self._lock:
            self.failures.append((token, method, status, body))

    def messages_to(self, token: str, chat_id: int) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.bots[token].sent if m["chat_id"] == chat_id]

    # -- the Bot API ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await self._answer(request)
        if not self.trickle or not isinstance(response, web.Response) or response.body is None:
            return response
        body = bytes(response.body)  # type: ignore[arg-type]
        trickled = web.StreamResponse(status=response.status, headers={"Content-Type": "application/json"})
        trickled.enable_chunked_encoding()
        await trickled.prepare(request)
        for i in range(0, len(body), self.trickle):
            await trickled.write(body[i:i + self.trickle])
            await asyncio.sleep(0.001)  # each piece its own network read
        await trickled.write_eof()
        return trickled

    async def _answer(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        bot = self.bots.get(token)
        if bot is None:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            params.update(await request.json())
        with self._lock:
            failure = next((f for f in self.failures if f[0] == token and f[1] == method), None)
            if failure:
                self.failures.remove(failure)
        if failure:
            return web.json_response(failure[3], status=failure[2])
        if method == "getMe":
            return _ok({"id": bot.id, "is_bot": True, "first_name": bot.username, "username": bot.username,
                        "can_join_groups": True, "can_read_all_group_messages": False})
        if method == "getUpdates":
            return _ok(await self._get_updates(bot, params))
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if not text or len(text) > 4096:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message is too long" if text else
                                          "Bad Request: message text is empty"}, status=400)
            with self._lock:
                bot.next_message += 1
                bot.sent.append({"chat_id": int(params["chat_id"]), "text": text})
            return _ok({"message_id": bot.next_message, "chat": {"id": int(params["chat_id"])}, "text": text,
                        "date": int(time.time())})
        if method == "sendChatAction":
            bot.actions.append(params)
            return _ok(True)
        if method in SETTINGS:  # upstream's client sets these up at start and gives up on a 404
            return _ok([] if method.startswith("get") else True)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _get_updates(self, bot: Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 50.0)
        bot.polls.append({"offset": offset, "timeout": timeout})
        if offset:
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]  # older ones are confirmed
        deadline = time.monotonic() + timeout
        async with self._cond:  # type: ignore[union-attr]
            while not bot.updates and time.monotonic() < deadline and not self.closing:
                try:
                    await asyncio.wait_for(self._cond.wait(), deadline - time.monotonic())  # type: ignore[union-attr]
                except TimeoutError:
                    break
        return list(bot.updates[:100])


SETTINGS = {"deleteWebhook", "setMyCommands", "deleteMyCommands", "getMyCommands", "setMyDescription",
            "setMyShortDescription", "setMessageReaction"}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


_tokens = itertools.count(1)


def new_bot(tg: FakeTelegram, name: str = "rescue_bot") -> str:
    token = f"{100000 + next(_tokens)}:TOKEN-{name}-secret"
    tg.add_bot(token, name)
    return token


def start_with_telegram(
    env: Env, port: int, gateways: list[Gateway], telegram: dict, profile: str | None = None
) -> Gateway:
    env.provision(profile, port)
    env.set_config(("channels.telegram", json.dumps(telegram)), profile=profile)
    gw = env.gateway(profile).start()
    gateways.append(gw)
    return gw.wait_healthy(port)


def replies(tg: FakeTelegram, token: str, chat: int, count: int, timeout: float = 15) -> list[str]:
    wait_for(lambda: len(tg.messages_to(token, chat)) >= count, timeout=timeout, what=f"{count} replies to {chat}")
    return tg.messages_to(token, chat)
