"""What every messaging channel provides: start/stop, a status per account, and sending.

A channel turns its platform's updates into `InboundMessage`s, judges them by
its access rules (`channels.access`) and publishes the ones it admits on the
bus; it sends whatever `OutboundMessage` the dispatcher hands back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from openclaw.channels.bus import MessageBus

OPERATOR, CHAT, STRANGER = "operator", "chat", "stranger"  # access verdicts (channels.access)


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    account: str
    chat_id: int | str
    chat_type: str  # private | group | supergroup | channel
    sender_id: str
    sender_name: str
    text: str
    message_id: int
    mentioned: bool  # the bot was @mentioned (or replied to) in a group
    bot_username: str | None = None  # this account's own name (commands may be addressed to it)
    access: str = ""  # the channel's verdict: operator | chat | stranger (channels.access)
    resumed: bool = False  # taken before a stop and answered now: its turn may have begun already
    # Called once whoever handles the message is done with it (its reply sent, or none needed); a
    # channel that keeps unanswered messages (channels.pending) forgets it then. None: nothing to do.
    settle: Callable[[], Awaitable[None]] | None = field(default=None, compare=False, repr=False)

    @property
    def direct(self) -> bool:
        return self.chat_type == "private"

    @property
    def operator(self) -> bool:
        return self.access == "operator"

    def reply(self, text: str) -> OutboundMessage:
        return OutboundMessage(self.channel, self.account, self.chat_id, text)


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    account: str
    chat_id: int | str
    text: str


def enabled(section: dict[str, Any]) -> bool:
    """A channel or account section is on unless it says `enabled: false`."""
    return section.get("enabled", True) is not False


class Channel:
    """A channel owns its accounts' connections and publishes what they receive on the bus."""

    name = ""
    label = ""

    def __init__(self, config: dict[str, Any], bus: MessageBus, state_dir: Path) -> None:
        from openclaw.channels.access import AccessControl  # with the first configured channel

        self.config = config
        self.bus = bus
        self.state_dir = state_dir
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

    async def typing(self, account: str, chat_id: int | str) -> None:
        """Show a 'working' hint, if the channel has one."""
