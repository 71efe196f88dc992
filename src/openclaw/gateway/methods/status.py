"""`status` and `system-presence`: what upstream's `openclaw status` reads."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from openclaw import __version__
from openclaw.agents.roster import sessions_db_path
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext


@method("status", scope=READ, params="StatusParams")
async def status(ctx: CallContext) -> dict[str, Any]:
    from openclaw.gateway.state.vitals import vitals
    from openclaw.heartbeat.settings import summary as heartbeat_summary
    from openclaw.models.listing import default_model

    gateway = ctx.gateway
    settings = gateway.settings
    roster = settings.config.agents
    default = next(a for a in roster if a.default)
    summary = await gateway.sessions_summary()
    model = default_model(settings.config, gateway.env)
    beats = heartbeat_summary(settings.config, settings.paths)
    by_agent = []
    for agent in roster:
        path = str(sessions_db_path(settings.paths.state_dir, agent.id)) if ctx.is_admin else "[redacted]"
        counts = summary.get(agent.id, {})
        by_agent.append({"agentId": agent.id, "path": path, "count": counts.get("count", 0),
                         "recent": counts.get("recent", [])})
    payload: dict[str, Any] = {
        "runtimeVersion": __version__,
        "heartbeat": {
            "defaultAgentId": default.id,
            "agents": [{"agentId": a.id, **beats[a.id]} for a in roster],
        },
        "channelSummary": _channel_summary(gateway),
        "queuedSystemEvents": gateway.state.system_events.texts(),
        "degradedSecretOwners": [],
        "degradedPlugins": [],
        "tasks": {},
        "taskAudit": {},
        "sessions": {
            "paths": [b["path"] for b in by_agent],
            "count": sum(b["count"] for b in by_agent),
            "defaults": {"model": model["model"], "contextTokens": None},
            "recent": sorted((r for b in by_agent for r in b["recent"]), key=lambda r: -r["updatedAt"])[:5],
            "byAgent": by_agent,
        },
        "modelRuntime": model,
        "pid": os.getpid(),
        "uptimeMs": gateway.uptime_ms(),
        "workerPools": {},
        "shutdownBudget": None,
        "gateway": {**gateway.identity(include_paths=ctx.is_admin), "connections": gateway.connection_stats()},
        "hostDesktop": {"enabled": False, "port": 0, "state": "disabled"},  # no desktop control here
        **vitals(),
    }
    if ctx.params.get("includeCliProjection"):
        payload["cliProjection"] = {
            "agents": {
                "defaultId": default.id,
                "selectionRequired": False,
                "rows": [{"id": a.id, **({"name": a.name} if a.name else {})} for a in roster],
            },
            "updateChannel": None,
        }
    return payload


def _channel_summary(gateway: GatewayContext) -> list[dict[str, Any]]:
    channels = gateway.services.channels
    if channels is None:
        return []
    return [{"id": name, "label": c["label"], "running": c["running"], "connected": c["connected"],
             "suppressed": c["suppressed"], "accounts": sorted((c.get("accounts") or {}).keys())}
            for name, c in sorted(channels.status().items())]


@method("system-presence", scope=READ, params="NoParams")
async def system_presence(ctx: CallContext) -> list[dict[str, Any]]:
    return ctx.gateway.presence.entries()
