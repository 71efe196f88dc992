"""The health summary upstream's `openclaw health` renders, built from the running gateway."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openclaw.agents.roster import sessions_db_path

if TYPE_CHECKING:
    from openclaw.gateway.settings import GatewaySettings


def build_health(settings: GatewaySettings, env: Mapping[str, str], channels: dict[str, Any],
                 sessions: dict[str, dict[str, Any]], hot_reload_status: str,
                 identity: dict[str, Any]) -> dict[str, Any]:
    """`channels`: the channel manager's status; `sessions`: per agent `{path, count, recent}`
    (GatewayContext.sessions_summary); `identity`: the gateway's (GatewayContext.identity)."""
    from openclaw.gateway.state.vitals import event_loop_health
    from openclaw.heartbeat.settings import summary
    from openclaw.models.listing import default_model

    started = time.perf_counter()
    roster = settings.config.agents
    default = next(a for a in roster if a.default)
    beats = summary(settings.config, settings.paths)
    agents = []
    for agent in roster:
        path = str(sessions_db_path(settings.paths.state_dir, agent.id))
        agents.append(
            {
                "agentId": agent.id,
                "isDefault": agent.default,
                "heartbeat": beats[agent.id],
                "sessions": sessions.get(agent.id) or {"path": path, "count": 0, "recent": []},
            }
        )
    return {
        "ok": True,
        "ts": int(time.time() * 1000),
        "durationMs": int((time.perf_counter() - started) * 1000),
        "channels": channels,
        "channelOrder": sorted(channels),
        "channelLabels": {name: c["label"] for name, c in channels.items()},
        "heartbeatSeconds": (beats[default.id]["everyMs"] or 0) // 1000,
        "defaultAgentId": default.id,
        "agents": agents,
        "sessions": agents[[a["agentId"] for a in agents].index(default.id)]["sessions"],
        "modelRuntime": default_model(settings.config, env),
        "configReload": {"hotReloadStatus": hot_reload_status},
        "gateway": identity,
        "plugins": {"loaded": [], "errors": [], "unavailable": []},  # this gateway loads no plugins
        "eventLoop": event_loop_health(),
    }
