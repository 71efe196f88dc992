"""The message bus between channels and whatever answers them.

Channels publish inbound messages (already judged by their access rules) and
the dispatcher takes them one by one; replies go back through `send`, which
finds the channel that owns the chat. The inbound queue is bounded: a poller
that gets ahead of the dispatcher waits before it acknowledges more updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from openclaw.channels.messages import InboundMessage, OutboundMessage

MAX_QUEUED = 256

Sender = Callable[[OutboundMessage], Awaitable[None]]
Typing = Callable[[str, int | str, str | None], Awaitable[None]]  # account, chat, thread


class MessageBus:
    def __init__(self, max_queued: int = MAX_QUEUED) -> None:
        self._inbound: asyncio.Queue[InboundMessage] = asyncio.Queue(max_queued)
        self._senders: dict[str, tuple[Sender, Typing]] = {}

    # -- channels ------------------------------------------------------------------------------
    async def publish(self, message: InboundMessage) -> None:
        await self._inbound.put(message)

    def attach(self, channel: str, send: Sender, typing: Typing) -> None:
        self._senders[channel] = (send, typing)

    def detach(self, channel: str) -> None:
        self._senders.pop(channel, None)

    # -- the dispatcher ------------------------------------------------------------------------
    async def receive(self) -> InboundMessage:
        return await self._inbound.get()

    async def send(self, message: OutboundMessage) -> None:
        sender = self._senders.get(message.channel)
        if sender is None:
            raise RuntimeError(f"channel {message.channel} is not running")
        await sender[0](message)

    async def typing(self, channel: str, account: str, chat_id: int | str, thread_id: str | None = None) -> None:
        """Show a 'working' hint in the chat, if that channel has one (never fails)."""
        sender = self._senders.get(channel)
        if sender is not None:
            await sender[1](account, chat_id, thread_id)
