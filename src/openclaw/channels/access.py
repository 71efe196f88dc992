"""Who may talk to a channel account: `dmPolicy`, `allowFrom`, pairing, and mentions in groups.

The channel applies these before anything is published: a message is
dropped, or published with a verdict. `operator`: an owner or an allow-listed
sender (may run operator commands); `chat`: someone else in a group that
mentioned the bot, or in a DM where `dmPolicy: open` admits everyone (`*` in
`allowFrom`), never the commands; `stranger`: an unknown sender under
`pairing`, who has just been given (or already holds) a code. `disabled`
drops every DM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from openclaw import logfile
from openclaw.channels.messages import CHAT, OPERATOR, STRANGER, InboundMessage
from openclaw.channels.pairing import PairingStore

Reply = Callable[[str], Awaitable[None]]


class AccessControl:
    def __init__(self, channel: str, state_dir: Path) -> None:
        self.channel = channel
        self.pairing = PairingStore(state_dir)

    def _paired(self, account: str) -> set[str]:
        return self.pairing.allowed(self.channel, account) | self.pairing.owners(self.channel)

    async def verdict(self, msg: InboundMessage, policy: str, allow_from: set[str], reply: Reply) -> str | None:
        """OPERATOR, CHAT or STRANGER for a message to publish; None to drop it. Strangers under
        `pairing` get their code through `reply`."""
        if msg.direct and policy == "disabled":
            return None
        if not msg.direct and not msg.mentioned:
            return None  # groups: only when mentioned
        paired = await asyncio.to_thread(self._paired, msg.account)  # file reads: off the loop
        if msg.sender_id in (allow_from - {"*"}) | paired:
            return OPERATOR
        if not msg.direct or (policy == "open" and "*" in allow_from):
            return CHAT
        if policy != "pairing":
            logfile.info(f"ignored a direct message from {msg.sender_id} ({policy})", subsystem=msg.channel)
            return None
        request, created = await asyncio.to_thread(  # the pairing store's lock and fsync: off the loop
            self.pairing.request, msg.channel, msg.account, msg.sender_id,
            {"username": msg.sender_name} if msg.sender_name else None)
        if created:
            logfile.info(f"pairing code issued to {msg.sender_id} on {msg.channel}/{msg.account}", subsystem="pairing")
            await reply(f"I don't know you yet. Your pairing code is {request.code} (valid for one hour).\n"
                        f"Ask the owner of this gateway to run:\n"
                        f"openclaw pairing approve {msg.channel} {request.code}")
        return STRANGER
