"""The operator commands (`/status main`, `/restart main`, ...) as chat commands: registered at
startup into the gateway's command registry, answered by `rescue.commands` (loaded with the first
one), each audited to `rescue-audit.log`. Only on channels, and only for owners and allow-listed
senders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from openclaw.chat.commands import CHANNEL, ChatCommand, Command, CommandCall, CommandRegistry, CommandReply

if TYPE_CHECKING:
    from openclaw.config.view import Config
    from openclaw.profiles.paths import InstancePaths

OPERATOR_HELP = {
    "gateways": "/gateways - every instance on this host",
    "status": "/status <profile> - running, health, port, config",
    "logs": "/logs <profile> [lines] - the last log lines",
    "doctor": "/doctor <profile> - problems and their fixes",
    "config": "/config <profile> get|set <key> [value] - read, or set (validated and backed up)",
    "rollback": "/rollback <profile> - restore the last-known-good config",
    "restart": "/restart <profile> - restart an instance",
    "start": "/start <profile> - start an instance",
    "stop": "/stop <profile> - stop an instance",
    "help": "/help - the operator commands",
}
NEEDS_PROFILE = {"start", "stop"}  # without one these are the chat's own (`/start` greets, `/stop` aborts)


def _named(cmd: Command) -> bool:
    return bool(cmd.args)


def register_operator_commands(registry: CommandRegistry, paths: InstancePaths, config: Callable[[], Config],
                               env: Mapping[str, str]) -> None:
    """Add the operator commands and the audit they are recorded in."""

    async def run(call: CommandCall) -> CommandReply:
        from openclaw.rescue import commands
        from openclaw.rescue.operations import Context

        ok, reply = await commands.run(Context(paths, commands.targets_from(config()), env), call.command)
        return CommandReply(reply, ok=ok)

    async def audit(call: CommandCall, record: dict[str, str]) -> None:
        from openclaw.rescue.audit import audit as append

        await asyncio.to_thread(append, paths.logs_dir, channel=call.sender.channel, account=call.sender.account,
                                sender=call.sender.id, **record)

    registry.audit_with(audit)
    registry.register(*(ChatCommand(name, line, run, access="operator", needs_model=False,
                                    surfaces=frozenset({CHANNEL}), operation=True,
                                    accepts=_named if name in NEEDS_PROFILE else None)
                        for name, line in OPERATOR_HELP.items()))
