"""Slack in Socket Mode, one connection per account: DMs, channel mentions, threads, pairing.

An event that needs an answer is kept in the account's pending store
(channels.pending) before its envelope is acknowledged, and leaves it only
when the dispatcher is done with it. Events are keyed by channel and message
`ts`, so a redelivered envelope, or the `message` and `app_mention` events
Slack sends for one mention, are answered once. Channel messages are admitted
by `groupPolicy` and the `channels.<id>` allowlist; a thread (`thread_ts`) is
its own session and the reply goes into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from dataclasses import replace
from functools import partial
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.channels.accounts import AccountsChannel
from openclaw.channels.messages import InboundMessage, OutboundMessage, enabled
from openclaw.channels.pending import PendingUpdates, pending_store
from openclaw.channels.slack_api import MESSAGE_LIMIT, SlackApi, SlackError
from openclaw.channels.slack_config import accounts_from, channel_rule, policy, tokens
from openclaw.channels.slack_socket import SocketMode
from openclaw.channels.telegram_api import split_message
from openclaw.retry import Backoff, retry

SEND = Backoff(base_s=1.0, cap_s=30.0, jitter=0.2)
SEND_ATTEMPTS = 4
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave"}


def event_key(channel: str, ts: str) -> int:
    """A stable id for the message `ts` in `channel` (the pending store keys by integer)."""
    return int.from_bytes(hashlib.blake2b(f"{channel}:{ts}".encode(), digest_size=7).digest(), "big")


class SlackAccount:
    def __init__(self, channel: SlackChannel, account_id: str, raw: dict[str, Any]) -> None:
        self.channel = channel
        self.id = account_id
        self.raw = raw
        self.enabled = enabled(raw) and enabled(channel.config)
        (self.bot_token, self.bot_source), (self.app_token, self.app_source) = tokens(raw, account_id, channel.env)
        self.pending: PendingUpdates = pending_store(channel.state_dir / "slack" / f"pending-{account_id}.json")
        self.web: SlackApi | None = None
        self.socket: SocketMode | None = None
        self.task: asyncio.Task[None] | None = None
        self.connected = False
        self.bot: dict[str, Any] = {}
        self.last_event_at: float | None = None
        self.last_error: str | None = None if self.configured else (self.bot_source if not self.bot_token
                                                                    else self.app_source)
        self.last_error_at: float | None = None
        self.started_at: float | None = None

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and self.app_token)

    def error(self, message: str) -> None:
        self.last_error, self.last_error_at = message, time.time()
        logfile.warn(f"slack account {self.id}: {message}", subsystem="slack")

    def start(self, session: aiohttp.ClientSession) -> None:
        if not self.enabled or not self.configured or (self.task and not self.task.done()):
            return
        root = self.raw.get("apiRoot")
        self.web = SlackApi(session, self.bot_token or "", root)
        self.socket = SocketMode(SlackApi(session, self.app_token or "", root), session, self._event, self._state)
        self.started_at = time.time()
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task, self.connected = None, False

    def _state(self, connected: bool, error: str | None) -> None:
        self.connected = connected
        if error:
            self.error(error)

    async def _run(self) -> None:
        assert self.web is not None and self.socket is not None
        await asyncio.to_thread(self.pending.load)
        waits = SEND.waits()
        try:
            while not self.bot:
                try:
                    self.bot = await self.web.auth_test()
                except SlackError as exc:
                    if exc.token_rejected:
                        raise
                    self.error(f"auth.test failed: {exc.code}; retrying")
                    await waits.sleep(exc.retry_after)
            logfile.info(f"slack account {self.id} connected as {self.bot.get('user')} ({self.bot.get('user_id')})",
                         subsystem="slack")
            await self._resume()
            await self.socket.run()
        except SlackError as exc:
            self.connected = False
            self.error(f"{exc.method}: {exc.code}; the {'app' if exc.method.startswith('apps.') else 'bot'} token "
                       "was rejected: fix it and start the channel again" if exc.token_rejected else str(exc))

    async def _event(self, payload: dict[str, Any]) -> None:
        """An Events API payload: kept as pending and published if it is a message to answer."""
        event = payload.get("event")
        if not isinstance(event, dict):
            return
        inbound = self._inbound(event)
        if inbound is None:
            return
        key = event_key(str(inbound.chat_id), str(event.get("ts")))
        if self.pending.seen(key):
            return  # redelivered, or the other event of one mention: answered once
        self.last_event_at = time.time()
        await self.pending.take(key, event)  # on disk before the envelope is acknowledged
        await self._admit(key, inbound)

    async def _resume(self) -> None:
        for key, event in self.pending.unanswered():
            self.pending.claim(key)
            inbound = self._inbound(event)
            if inbound is None:
                await self.pending.settle(key)
            else:
                await self._admit(key, replace(inbound, resumed=True))

    async def _admit(self, key: int, inbound: InboundMessage) -> None:
        settle = partial(self.pending.settle, key)
        try:
            published = await self.channel.admit(replace(inbound, settle=settle), *policy(self.raw))
        except asyncio.CancelledError:
            self.pending.in_flight.discard(key)
            raise
        except Exception as exc:  # noqa: BLE001 - one bad message must not end the connection
            logfile.error(f"slack account {self.id}: handling a message failed: {exc!r}", subsystem="slack")
            published = False
        if not published:
            await settle()

    def _inbound(self, event: dict[str, Any]) -> InboundMessage | None:
        """The event as a message to answer, or None (not a person's text, or a channel not admitted)."""
        kind, text, user, chat = event.get("type"), event.get("text"), event.get("user"), event.get("channel")
        if kind not in ("message", "app_mention") or not isinstance(text, str) or not isinstance(user, str):
            return None
        if not isinstance(chat, str) or event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES:
            return None
        me = str(self.bot.get("user_id") or "")
        if user == me:
            return None
        direct = event.get("channel_type") == "im" or (kind == "message" and chat.startswith("D"))
        mention = f"<@{me}>" if me else ""
        mentioned = kind == "app_mention" or bool(mention and mention in text)
        thread = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
        if not direct:
            rule = channel_rule(self.raw, chat, user)
            if rule is None:
                return None
            mentioned = mentioned or not rule
        if mention:
            text = re.sub(rf"^\s*{re.escape(mention)}[:,]?\s*", "", text)
        return InboundMessage(
            channel="slack", account=self.id, chat_id=chat, chat_type="private" if direct else "channel",
            sender_id=user, sender_name=str(event.get("username") or user), text=text,
            message_id=0, mentioned=mentioned or direct, bot_username=str(self.bot.get("user") or "") or None,
            thread_id=None if direct else thread,
        )

    def status(self) -> dict[str, Any]:
        return {
            "accountId": self.id, "enabled": self.enabled, "configured": self.configured,
            "running": bool(self.task and not self.task.done()), "connected": self.connected, "mode": "socket",
            "botTokenSource": self.bot_source if self.bot_token else None,
            "appTokenSource": self.app_source if self.app_token else None,
            "bot": {"id": self.bot.get("user_id"), "name": self.bot.get("user"), "team": self.bot.get("team_id")}
            if self.bot else None,
            "lastEventAt": _ms(self.last_event_at), "lastError": self.last_error,
            "lastErrorAt": _ms(self.last_error_at), "startedAt": _ms(self.started_at),
        }


def _ms(ts: float | None) -> int | None:
    return int(ts * 1000) if ts else None


async def probe_account(session: aiohttp.ClientSession, account: SlackAccount) -> dict[str, Any]:
    """auth.test with each token: ok with the bot's identity and scopes, or the one-line reason."""
    if not account.configured:
        return {"ok": False, "error": account.last_error}
    root = account.raw.get("apiRoot")
    web = SlackApi(session, account.bot_token or "", root)
    try:
        me = await web.auth_test()
        await SlackApi(session, account.app_token or "", root).open_connection()
    except SlackError as exc:
        which = "app token (appToken)" if exc.method.startswith("apps.") else "bot token (botToken)"
        return {"ok": False, "error": f"{exc.method}: {exc.code} - check the {which}"}
    return {"ok": True, "bot": {"id": me.get("user_id"), "name": me.get("user"), "team": me.get("team_id")},
            "scopes": web.scopes}


class SlackChannel(AccountsChannel[SlackAccount]):
    name = "slack"
    label = "Slack"

    def make_accounts(self, config: dict[str, Any]) -> dict[str, SlackAccount]:
        return {k: SlackAccount(self, k, v) for k, v in accounts_from(config).items()}

    async def probe(self) -> dict[str, Any]:
        status = self.status()
        async with aiohttp.ClientSession() as session:
            for account in self.accounts.values():
                status["accounts"][account.id]["probe"] = await probe_account(session, account)
        return status

    async def send(self, message: OutboundMessage) -> None:
        """Each chunk retried on its own: a 429 waits Slack's Retry-After, a network error backs off."""
        account = self.accounts.get(message.account)
        if account is None or account.web is None:
            raise RuntimeError(f"slack account {message.account} is not running")
        for chunk in split_message(message.text, MESSAGE_LIMIT):
            await retry(partial(account.web.post_message, str(message.chat_id), chunk, message.thread_id),
                        SEND, SEND_ATTEMPTS, on=SlackError, when=lambda exc: exc.retryable,
                        retry_after=lambda exc: exc.retry_after)
