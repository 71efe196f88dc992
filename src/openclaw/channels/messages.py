"""The messages channels and the dispatcher pass over the bus, and the access verdicts on them.
Kept apart from the channel base class so the bus and the access rules need only these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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
    thread_id: str | None = None  # a platform thread: its own session, and the reply goes into it
    # Where the channel delivers the replies instead of the chat, its own handle (Slack: a slash
    # command's response_url); None: into the chat.
    route: str | None = None
    # A session the channel names for this message's turn instead of the chat's (Slack's slash prompts:
    # `slack:slash:<user>`); commands still act on the chat's session. None: the chat's.
    session: str | None = None
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
        return OutboundMessage(self.channel, self.account, self.chat_id, text, self.thread_id, self.route)


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    account: str
    chat_id: int | str
    text: str
    thread_id: str | None = None
    route: str | None = None  # the channel's own delivery handle (InboundMessage.route)


def enabled(section: dict[str, Any]) -> bool:
    """A channel or account section is on unless it says `enabled: false`."""
    return section.get("enabled", True) is not False
