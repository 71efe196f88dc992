"""What happens to an inbound message: access control, pairing, operator commands, the reply.

Direct messages follow the account's `dmPolicy`; in groups the bot answers
only when mentioned. Operator commands need an owner or an allow-listed
sender (a `*` in `allowFrom` opens chat, never the commands). With no model
configured, anything else gets a plain explanation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from openclaw import logfile
from openclaw.channels.base import Channel, InboundMessage
from openclaw.channels.pairing import PairingStore, normalize_sender
from openclaw.channels.telegram import accounts_from
from openclaw.profiles.paths import InstancePaths
from openclaw.rescue import commands
from openclaw.rescue.audit import audit

NO_MODEL = ("No model is configured for this gateway yet, so I can't chat. "
            "Operator commands work without one: /help")
GREETING = "Hi! I'm this host's OpenClaw gateway bot.\n\n" + commands.HELP


def account_policy(config: dict[str, Any], account: str) -> tuple[str, set[str]]:
    """(dmPolicy, allowFrom) for an account, named accounts inheriting the top level."""
    telegram = (config.get("channels") or {}).get("telegram") or {}
    settings = accounts_from(telegram).get(account) or {k: v for k, v in telegram.items() if k != "accounts"}
    return settings.get("dmPolicy") or "pairing", {normalize_sender(x) for x in settings.get("allowFrom") or []}


class Router:
    def __init__(self, paths: InstancePaths, config: Callable[[], dict[str, Any]]) -> None:
        self.paths = paths
        self._config = config
        self.pairing = PairingStore(paths.state_dir)

    async def __call__(self, msg: InboundMessage, channel: Channel) -> None:
        config = self._config()
        policy, allow_from = account_policy(config, msg.account)
        operators = (allow_from - {"*"}) | await asyncio.to_thread(self._paired, msg)
        is_operator = msg.sender_id in operators
        if msg.direct:
            if policy == "disabled":
                return
            if not is_operator and not (policy == "open" and "*" in allow_from):
                await self._stranger(msg, channel, policy)
                return
        elif not msg.mentioned:
            return  # groups: only when mentioned
        bot = getattr(channel, "accounts", {}).get(msg.account)
        cmd = commands.parse(msg.text, (bot.bot.get("username") if bot and bot.bot else None))
        if cmd is None:
            await channel.send(msg.account, msg.chat_id, NO_MODEL)
            return
        if cmd.name == "start" and not cmd.args:
            await channel.send(msg.account, msg.chat_id, GREETING)
            return
        if cmd.name not in commands.OPERATOR_COMMANDS:
            await channel.send(msg.account, msg.chat_id, f"unknown command /{cmd.name}; /help lists them")
            return
        await self._operator(msg, channel, cmd, is_operator, config)

    def _paired(self, msg: InboundMessage) -> set[str]:
        """Approved senders and owners (file reads: run in a thread)."""
        return self.pairing.allowed(msg.channel, msg.account) | self.pairing.owners(msg.channel)

    async def _stranger(self, msg: InboundMessage, channel: Channel, policy: str) -> None:
        if policy != "pairing":
            logfile.info(f"ignored a direct message from {msg.sender_id} ({policy})", subsystem=msg.channel)
            return
        request, created = await asyncio.to_thread(  # the pairing store's lock and fsync: off the loop
            self.pairing.request, msg.channel, msg.account, msg.sender_id,
            {"username": msg.sender_name} if msg.sender_name else None)
        if created:
            logfile.info(f"pairing code issued to {msg.sender_id} on {msg.channel}/{msg.account}", subsystem="pairing")
            await channel.send(msg.account, msg.chat_id,
                               f"I don't know you yet. Your pairing code is {request.code} (valid for one hour).\n"
                               f"Ask the owner of this gateway to run:\n"
                               f"openclaw pairing approve {msg.channel} {request.code}")
        if commands.parse(msg.text) is not None:
            await asyncio.to_thread(audit, self.paths.logs_dir, channel=msg.channel, account=msg.account, sender=msg.sender_id,
                  command=msg.text.strip()[:200], result="refused", reason="not paired")

    async def _operator(self, msg: InboundMessage, channel: Channel, cmd: commands.Command, allowed: bool,
                        config: dict[str, Any]) -> None:
        record = {"channel": msg.channel, "account": msg.account, "sender": msg.sender_id,
                  "command": f"/{cmd.name}", "args": cmd.raw_args[:200]}
        if not allowed:
            await asyncio.to_thread(audit, self.paths.logs_dir, **record, result="refused",
                                    reason="not an owner or allow-listed sender")
            await channel.send(msg.account, msg.chat_id, "Sorry, only this gateway's owners and allow-listed "
                                                           "senders may run operator commands.")
            return
        await channel.typing(msg.account, msg.chat_id)
        ctx = commands.Context(self.paths, commands.targets_from(config))
        ok, reply = await commands.run(ctx, cmd)
        await asyncio.to_thread(audit, self.paths.logs_dir, **record, result="ok" if ok else "failed",
                                reply=reply[:500])
        await channel.send(msg.account, msg.chat_id, reply)
