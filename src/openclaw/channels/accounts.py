"""A channel made of bot accounts that share one HTTP session, and what every such account does the
same way whatever its platform: its state and the status it reports, and the way it takes a message.

Taking a message (channels.pending): one that needs an answer is kept on disk before the account
acknowledges it to its platform, judged by the access rules and published, and leaves the store
when the dispatcher is done with it (or at once when it is dropped); one an earlier run took and
did not answer is answered at the next start; one taken before (sent again, replayed by a resume)
is never answered twice. The accounts differ in how they reach their platform and how they read
its messages (`parse`), not in this.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from openclaw import logfile, memguard
from openclaw.channels.base import Channel
from openclaw.channels.messages import InboundMessage, enabled
from openclaw.channels.pending import PendingUpdates, pending_store

if TYPE_CHECKING:
    import aiohttp


class Account:
    """One bot account. Subclasses say how it connects (`start`), reads a stored message (`parse`),
    whom it lets in (`policy`), and what it adds to its status (`describe`)."""

    mode = ""  # how it reaches its platform: polling | gateway | socket
    last_in_key = "lastMessageAt"  # the status key saying when a message last came in

    def __init__(self, channel: AccountsChannel[Any], account_id: str, raw: dict[str, Any],
                 problem: str | None) -> None:
        """`problem`: why the account cannot connect (no token), or None."""
        self.channel = channel
        self.id = account_id
        self.raw = raw
        self.enabled = enabled(raw) and enabled(channel.config)
        self.pending: PendingUpdates = pending_store(channel.state_dir / channel.name / f"pending-{account_id}.json")
        self.task: asyncio.Task[None] | None = None
        self.connected = False
        self.last_in_at: float | None = None
        self.problem = problem
        self.last_error: str | None = problem
        self.last_error_at: float | None = None
        self.started_at: float | None = None

    # -- what a platform's account says -------------------------------------------------------
    @property
    def configured(self) -> bool:
        raise NotImplementedError

    def start(self, session: aiohttp.ClientSession) -> None:
        raise NotImplementedError

    async def parse(self, raw: dict[str, Any]) -> InboundMessage | None:
        """A stored platform message as one to judge, or None (nothing to answer)."""
        raise NotImplementedError

    def policy(self) -> tuple[str, set[str]]:
        """(dmPolicy, allowFrom) as channels.access takes them."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The platform's own status keys (token sources, the bot's identity, ...)."""
        return {}

    async def probe(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """A live check of the configured token(s): {"ok": True, ...} or {"ok": False, "error": one line}."""
        raise NotImplementedError

    def is_connected(self) -> bool:
        return self.connected

    async def dropped(self, inbound: InboundMessage) -> None:
        """The access rules dropped `inbound` (a platform may tell the sender; must not raise)."""

    # -- the same for every platform ----------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self.task and not self.task.done())

    def can_start(self) -> bool:
        return self.enabled and self.configured and not self.running

    def launch(self, run: Coroutine[Any, Any, None]) -> None:
        self.started_at = time.time()
        self.task = asyncio.create_task(run)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task, self.connected = None, False

    def error(self, message: str) -> None:
        self.last_error, self.last_error_at = message, time.time()
        logfile.warn(f"{self.channel.name} account {self.id}: {message}", subsystem=self.channel.name)

    def status(self) -> dict[str, Any]:
        return {"accountId": self.id, "enabled": self.enabled, "configured": self.configured,
                "running": self.running, "connected": self.is_connected(), "mode": self.mode, **self.describe(),
                self.last_in_key: _ms(self.last_in_at), "lastError": self.last_error,
                "lastErrorAt": _ms(self.last_error_at), "startedAt": _ms(self.started_at)}

    # -- taking messages ------------------------------------------------------------------------
    async def take(self, key: int, raw: dict[str, Any]) -> None:
        """A message from the platform under `key`: kept (on disk when this returns, so the caller may
        acknowledge it), judged and published. OSError: not kept; the caller must not acknowledge it."""
        if self.pending.seen(key):
            return  # sent again, or replayed: answered once
        inbound = await self.parse(raw)
        if inbound is None:
            return
        self.last_in_at = time.time()
        await self.pending.wait_for_room()
        await self.pending.take(key, raw)
        await self.admit(key, inbound)

    async def resume(self) -> None:
        """Messages taken before a stop or a crash and not answered: answered now."""
        waiting = self.pending.unanswered()
        if waiting:
            logfile.info(f"{self.channel.name} account {self.id}: answering {len(waiting)} message(s) taken "
                         "before the last stop", subsystem=self.channel.name)
        for key, raw in waiting:
            self.pending.claim(key)
            inbound = await self.parse(raw)
            if inbound is None:
                await self.pending.settle(key)
            else:
                await self.admit(key, replace(inbound, resumed=True))

    async def admit(self, key: int, inbound: InboundMessage) -> bool:
        """Judge and publish (True); what is dropped, or fails, is settled here, the rest by the dispatcher."""
        settle = partial(self.pending.settle, key)
        try:
            published = await self.channel.admit(replace(inbound, settle=settle), *self.policy())
        except asyncio.CancelledError:
            self.pending.in_flight.discard(key)  # not published: the next start answers it
            raise
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the account
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            logfile.error(f"{self.channel.name} account {self.id}: handling a message failed: {exc!r}",
                          subsystem=self.channel.name)
            published = False
        else:
            if not published:
                await self.dropped(inbound)
        if not published:
            await settle()
        return published


def _ms(ts: float | None) -> int | None:
    return int(ts * 1000) if ts else None


A = TypeVar("A", bound=Account)


class AccountsChannel(Channel, Generic[A]):
    """`make_accounts` builds one account per configured `accounts.*` entry (the default included)."""

    def __init__(self, config: dict[str, Any], bus: Any, state_dir: Path, env: Mapping[str, str]) -> None:
        super().__init__(config, bus, state_dir, env)
        self.accounts: dict[str, A] = self.make_accounts(config)
        self.session: aiohttp.ClientSession | None = None

    def make_accounts(self, config: dict[str, Any]) -> dict[str, A]:
        raise NotImplementedError

    def running_account(self, name: str) -> A:
        """The account `name`, started (RuntimeError when it is not, or was stopped)."""
        account = self.accounts.get(name)
        if account is None or account.task is None:
            raise RuntimeError(f"{self.name} account {name} is not running")
        return account

    async def start(self) -> None:
        import aiohttp

        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession()
        for account in self.accounts.values():
            account.start(self.session)

    async def stop(self) -> None:
        await asyncio.gather(*(a.stop() for a in self.accounts.values()))
        if self.session is not None:
            await self.session.close()
            self.session = None

    def status(self) -> dict[str, Any]:
        accounts = {k: a.status() for k, a in self.accounts.items()}
        return {"configured": any(a["configured"] for a in accounts.values()),
                "running": any(a["running"] for a in accounts.values()),
                "connected": any(a["connected"] for a in accounts.values()), "accounts": accounts}

    async def probe(self) -> dict[str, Any]:
        import aiohttp

        status = self.status()
        async with aiohttp.ClientSession() as session:
            for account in self.accounts.values():
                status["accounts"][account.id]["probe"] = await account.probe(session) if account.configured \
                    else {"ok": False, "error": account.problem}
        return status
