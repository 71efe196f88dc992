"""Discord over the gateway WebSocket and the REST API, one connection per bot account.

A MESSAGE_CREATE that needs an answer is stored as pending (channels.pending,
keyed by its message id) before its sequence number counts, and leaves that
store only when the dispatcher is done with it: a resume that replays it, or a
restart that finds it, never answers it twice, and one a stop cut short is
answered at the next start. DMs go through pairing (channels.access); guild
messages through the guild rules (channels.discord_config). A guild channel is
a `channel` room (`agent:<id>:discord:channel:<channelId>`) and a thread its
own session on its parent's key (`...:thread:<threadId>`), as upstream keys
them; replies and the typing hint go into the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import OrderedDict
from functools import partial
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.channels.accounts import Account, AccountsChannel
from openclaw.channels.discord_api import MESSAGE_LIMIT, DiscordApi, DiscordError
from openclaw.channels.discord_config import accounts_from, dm_policy, guild_rule, resolve_token
from openclaw.channels.discord_gateway import DiscordGateway, GatewayFatal
from openclaw.channels.messages import InboundMessage, OutboundMessage
from openclaw.channels.text import split_message
from openclaw.retry import Backoff, retry

SEND = Backoff(base_s=0.5, cap_s=10.0, jitter=0.2)
SEND_ATTEMPTS = 4
KNOWN_CHANNELS = 4096  # channel/thread ids remembered for names and parents (bounded)
THREAD_TYPES = {10, 11, 12}

# Gateway sessions of stopped channel objects in this process, so a channel restart resumes (and
# Discord replays what arrived meanwhile) instead of identifying afresh: (state dir, account) -> state.
_sessions: dict[tuple[str, str], tuple[str | None, int | None, str | None]] = {}


class DiscordAccount(Account):
    mode = "gateway"

    def __init__(self, channel: DiscordChannel, account_id: str, raw: dict[str, Any]) -> None:
        self.token, self.token_source = resolve_token(raw, account_id, channel.env)
        super().__init__(channel, account_id, raw, None if self.token else self.token_source)
        self.api: DiscordApi | None = None
        self.gateway: DiscordGateway | None = None
        self.known: OrderedDict[str, tuple[str, str]] = OrderedDict()  # channel id -> (name, parent id)
        self.dm_channels: OrderedDict[str, str] = OrderedDict()  # user id -> their DM channel with the bot

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def bot(self) -> dict[str, Any]:
        return self.gateway.user if self.gateway else {}

    def is_connected(self) -> bool:
        return bool(self.gateway and self.gateway.connected)

    def policy(self) -> tuple[str, set[str]]:
        return dm_policy(self.raw)

    def start(self, session: aiohttp.ClientSession) -> None:
        if not self.can_start():
            return
        self.api = DiscordApi(session, self.token or "", self.raw.get("apiRoot"))
        self.gateway = DiscordGateway(self.api, self.token or "", self._on_dispatch)
        saved = _sessions.pop(self._session_key, None)
        if saved is not None:
            self.gateway.restore(saved)
        self.launch(self._run())

    async def stop(self) -> None:
        await super().stop()
        if self.gateway:
            self.gateway.connected = False
            if self.gateway.session_id:
                _sessions[self._session_key] = self.gateway.saved()

    @property
    def _session_key(self) -> tuple[str, str]:
        return str(self.channel.state_dir), f"{self.id}:{self.token}"

    async def _run(self) -> None:
        await asyncio.to_thread(self.pending.load)
        try:
            await self.gateway.run(self.error)  # type: ignore[union-attr]
        except GatewayFatal as exc:
            self.error(f"{exc}; fix it and start the channel again (openclaw channels start discord)")

    async def _on_dispatch(self, kind: str, data: dict[str, Any]) -> None:
        """An event from the gateway. The state dir failing (OSError) propagates: the sequence number
        does not move, and the resume that follows replays the event."""
        try:
            await self._event(kind, data)
        except (OSError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - one malformed event must not end the connection
            logfile.error(f"discord account {self.id}: {kind} not handled: {exc!r}", subsystem="discord")

    async def _event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "MESSAGE_CREATE":
            message_id = _snowflake(data.get("id"))
            if message_id is not None:
                await self.take(message_id, data)
        elif kind == "READY":
            logfile.info(f"discord account {self.id} connected as {self.bot.get('username')}", subsystem="discord")
            await self.resume()
        elif kind == "GUILD_CREATE":
            for item in [*(data.get("channels") or []), *(data.get("threads") or [])]:
                self._learn(item)
        elif kind in ("CHANNEL_CREATE", "CHANNEL_UPDATE", "THREAD_CREATE", "THREAD_UPDATE"):
            self._learn(data)

    async def _look_up(self, channel_id: str) -> None:
        """A guild channel not seen in GUILD_CREATE/THREAD_CREATE: ask for it once (is it a thread, of
        which parent, what name); a failure is remembered as a plain channel."""
        if not channel_id or channel_id in self.known or self.api is None:
            return
        try:
            found = await self.api.call("GET", f"/channels/{channel_id}", "/channels/{id}", timeout=10)
        except DiscordError:
            found = None
        self._learn(found if isinstance(found, dict) and str(found.get("id")) == channel_id else {"id": channel_id})

    def _learn(self, item: Any) -> None:
        if isinstance(item, dict) and item.get("id"):
            parent = str(item.get("parent_id") or "") if item.get("type") in THREAD_TYPES else ""
            _remember(self.known, str(item["id"]), (str(item.get("name") or ""), parent))

    async def parse(self, data: dict[str, Any]) -> InboundMessage | None:
        if data.get("guild_id"):
            await self._look_up(str(data.get("channel_id") or ""))
        return self._inbound(data)

    def _inbound(self, data: dict[str, Any]) -> InboundMessage | None:
        """The message as one to judge, or None (a bot's, an empty one, or a guild room it may not answer)."""
        author = _dict(data.get("author"))
        text, channel_id = data.get("content"), str(data.get("channel_id") or "")
        me = str(self.bot.get("id") or "")
        if not isinstance(text, str) or not text.strip() or not channel_id or not author.get("id"):
            return None
        automated = author.get("bot") or data.get("webhook_id")
        if str(author["id"]) == me or (automated and not self.raw.get("allowBots")):
            return None
        sender, name = str(author["id"]), str(author.get("username") or "")
        guild = str(data.get("guild_id") or "")
        mentioned, text = _mention(text, data, me)
        parent = ""
        if not guild:
            _remember(self.dm_channels, sender, channel_id)
        else:
            own_name, parent = self.known.get(channel_id, ("", ""))
            rule = guild_rule(self.raw, guild, channel_id, own_name, parent, self.known.get(parent, ("", ""))[0])
            roles = frozenset(str(r) for r in _dict(data.get("member")).get("roles") or [])
            if not rule.allowed or not rule.admits(sender, name, roles):
                return None
            mentioned = mentioned or not rule.require_mention
        return InboundMessage(  # a thread: its parent's room with the thread on it, as upstream keys sessions
            channel="discord", account=self.id, chat_id=parent or channel_id,
            thread_id=channel_id if parent else None, chat_type="channel" if guild else "private",
            sender_id=sender, sender_name=name, text=text, message_id=_snowflake(data.get("id")) or 0,
            mentioned=mentioned, bot_username=str(self.bot.get("username") or "") or None)

    def describe(self) -> dict[str, Any]:
        gw = self.gateway
        return {
            "tokenSource": self.token_source if self.token else None,
            "bot": {"id": self.bot.get("id"), "username": self.bot.get("username")} if self.bot else None,
            "session": {"connects": gw.connects, "identifies": gw.identifies, "resumes": gw.resumes,
                        "seq": gw.seq} if gw else None,
            "rateLimitWaitS": round(self.api.limits.waited, 3) if self.api else 0,
        }

    async def probe(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """GET /users/@me with the account's token."""
        try:
            me = await DiscordApi(session, self.token or "", self.raw.get("apiRoot")).me()
        except DiscordError as exc:
            hint = "; the bot token was rejected: copy it again from the Discord Developer Portal" \
                if exc.status == 401 else ""
            return {"ok": False, "error": f"{exc.status} {exc.message}{hint}"}
        return {"ok": True, "bot": {"id": me.get("id"), "username": me.get("username")}}


def _mention(text: str, data: dict[str, Any], me: str) -> tuple[bool, str]:
    """(the bot was mentioned or replied to, the text without the bot's own mention)."""
    if not me:
        return False, text
    tag = re.compile(rf"<@!?{re.escape(me)}>")
    mentions = data.get("mentions")
    replied = _dict(_dict(data.get("referenced_message")).get("author")).get("id")
    mentioned = bool(tag.search(text)) or any(str(_dict(m).get("id")) == me for m in mentions or []) \
        or str(replied or "") == me
    return mentioned, tag.sub("", text).strip() or text


def _remember(table: OrderedDict[str, Any], key: str, value: Any) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > KNOWN_CHANNELS:
        table.popitem(last=False)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _snowflake(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


class DiscordChannel(AccountsChannel[DiscordAccount]):
    name = "discord"
    label = "Discord"

    def make_accounts(self, config: dict[str, Any]) -> dict[str, DiscordAccount]:
        return {k: DiscordAccount(self, k, v) for k, v in accounts_from(config).items()}

    def _api(self, account: str) -> DiscordApi:
        api = self.running_account(account).api
        assert api is not None  # made by start(), before the account's task
        return api

    async def send(self, message: OutboundMessage) -> None:
        """Each chunk (Discord's 2,000-character limit) is retried on its own after a network or server error;
        rate limits are waited out by the client. A user id (a pairing approval's notice) goes to that
        user's DM channel, opened through the API when this process has not seen it."""
        api = self._api(message.account)
        target = message.thread_id or await self._target(message.account, str(message.chat_id))
        for chunk in split_message(message.text, MESSAGE_LIMIT):
            await retry(partial(api.send_message, target, chunk), SEND, SEND_ATTEMPTS,
                        on=DiscordError, when=lambda exc: exc.status == 0 or exc.status >= 500)

    async def _target(self, account: str, chat_id: str) -> str:
        """The channel to post in: `chat_id` itself (or upstream's `channel:<id>`), or the DM channel of
        the user it names (`user:<id>`, or a bare user id)."""
        if chat_id.startswith("channel:"):
            return chat_id.removeprefix("channel:")
        known = self.accounts[account].dm_channels.get(chat_id.removeprefix("user:"))
        if known:
            return known
        if chat_id.startswith("user:") or await self._is_user(account, chat_id):
            dm = await self._api(account).open_dm(chat_id.removeprefix("user:"))
            _remember(self.accounts[account].dm_channels, chat_id.removeprefix("user:"), dm)
            return dm
        return chat_id

    async def _is_user(self, account: str, chat_id: str) -> bool:
        """A bare id this process has never seen as a channel: ask Discord whether it names a user."""
        acct = self.accounts[account]
        if not chat_id.isdigit() or chat_id in acct.known or chat_id in acct.dm_channels.values():
            return False
        try:
            await self._api(account).call("GET", f"/users/{chat_id}", "/users/{id}", timeout=10)
        except DiscordError:
            return False
        return True

    async def typing(self, account: str, chat_id: int | str, thread_id: str | None = None) -> None:
        with contextlib.suppress(DiscordError, RuntimeError):
            await self._api(account).trigger_typing(thread_id or str(chat_id))

