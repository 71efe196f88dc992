"""A channel made of accounts that share one HTTP session, started, stopped and reported together:
Telegram and Slack differ in what an account does, not in this."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from openclaw.channels.base import Channel

if TYPE_CHECKING:
    import aiohttp


class ChannelAccount(Protocol):
    id: str

    def start(self, session: aiohttp.ClientSession) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


A = TypeVar("A", bound=ChannelAccount)


class AccountsChannel(Channel, Generic[A]):
    """`make_accounts` builds one account per configured `accounts.*` entry (the default included)."""

    def __init__(self, config: dict[str, Any], bus: Any, state_dir: Path, env: Mapping[str, str]) -> None:
        super().__init__(config, bus, state_dir, env)
        self.accounts: dict[str, A] = self.make_accounts(config)
        self.session: aiohttp.ClientSession | None = None

    def make_accounts(self, config: dict[str, Any]) -> dict[str, A]:
        raise NotImplementedError

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
