"""Slack in Socket Mode, one connection per account: DMs, channel mentions, threads, pairing.

An event that needs an answer is kept in the account's pending store
(channels.pending) before its envelope is acknowledged, and leaves it only
when the dispatcher is done with it. Events are keyed by channel and message
`ts`, so a redelivered envelope, or the `message` and `app_mention` events
Slack sends for one mention, are answered once. Channel messages are admitted
by `groupPolicy` and the `channels.<id>` allowlist; a thread (`thread_ts`) is
its own session and the reply goes into it. Slash commands (channels.slack_slash)
take the same path, keyed by their `trigger_id`, and are answered through their
`response_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from functools import partial
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.channels import slack_slash as slash
from openclaw.channels.accounts import Account, AccountsChannel
from openclaw.channels.messages import InboundMessage, OutboundMessage
from openclaw.channels.slack_api import DEFAULT_API_ROOT, MESSAGE_LIMIT, SlackApi, SlackError, respond
from openclaw.channels.slack_config import accounts_from, channel_rule, policy, tokens
from openclaw.channels.slack_socket import SocketMode
from openclaw.channels.text import split_message
from openclaw.retry import Backoff, retry

SEND = Backoff(base_s=1.0, cap_s=30.0, jitter=0.2)
SEND_ATTEMPTS = 4
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave"}


def event_key(channel: str, ts: str) -> int:
    """A stable id for the message `ts` in `channel` (the pending store keys by integer)."""
    return int.from_bytes(hashlib.blake2b(f"{channel}:{ts}".encode(), digest_size=7).digest(), "big")


class SlackAccount(Account):
    mode = "socket"
    last_in_key = "lastEventAt"

    def __init__(self, channel: SlackChannel, account_id: str, raw: dict[str, Any]) -> None:
        (self.bot_token, self.bot_source), (self.app_token, self.app_source) = tokens(raw, account_id, channel.env)
        super().__init__(channel, account_id, raw, None if self.bot_token and self.app_token else
                         self.bot_source if not self.bot_token else self.app_source)
        self.web: SlackApi | None = None
        self.socket: SocketMode | None = None
        self.bot: dict[str, Any] = {}

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and self.app_token)

    @property
    def api_root(self) -> str:
        return str(self.raw.get("apiRoot") or DEFAULT_API_ROOT)

    def policy(self) -> tuple[str, set[str]]:
        return policy(self.raw)

    def start(self, session: aiohttp.ClientSession) -> None:
        if not self.can_start():
            return
        self.web = SlackApi(session, self.bot_token or "", self.api_root)
        app = SlackApi(session, self.app_token or "", self.api_root)
        self.socket = SocketMode(app, session, self._envelope, self._state)
        self.launch(self._run())

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
            await self.resume()
            await self.socket.run()
        except SlackError as exc:
            self.connected = False
            self.error(f"{exc.method}: {exc.code}; the {'app' if exc.method.startswith('apps.') else 'bot'} token "
                       "was rejected: fix it and start the channel again" if exc.token_rejected else str(exc))

    async def _envelope(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A Socket Mode envelope's payload; what is returned goes back in its ack."""
        if kind == "events_api":
            await self._event(payload)
        elif kind == "slash_commands":
            return await self._slash(payload)
        return None

    async def _event(self, payload: dict[str, Any]) -> None:
        """An Events API payload: kept as pending and published if it is a message to answer. A message's
        key is its channel and `ts`: the `message` and `app_mention` events of one mention are one."""
        event = payload.get("event")
        if isinstance(event, dict):
            await self.take(event_key(str(event.get("channel")), str(event.get("ts"))), event)

    async def _slash(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A slash command (channels.slack_slash): refused in the ack, or kept and published like a message.
        One this account does not serve (not configured) is acknowledged and nothing more."""
        asked = slash.prompt(payload, slash.settings(self.raw))
        trigger = payload.get("trigger_id")
        if asked is None or not isinstance(trigger, str) or payload.get("user_id") == self.bot.get("user_id"):
            return None
        why = slash.refusal(payload, self.raw) if asked else "Message required."
        if why:
            return slash.ephemeral(why)
        if not slash.usable_url(str(payload.get("response_url") or ""), self.api_root):
            self.error("a slash command came with a response_url that is not HTTPS; not answered")
            return None
        await self.take(event_key(str(payload.get("channel_id")), f"slash:{trigger}"),
                        {**payload, "type": slash.SLASH, "prompt": asked})
        return None

    async def parse(self, raw: dict[str, Any]) -> InboundMessage | None:
        if raw.get("type") == slash.SLASH:
            return slash.message(raw, self.id, self.raw, str(self.bot.get("user") or "") or None)
        return self._inbound(raw)

    async def dropped(self, inbound: InboundMessage) -> None:
        """A slash command's sender the DM rules do not let in is told so (as upstream does)."""
        if inbound.route:
            with contextlib.suppress(SlackError, RuntimeError):
                await self.channel.send(inbound.reply(slash.NOT_AUTHORIZED))

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

    def describe(self) -> dict[str, Any]:
        return {"botTokenSource": self.bot_source if self.bot_token else None,
                "appTokenSource": self.app_source if self.app_token else None,
                "bot": {"id": self.bot.get("user_id"), "name": self.bot.get("user"), "team": self.bot.get("team_id")}
                if self.bot else None}

    async def probe(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """auth.test with each token: the bot's identity and scopes, or the one-line reason."""
        web = SlackApi(session, self.bot_token or "", self.api_root)
        try:
            me = await web.auth_test()
            await SlackApi(session, self.app_token or "", self.api_root).open_connection()
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

    async def send(self, message: OutboundMessage) -> None:
        """Each chunk retried on its own: a 429 waits Slack's Retry-After, a network error backs off. A slash
        command's reply goes to its response_url (`message.route`), to the sender only unless
        `slashCommand.ephemeral` is false."""
        account = self.running_account(message.account)
        web, session = account.web, self.session
        assert web is not None and session is not None  # made by start(), before the account's task
        kind = "ephemeral" if slash.settings(account.raw).ephemeral else "in_channel"
        for chunk in split_message(message.text, MESSAGE_LIMIT):
            post = partial(respond, session, message.route, chunk, kind) if message.route else \
                partial(web.post_message, str(message.chat_id), chunk, message.thread_id)
            await retry(post, SEND, SEND_ATTEMPTS, on=SlackError, when=lambda exc: exc.retryable,
                        retry_after=lambda exc: exc.retry_after)
