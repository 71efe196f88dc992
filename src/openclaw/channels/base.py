"""What every messaging channel provides: start/stop, a status per account, and sending.

A channel turns its platform's updates into `InboundMessage`s, judges them by
its access rules (`channels.access`) and publishes the ones it admits on the
bus; it sends whatever `OutboundMessage` the dispatcher hands back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from openclaw.channels.messages import InboundMessage, OutboundMessage

if TYPE_CHECKING:
    from pathlib import Path

    from openclaw.channels.bus import MessageBus

class Channel:
    """A channel owns its accounts' connections and publishes what they receive on the bus."""

    name = ""
    label = ""

    def __init__(self, config: dict[str, Any], bus: MessageBus, state_dir: Path, env: Mapping[str, str]) -> None:
        from openclaw.channels.access import AccessControl  # with the first configured channel

        self.config = config
        self.bus = bus
        self.state_dir = state_dir
        self.env = env
        self.access = AccessControl(self.name, state_dir)

    async def admit(self, msg: InboundMessage, policy: str, allow_from: set[str]) -> bool:
        """Judge `msg` by the account's access rules and publish it unless it is dropped (False)."""
        verdict = await self.access.verdict(msg, policy, allow_from, lambda text: self.send(msg.reply(text)))
        if verdict is None:
            return False
        await self.bus.publish(replace(msg, access=verdict))
        return True

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        raise NotImplementedError

    async def probe(self) -> dict[str, Any]:
        """A live check of every account (e.g. the Bot API's getMe)."""
        return self.status()

    async def send(self, message: OutboundMessage) -> None:
        raise NotImplementedError

    async def typing(self, account: str, chat_id: int | str, thread_id: str | None = None) -> None:
        """Show a 'working' hint (in the thread, when there is one), if the channel has one."""
