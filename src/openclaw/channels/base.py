"""What every messaging channel provides: start/stop, a status per account, and sending."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


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

    @property
    def direct(self) -> bool:
        return self.chat_type == "private"


Handler = Callable[[InboundMessage, "Channel"], Awaitable[None]]


def enabled(section: dict[str, Any]) -> bool:
    """A channel or account section is on unless it says `enabled: false`."""
    return section.get("enabled", True) is not False


class Channel:
    """A channel owns its accounts' connections and hands every inbound message to `handler`."""

    name = ""
    label = ""

    def __init__(self, config: dict[str, Any], handler: Handler, state_dir: Any) -> None:
        self.config = config
        self.handler = handler
        self.state_dir = state_dir

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        raise NotImplementedError

    async def probe(self) -> dict[str, Any]:
        """A live check of every account (e.g. the Bot API's getMe)."""
        return self.status()

    async def send(self, account: str, chat_id: int | str, text: str) -> None:
        raise NotImplementedError

    async def typing(self, account: str, chat_id: int | str) -> None:
        """Show a 'working' hint, if the channel has one."""
