"""`logs.tail`: cursor-based reads of the gateway's own log file."""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import UNAVAILABLE, RpcError
from openclaw.gateway.scopes import READ
from openclaw.logtail import DEFAULT_LIMIT, DEFAULT_MAX_BYTES, read_tail


@method("logs.tail", scope=READ, params="LogsTailParams")
async def logs_tail(ctx: CallContext) -> dict[str, Any]:
    params = ctx.params
    try:
        return await asyncio.to_thread(
            read_tail,
            ctx.gateway.log_file,
            params.get("cursor"),
            params.get("limit", DEFAULT_LIMIT),
            params.get("maxBytes", DEFAULT_MAX_BYTES),
        )
    except OSError as exc:
        raise RpcError(UNAVAILABLE, f"log read failed: {exc}") from None
