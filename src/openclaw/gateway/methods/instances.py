"""`instances.list` and `instances.run`: this host's other gateways, for the Control UI.

`neighbours` are gateways other HOMEs run on this host: listed for the ports they hold, never acted on.

Listing is for every reader (ports, health, collisions; state paths only for admins). Acting on
another instance (start, stop, restart, doctor) is the rescue operations' job, so it needs what
they need: this instance has the rescue role, the caller is an admin, the target is within
`rescue.targets`; each action is audited like a rescue command.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import FORBIDDEN, INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ

ACTIONS = ("start", "stop", "restart", "doctor", "status")


def _role(ctx: CallContext) -> tuple[bool, list[str] | None]:
    from openclaw.rescue.commands import targets_from
    from openclaw.rescue.operations import has_rescue_role

    config = ctx.gateway.settings.config
    return has_rescue_role(config, ctx.gateway.settings.paths), targets_from(config)


@method("instances.list", scope=READ, params="NoParams")
async def instances_list(ctx: CallContext) -> dict[str, Any]:
    from openclaw.rescue.survey import listing

    rescue, targets = _role(ctx)
    found = await asyncio.to_thread(listing, ctx.gateway.settings.paths, ctx.gateway.env)
    if not ctx.is_admin:
        for row in found["instances"] + found["neighbours"]:
            row["stateDir"] = row["configPath"] = "[redacted]"
            if row.get("home"):
                row["home"] = "[redacted]"
    return {"self": ctx.gateway.settings.paths.name, "rescueRole": rescue, "targets": targets,
            "canOperate": rescue and ctx.is_admin, "actions": list(ACTIONS), **found}


@method("instances.run", scope=ADMIN, params="InstancesRunParams")
async def instances_run(ctx: CallContext) -> dict[str, Any]:
    from openclaw.chat.commands import Command
    from openclaw.rescue import commands
    from openclaw.rescue.audit import audit
    from openclaw.rescue.operations import Context

    action, profile = ctx.params["action"], ctx.params["profile"].strip()
    if action not in ACTIONS:
        raise RpcError(INVALID_REQUEST, f"action must be one of {', '.join(ACTIONS)}")
    rescue, targets = _role(ctx)
    if not rescue:
        raise RpcError(FORBIDDEN, "this gateway has no rescue role: run it from the rescue instance's page "
                                  "(or add a `rescue` section to this one's config)")
    paths = ctx.gateway.settings.paths
    ok, reply = await commands.run(Context(paths, targets, ctx.gateway.env),
                                   Command(action, [profile], profile))
    await asyncio.to_thread(audit, paths.logs_dir, channel="control-ui", account=ctx.conn.remote,
                            sender=ctx.conn.label, command=f"/{action}", args=profile, result="ok" if ok else "failed",
                            reply=reply[:500])
    return {"ok": ok, "profile": profile, "action": action, "reply": reply}
