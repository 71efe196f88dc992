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
import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.channels.accounts import AccountsChannel
from openclaw.channels.messages import InboundMessage, OutboundMessage, enabled
from openclaw.channels.pairing import normalize_sender
from openclaw.channels.pending import PendingUpdates, pending_store
from openclaw.channels.telegram_api import TelegramApi, TelegramError, split_message
from openclaw.config.view import Config
from openclaw.retry import Backoff, retry
from openclaw.stores import channelstate, legacy
from openclaw.stores.globaldb import global_db, immediate

POLL_TIMEOUT_S = 25
BACKOFF = Backoff(base_s=1.0, cap_s=30.0, jitter=0.2)  # accounts that lost Telegram together come back apart
SEND_ATTEMPTS = 4
DEFAULT_ACCOUNT = "default"


def _token(raw: dict[str, Any], account: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, where from): `tokenFile` (a regular file, not a symlink) > `botToken` > TELEGRAM_BOT_TOKEN."""
    token_file = raw.get("tokenFile")
    if token_file:
        path = Path(os.path.expanduser(token_file))
        if path.is_symlink() or not path.is_file():
            return None, f"tokenFile {token_file} is missing, not a regular file, or a symlink"
        return path.read_text().strip() or None, "tokenFile"
    if raw.get("botToken"):
        return str(raw["botToken"]), "botToken"
    if account == DEFAULT_ACCOUNT and env.get("TELEGRAM_BOT_TOKEN"):
        return env["TELEGRAM_BOT_TOKEN"], "env"
    return None, "no botToken, tokenFile or TELEGRAM_BOT_TOKEN"


def accounts_from(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`channels.telegram` as accounts: the top level is `default`; named accounts inherit its policy
    (a key a named account leaves unset or null comes from the top level)."""
    top = {k: v for k, v in config.items() if k != "accounts"}
    out: dict[str, dict[str, Any]] = {}
    if top.get("botToken") or top.get("tokenFile") or not config.get("accounts"):
        out[DEFAULT_ACCOUNT] = top
    for name, raw in (config.get("accounts") or {}).items():
        if isinstance(raw, dict):
            inherited: dict[str, Any] = {k: top[k] for k in ("apiRoot", "dmPolicy", "allowFrom", "groups") if k in top}
            out[name] = {**inherited, **{k: v for k, v in raw.items() if v is not None}}
    return out


def _policy(settings: dict[str, Any]) -> tuple[str, set[str]]:
    return settings.get("dmPolicy") or "pairing", {normalize_sender(x) for x in settings.get("allowFrom") or []}


def account_policy(config: Config, account: str) -> tuple[str, set[str]]:
    """(dmPolicy, allowFrom) of an account in a whole config, named accounts inheriting the top level."""
    telegram = dict(config.channel("telegram"))
    return _policy(accounts_from(telegram).get(account) or {k: v for k, v in telegram.items() if k != "accounts"})


class TelegramAccount:
    def __init__(self, channel: TelegramChannel, account_id: str, raw: dict[str, Any]) -> None:
        self.channel = channel
        self.id = account_id
        self.raw = raw
        self.enabled = enabled(raw) and enabled(channel.config)
        self.token, self.token_source = _token(raw, account_id, channel.env)
        self.api: TelegramApi | None = None
        self.pending: PendingUpdates = pending_store(self.pending_file)
        self.task: asyncio.Task[None] | None = None
        self.connected = False
        self.bot: dict[str, Any] = {}
        self.last_update_at: float | None = None
        self.last_error: str | None = None if self.token else self.token_source
        self.last_error_at: float | None = None
        self.started_at: float | None = None

    @property
    def offset_file(self) -> Path:
        """Where ours kept the offset before the state database (imported once, then `.migrated`)."""
        return self.channel.state_dir / "telegram" / f"update-offset-{self.id}.json"

    @property
    def pending_file(self) -> Path:
        return self.channel.state_dir / "telegram" / f"pending-{self.id}.json"

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

    def error(self, message: str) -> None:
        self.last_error, self.last_error_at = message, time.time()
        logfile.warn(f"telegram account {self.id}: {message}", subsystem="telegram")

    def start(self, session: aiohttp.ClientSession) -> None:
        if not self.enabled or not self.token or (self.task and not self.task.done()):
            return
        self.api = TelegramApi(session, self.token, self.raw.get("apiRoot"))
        self.started_at = time.time()
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task, self.connected = None, False

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
                    await self._resume()
                    resumed = True
                await self.pending.wait_for_room()
                updates = await self.api.get_updates(offset, POLL_TIMEOUT_S)  # type: ignore[union-attr]
                self.connected = True
                waits.reset()
                for update in updates:
                    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                        continue  # not an update as the Bot API documents it
                    await self._take(update)
                    await asyncio.to_thread(self.save_offset, update["update_id"])  # fsynced: off the loop
                    offset = update["update_id"] + 1
            except asyncio.CancelledError:
                raise
            except OSError as exc:  # the state dir: nothing is acknowledged until it can be written
                self.error(f"could not write under {self.pending_file.parent}: {exc}; retrying")
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

    async def _take(self, update: dict[str, Any]) -> None:
        """A new update: a message that needs an answer is stored as pending, then published."""
        update_id = update["update_id"]
        if self.pending.seen(update_id):
            return  # taken before (Telegram sent it again): never answered twice
        self.last_update_at = time.time()
        inbound = self._inbound(update)
        if inbound is not None:
            await self.pending.take(update_id, update)  # on disk before the offset moves past it
            await self._admit(update_id, inbound)

    async def _resume(self) -> None:
        waiting = self.pending.unanswered()
        if waiting:
            logfile.info(f"telegram account {self.id}: answering {len(waiting)} message(s) taken before "
                         "the last stop", subsystem="telegram")
        for update_id, update in waiting:
            self.pending.claim(update_id)
            inbound = self._inbound(update)
            if inbound is None:
                await self.pending.settle(update_id)
            else:
                await self._admit(update_id, replace(inbound, resumed=True))

    async def _admit(self, update_id: int, inbound: InboundMessage) -> None:
        """Judge and publish; what is dropped (or fails) is settled here, the rest by the dispatcher."""
        settle = partial(self.pending.settle, update_id)
        try:
            published = await self.channel.admit(replace(inbound, settle=settle), *_policy(self.raw))
        except asyncio.CancelledError:
            self.pending.in_flight.discard(update_id)  # not published: the next start answers it
            raise
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the poller
            logfile.error(f"telegram account {self.id}: handling a message failed: {exc!r}", subsystem="telegram")
            published = False
        if not published:
            await settle()

    def _inbound(self, update: dict[str, Any]) -> InboundMessage | None:
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

    def status(self) -> dict[str, Any]:
        return {
            "accountId": self.id, "enabled": self.enabled, "configured": bool(self.token),
            "running": bool(self.task and not self.task.done()), "connected": self.connected,
            "mode": "polling", "tokenSource": self.token_source if self.token else None,
            "bot": {"id": self.bot.get("id"), "username": self.bot.get("username")} if self.bot else None,
            "lastUpdateAt": _ms(self.last_update_at), "lastError": self.last_error,
            "lastErrorAt": _ms(self.last_error_at), "startedAt": _ms(self.started_at),
        }


def _ms(ts: float | None) -> int | None:
    return int(ts * 1000) if ts else None


class TelegramChannel(AccountsChannel[TelegramAccount]):
    name = "telegram"
    label = "Telegram"

    def make_accounts(self, config: dict[str, Any]) -> dict[str, TelegramAccount]:
        return {k: TelegramAccount(self, k, v) for k, v in accounts_from(config).items()}

    async def probe(self) -> dict[str, Any]:
        status = self.status()
        async with aiohttp.ClientSession() as session:
            for account in self.accounts.values():
                result: dict[str, Any] = {"ok": False}
                if account.token:
                    try:
                        me = await TelegramApi(session, account.token, account.raw.get("apiRoot")).get_me()
                        result = {"ok": True, "bot": {"id": me.get("id"), "username": me.get("username")}}
                    except TelegramError as exc:
                        result = {"ok": False, "error": f"{exc.code} {exc.description}"}
                else:
                    result["error"] = account.token_source
                status["accounts"][account.id]["probe"] = result
        return status

    def _api(self, account: str) -> TelegramApi:
        acct = self.accounts.get(account)
        if acct is None or acct.api is None:
            raise RuntimeError(f"telegram account {account} is not running")
        return acct.api

    async def send(self, message: OutboundMessage) -> None:
        """Each chunk is retried on its own (a 429 never resends earlier ones): a 429 is waited out,
        a network error retried a few times."""
        for chunk in split_message(message.text):
            await retry(partial(self._send_chunk, message, chunk), BACKOFF, SEND_ATTEMPTS, on=TelegramError,
                        when=lambda exc: exc.code in (0, 429),
                        retry_after=lambda exc: exc.retry_after or None)

    async def _send_chunk(self, message: OutboundMessage, chunk: str) -> None:
        await self._api(message.account).send_message(message.chat_id, chunk)

    async def typing(self, account: str, chat_id: int | str, thread_id: str | None = None) -> None:
        with contextlib.suppress(TelegramError, RuntimeError):
            await self._api(account).send_chat_action(chat_id)
