"""`channels.status` (read), `channels.start` / `channels.stop` (admin)."""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw.gateway.methods import CallContext, Param, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, READ


def _manager(ctx: CallContext) -> Any:
    manager = ctx.gateway.state.channels
    if manager is None:
        raise RpcError(UNAVAILABLE, "channels are not running yet; retry shortly", retryable=True, retry_after_ms=500)
    return manager


@method("channels.status", scope=READ, params={"probe": Param(bool), "timeoutMs": Param(int, minimum=1)})
async def channels_status(ctx: CallContext) -> dict[str, Any]:
    manager = _manager(ctx)
    if ctx.params.get("probe"):
        timeout = (ctx.params.get("timeoutMs") or 8000) / 1000
        try:
            channels = await asyncio.wait_for(manager.probe(), timeout)
        except TimeoutError:
            raise RpcError(UNAVAILABLE, f"channel probe timed out after {timeout:g}s") from None
    else:
        channels = manager.status()
    breaker = ctx.gateway.state.breaker
    return {"channels": channels, "channelOrder": sorted(channels),
            "crashLoop": {"tripped": bool(breaker and breaker.tripped),
                          "uncleanStarts": len(breaker.unclean) if breaker else 0}}


def _name(ctx: CallContext) -> str:
    name = ctx.params["channel"]
    from openclaw.channels.manager import CHANNELS

    if name not in CHANNELS:
        raise RpcError(INVALID_REQUEST, f"unknown channel: {name} (known: {', '.join(CHANNELS)})")
    return name


@method("channels.start", scope=ADMIN, params={"channel": Param(str, required=True, minimum=1),
                                               "accountId": Param(str)})
async def channels_start(ctx: CallContext) -> dict[str, Any]:
    name = _name(ctx)
    try:
        status = await _manager(ctx).start(name)
    except KeyError as exc:
        raise RpcError(INVALID_REQUEST, str(exc.args[0])) from None
    return {"ok": True, "channel": name, "status": status}


@method("channels.stop", scope=ADMIN, params={"channel": Param(str, required=True, minimum=1),
                                              "accountId": Param(str)})
async def channels_stop(ctx: CallContext) -> dict[str, Any]:
    name = _name(ctx)
    stopped = await _manager(ctx).stop(name)
    return {"ok": True, "channel": name, "stopped": stopped}
