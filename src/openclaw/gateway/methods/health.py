"""`health`: the summary upstream's `openclaw health` renders (scope-exempt)."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method


@method("health", scope=None, params="HealthParams")
async def health(ctx: CallContext) -> dict[str, Any]:
    return await ctx.gateway.health(probe=bool(ctx.params.get("probe")))
