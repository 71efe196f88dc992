"""The rescue operations as tools: the same operations, checks and audit as the operator commands.

Given to an instance with a rescue role (a `rescue` section in its config, or
the profile named `rescue`). Reading tools for everyone the agent talks to;
those that change another instance (config set, rollback, start, stop,
restart) only for owners and allow-listed senders, within `rescue.targets`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError, ToolKind
from openclaw.config.view import Config
from openclaw.models.types import ToolSpec
from openclaw.profiles.paths import InstancePaths

PROFILE = {"type": "string", "description": "the instance's profile name (main or default for the default one)"}


def rescue_tools(paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str]) -> list[Tool]:
    def tool(name: str, command: str, description: str, params: dict[str, Any],
             build: Callable[[dict[str, Any]], list[str]], kind: ToolKind = "read") -> Tool:
        async def run(args: dict[str, Any], ctx: ToolContext) -> str:
            from openclaw.chat.commands import Command
            from openclaw.rescue import commands
            from openclaw.rescue.audit import audit
            from openclaw.rescue.operations import Context

            words = build(args)
            cmd = Command(command, words, " ".join(words))
            ok, reply = await commands.run(Context(paths, commands.targets_from(config()), env), cmd)
            await asyncio.to_thread(audit, paths.logs_dir, channel="agent", account=ctx.agent_id,
                                    sender=ctx.session_key, command=f"/{command}", args=cmd.raw_args[:200],
                                    result="ok" if ok else "failed", reply=reply[:500])
            if not ok:
                raise ToolError(reply)
            return reply

        required = [k for k in params if k != "lines"]
        return Tool(ToolSpec(name, description, {"type": "object", "properties": params, "required": required}), run,
                    kind)

    def need(args: dict[str, Any], *keys: str) -> list[str]:
        missing = [k for k in keys if not str(args.get(k) or "").strip()]
        if missing:
            raise ToolError(f"{', '.join(missing)} required")
        return [str(args[k]).strip() for k in keys]

    key = {"type": "string", "description": "a config key path such as gateway.port"}
    return [
        tool("rescue_gateways", "gateways", "Every gateway instance on this host: ports, running, health.", {},
             lambda a: []),
        tool("rescue_status", "status", "One instance: running, health, port, service, config validity.",
             {"profile": PROFILE}, lambda a: need(a, "profile")),
        tool("rescue_logs", "logs", "The last log lines of an instance.",
             {"profile": PROFILE, "lines": {"type": "integer"}},
             lambda a: [*need(a, "profile"), str(int(a.get("lines") or 20))]),
        tool("rescue_doctor", "doctor", "An instance's problems and the exact fix for each.",
             {"profile": PROFILE}, lambda a: need(a, "profile")),
        tool("rescue_config_get", "config", "Read a config value of an instance (secrets redacted).",
             {"profile": PROFILE, "key": key}, lambda a: [need(a, "profile")[0], "get", need(a, "key")[0]]),
        tool("rescue_config_set", "config", "Set a config value of an instance (validated; the old file kept as "
             ".bak; nothing written if invalid). Value is JSON5 or a plain string.",
             {"profile": PROFILE, "key": key, "value": {"type": "string"}},
             lambda a: [need(a, "profile")[0], "set", *need(a, "key", "value")], kind="control"),
        tool("rescue_rollback", "rollback", "Restore an instance's last-known-good config.",
             {"profile": PROFILE}, lambda a: need(a, "profile"), kind="control"),
        tool("rescue_restart", "restart", "Restart an instance and wait until it is healthy.",
             {"profile": PROFILE}, lambda a: need(a, "profile"), kind="control"),
        tool("rescue_start", "start", "Start a stopped instance and wait until it is healthy.",
             {"profile": PROFILE}, lambda a: need(a, "profile"), kind="control"),
        tool("rescue_stop", "stop", "Stop an instance.", {"profile": PROFILE}, lambda a: need(a, "profile"),
             kind="control"),
    ]
