"""Telegram over the Bot API with long polling, one poller per account.

A message that needs an answer is stored as pending (channels.pending) before
the account acknowledges it (persists the offset past it), and leaves that
store only when the dispatcher is done with it; after a crash or a stop, the
next start answers what is still there. Update ids are checked against the
store, so an update Telegram sends again is not answered twice. Network errors
back off exponentially; a 429 waits the `retry_after` it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.channels.accounts import Account, AccountsChannel
from openclaw.channels.messages import InboundMessage, OutboundMessage
from openclaw.channels.pairing import normalize_sender
from openclaw.channels.settings import read_accounts, read_token
from openclaw.channels.telegram_api import MESSAGE_LIMIT, TelegramApi, TelegramError
from openclaw.channels.text import split_message
from openclaw.config.secret_env import CHANNEL_TOKENS
from openclaw.config.view import Config
from openclaw.retry import Backoff, retry
from openclaw.stores import channelstate, legacy
from openclaw.stores.globaldb import global_db, immediate

POLL_TIMEOUT_S = 25
BACKOFF = Backoff(base_s=1.0, cap_s=30.0, jitter=0.2)  # accounts that lost Telegram together come back apart
SEND_ATTEMPTS = 4
(TOKEN,) = CHANNEL_TOKENS["telegram"]
INHERITED = ("apiRoot", "dmPolicy", "allowFrom", "groups")


def accounts_from(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`channels.telegram` as accounts: the top level is `default`; named accounts inherit its policy."""
    return read_accounts(config, (TOKEN,), INHERITED)


def _policy(settings: dict[str, Any]) -> tuple[str, set[str]]:
    return settings.get("dmPolicy") or "pairing", {normalize_sender(x) for x in settings.get("allowFrom") or []}


def account_policy(config: Config, account: str) -> tuple[str, set[str]]:
    """(dmPolicy, allowFrom) of an account in a whole config, named accounts inheriting the top level."""
    telegram = dict(config.channel("telegram"))
    return _policy(accounts_from(telegram).get(account) or {k: v for k, v in telegram.items() if k != "accounts"})


class TelegramAccount(Account):
    mode = "polling"
    last_in_key = "lastUpdateAt"

    def __init__(self, channel: TelegramChannel, account_id: str, raw: dict[str, Any]) -> None:
        self.token, self.token_source = read_token(raw, TOKEN, account_id, channel.env)
        super().__init__(channel, account_id, raw, None if self.token else self.token_source)
        self.api: TelegramApi | None = None
        self.bot: dict[str, Any] = {}

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def offset_file(self) -> Path:
        """Where ours kept the offset before the state database (imported once, then `.migrated`)."""
        return self.channel.state_dir / "telegram" / f"update-offset-{self.id}.json"

    def load_offset(self) -> int | None:
        """The next update id to ask for, from upstream's row in the state database (a thread or the CLI)."""
        return global_db(self.channel.state_dir).call(self._read_offset)

    def save_offset(self, update_id: int) -> None:
        """Record `update_id` as handled, in upstream's row and shape (a thread or the CLI)."""
        global_db(self.channel.state_dir).call(partial(self._write_offset, update_id))

    def _read_offset(self, db: sqlite3.Connection) -> int | None:
        global_db(self.channel.state_dir).ensure(db, "plugin-state", channelstate.DDL)
        key = channelstate.account_key(self.id)
        stored = channelstate.read_entry(db, channelstate.TELEGRAM, channelstate.OFFSETS, key)
        last = channelstate.usable_offset(stored, self.token or "")
        former = self._former_offset()
        if former is not None:
            global_db(self.channel.state_dir).ensure(db, "migration-ledger", legacy.DDL)
            with immediate(db):
                if last is None or former > last:
                    last = former
                    self._write_offset(former, db)
                legacy.record(db, "telegram-update-offset", self.offset_file, self.offset_file.read_bytes(),
                              "plugin_state_entries", 1)
            target = legacy.archive(self.offset_file)
            logfile.info(f"telegram account {self.id}: offset imported from {self.offset_file.name}, kept as "
                         f"{target.name}", subsystem="telegram")
        return last + 1 if last is not None else None

    def _former_offset(self) -> int | None:
        try:
            last = json.loads(self.offset_file.read_text()).get("lastUpdateId")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError):
            last = None
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            with contextlib.suppress(OSError):
                legacy.archive(self.offset_file)  # unreadable: set aside, Telegram's own offset applies
            return None
        return last

    def _write_offset(self, update_id: int, db: sqlite3.Connection) -> None:
        global_db(self.channel.state_dir).ensure(db, "plugin-state", channelstate.DDL)
        channelstate.write_entry(db, channelstate.TELEGRAM, channelstate.OFFSETS, channelstate.account_key(self.id),
                                 channelstate.offset_value(update_id, self.token or ""))

    def start(self, session: aiohttp.ClientSession) -> None:
        if self.can_start():
            self.api = TelegramApi(session, self.token or "", self.raw.get("apiRoot"))
            self.launch(self._run())

    def policy(self) -> tuple[str, set[str]]:
        return _policy(self.raw)

    async def _run(self) -> None:
        waits = BACKOFF.waits()
        offset = await asyncio.to_thread(self.load_offset)
        await asyncio.to_thread(self.pending.load)
        resumed = False
        while True:
            try:
                if not self.bot:
                    self.bot = await self.api.get_me()  # type: ignore[union-attr]
                    self.connected = True
                    logfile.info(f"telegram account {self.id} polling as @{self.bot.get('username')}",
                                 subsystem="telegram")
                if not resumed:  # messages taken before a crash or a stop: answered now (the bot is known)
                    await self.resume()
                    resumed = True
                await self.pending.wait_for_room()
                updates = await self.api.get_updates(offset, POLL_TIMEOUT_S)  # type: ignore[union-attr]
                self.connected = True
                waits.reset()
                for update in updates:
                    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                        continue  # not an update as the Bot API documents it
                    await self.take(update["update_id"], update)
                    await asyncio.to_thread(self.save_offset, update["update_id"])  # fsynced: off the loop
                    offset = update["update_id"] + 1
            except asyncio.CancelledError:
                raise
            except OSError as exc:  # the state dir: nothing is acknowledged until it can be written
                self.error(f"could not write under {self.pending.path.parent}: {exc}; retrying")
                await waits.sleep()
            except TelegramError as exc:
                if exc.code == 401:
                    self.connected = False
                    self.error("the bot token was rejected (401 Unauthorized); "
                               "fix the token and start the channel again")
                    return
                if exc.code == 429:
                    wait = waits.next(exc.retry_after or None)
                    self.error(f"rate limited by Telegram (429); retrying in {wait:.3g}s")
                    await asyncio.sleep(wait)
                    continue
                self.connected = exc.code != 0
                self.error(f"{exc.method} failed: {exc.description}" + ("" if exc.code else "; retrying"))
                await waits.sleep()

    async def parse(self, update: dict[str, Any]) -> InboundMessage | None:
        """The update as a message to answer, or None (not a text message from a person)."""
        try:
            message = update.get("message") or {}
            text = message.get("text")
            sender = message.get("from") or {}
            chat = message.get("chat") or {}
            chat_id = chat.get("id")
            if not isinstance(text, str) or sender.get("is_bot") or not isinstance(chat_id, int | str):
                return None
            return InboundMessage(
                channel="telegram", account=self.id, chat_id=chat_id, chat_type=chat.get("type", "private"),
                sender_id=str(sender.get("id")), sender_name=sender.get("username") or sender.get("first_name") or "",
                text=text, message_id=int(message.get("message_id") or 0), mentioned=self._mentioned(message),
                bot_username=self.bot.get("username"),
            )
        except (AttributeError, TypeError, ValueError):  # not shaped as the Bot API documents it
            return None

    def _mentioned(self, message: dict[str, Any]) -> bool:
        username = (self.bot.get("username") or "").lower()
        reply_from = ((message.get("reply_to_message") or {}).get("from") or {}).get("id")
        if reply_from and reply_from == self.bot.get("id"):
            return True
        text = message.get("text") or ""
        return bool(username) and f"@{username}" in text.lower()

    def describe(self) -> dict[str, Any]:
        return {"tokenSource": self.token_source if self.token else None,
                "bot": {"id": self.bot.get("id"), "username": self.bot.get("username")} if self.bot else None}

    async def probe(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """getMe with the account's token."""
        try:
            me = await TelegramApi(session, self.token or "", self.raw.get("apiRoot")).get_me()
        except TelegramError as exc:
            return {"ok": False, "error": f"{exc.code} {exc.description}"}
        return {"ok": True, "bot": {"id": me.get("id"), "username": me.get("username")}}


class TelegramChannel(AccountsChannel[TelegramAccount]):
    name = "telegram"
    label = "Telegram"

    def make_accounts(self, config: dict[str, Any]) -> dict[str, TelegramAccount]:
        return {k: TelegramAccount(self, k, v) for k, v in accounts_from(config).items()}

    def _api(self, account: str) -> TelegramApi:
        api = self.running_account(account).api
        assert api is not None  # made by start(), before the account's task
        return api

    async def send(self, message: OutboundMessage) -> None:
        """Each chunk is retried on its own (a 429 never resends earlier ones): a 429 is waited out,
        a network error retried a few times."""
        for chunk in split_message(message.text, MESSAGE_LIMIT):
            await retry(partial(self._send_chunk, message, chunk), BACKOFF, SEND_ATTEMPTS, on=TelegramError,
                        when=lambda exc: exc.code in (0, 429),
                        retry_after=lambda exc: exc.retry_after or None)

    async def _send_chunk(self, message: OutboundMessage, chunk: str) -> None:
        await self._api(message.account).send_message(message.chat_id, chunk)

    async def typing(self, account: str, chat_id: int | str, thread_id: str | None = None) -> None:
        with contextlib.suppress(TelegramError, RuntimeError):
            await self._api(account).send_chat_action(chat_id)
