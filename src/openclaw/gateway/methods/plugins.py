"""`plugins.list`: the plugins installed in this gateway. It has no plugin system (its channels,
tools and providers are built in), so the list is empty and nothing may be installed through it."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ


@method("plugins.list", scope=READ, params="NoParams")
async def plugins_list(ctx: CallContext) -> dict[str, Any]:
    return {"plugins": [], "diagnostics": [], "mutationAllowed": False, "generation": 0}
