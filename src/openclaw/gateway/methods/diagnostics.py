"""`diagnostics.stability` (what upstream's `openclaw gateway stability` and `status --all` read)
and `usage.status` / `usage.cost` (token use per day from the sessions' own records)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import READ
from openclaw.gateway.state.stability import MAX_LIMIT


def _count(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RpcError(INVALID_REQUEST, f"{name} must be a non-negative integer")
    return value


@method("diagnostics.stability", scope=READ, params="StabilityParams")
async def stability(ctx: CallContext) -> dict[str, Any]:
    limit = _count(ctx.params.get("limit"), "limit") or 25
    if not 1 <= limit <= MAX_LIMIT:
        raise RpcError(INVALID_REQUEST, f"limit must be between 1 and {MAX_LIMIT}")
    kind = ctx.params.get("type")
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        raise RpcError(INVALID_REQUEST, "type must be a non-empty string")
    return ctx.gateway.state.stability.snapshot(limit, kind.strip() if kind else None,
                                                _count(ctx.params.get("sinceSeq"), "sinceSeq"))


@method("usage.status", scope=READ, params="NoParams")
async def usage_status(ctx: CallContext) -> dict[str, Any]:
    """Provider quota windows: none of the built-in providers report them over their APIs."""
    return {"updatedAt": int(time.time() * 1000), "providers": []}


@method("usage.cost", scope=READ, params="UsageCostParams")
async def usage_cost(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.roster import sessions_db_path
    from openclaw.agents.usage import daily_usage

    params = ctx.params
    if params.get("agentScope") == "all" and params.get("agentId"):
        raise RpcError(INVALID_REQUEST, "agentScope=all cannot be combined with agentId")
    days = params.get("days") or 30
    config = ctx.gateway.settings.config
    ids = [a.id for a in config.agents]
    if params.get("agentScope") != "all":
        wanted = params.get("agentId") or config.default_agent_id
        if wanted not in ids:
            raise RpcError(INVALID_REQUEST, f"unknown agent {wanted!r} (agents: {', '.join(ids)})")
        ids = [wanted]
    since_ms = int((time.time() - days * 86400) * 1000)
    paths = [sessions_db_path(ctx.gateway.settings.paths.state_dir, agent) for agent in ids]
    daily = await asyncio.to_thread(daily_usage, paths, since_ms, config)
    totals = {key: sum(day[key] for day in daily) for key in
              ("input", "output", "cacheRead", "cacheWrite", "totalTokens", "totalCost", "missingCostEntries")}
    return {"updatedAt": int(time.time() * 1000), "days": days, "daily": daily, "totals": totals}
