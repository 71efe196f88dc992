"""`node.list`, `node.pair.list`: this gateway pairs no nodes (companion devices that run commands
for the agent), so both answer honestly empty in upstream's shapes."""

from __future__ import annotations

import time
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import PAIRING, READ


@method("node.list", scope=READ, params="FeatureParams")
async def node_list(ctx: CallContext) -> dict[str, Any]:
    return {"ts": int(time.time() * 1000), "nodes": []}


@method("node.pair.list", scope=PAIRING, params="FeatureParams")
async def node_pair_list(ctx: CallContext) -> dict[str, Any]:
    return {"pending": [], "paired": []}
