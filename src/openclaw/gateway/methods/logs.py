"""`logs.tail`: cursor-based reads of the gateway's own log file."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from annotated_types import Ge, Le
from typing_extensions import TypedDict

from openclaw.gateway.methods import CallContext, method
from openclaw.gateway.params import NonNegative, closed
from openclaw.gateway.protocol import UNAVAILABLE, RpcError
from openclaw.gateway.scopes import READ
from openclaw.logtail import DEFAULT_LIMIT, DEFAULT_MAX_BYTES, MAX_BYTES, MAX_LIMIT, read_tail


@closed
class LogsTailParams(TypedDict, total=False):
    cursor: NonNegative
    limit: Annotated[int, Ge(1), Le(MAX_LIMIT)]
    maxBytes: Annotated[int, Ge(1), Le(MAX_BYTES)]


@method("logs.tail", scope=READ, params=LogsTailParams)
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
