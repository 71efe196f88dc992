"""`device.pair.list|approve|reject|remove`: remote clients' device keys, approved by an admin (as
upstream's are) before they get any scope."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from openclaw import logfile
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, PAIRING
from openclaw.gateway.state.devicestore import public_view

if TYPE_CHECKING:
    from openclaw.gateway.state.devicestore import DeviceStore


def _store(ctx: CallContext) -> DeviceStore:
    return ctx.gateway.services.devices


def _connected(ctx: CallContext, device_id: str) -> bool:
    return any(getattr(c, "device_id", None) == device_id for c in ctx.gateway.connections)


@method("device.pair.list", scope=PAIRING, params="NoParams")
async def pair_list(ctx: CallContext) -> dict[str, Any]:
    store = _store(ctx)
    store.expire()
    pending = sorted(store.pending.values(), key=lambda r: r["ts"])
    paired = [{**public_view(d), "connected": _connected(ctx, d["deviceId"])} for d in store.paired.values()]
    return {"pending": [dict(r) for r in pending], "paired": sorted(paired, key=lambda d: d.get("approvedAtMs", 0))}


async def _resolved(ctx: CallContext, request_id: str, device_id: str, decision: str) -> None:
    """The decision is on disk before anyone hears of it (the caller's answer included)."""
    try:
        await _store(ctx).persist()
    except OSError as exc:
        logfile.error(f"device store not saved after {decision} device={device_id}: {exc}", subsystem="devices")
        raise RpcError(UNAVAILABLE, f"{decision} in memory, but {_store(ctx).db.path} could not be written "
                                    f"({exc.strerror or exc}); free space or fix its permissions, then retry") from None
    ctx.gateway.broadcast("device.pair.resolved", {"requestId": request_id, "deviceId": device_id,
                                                   "decision": decision, "ts": int(time.time() * 1000)})
    logfile.info(f"device pairing {decision} device={device_id} by {ctx.conn.label}", subsystem="devices")


async def _decide(ctx: CallContext, decision: str) -> dict[str, Any]:
    request_id = ctx.params["requestId"].strip()
    store = _store(ctx)
    found = store.approve(request_id) if decision == "approved" else store.reject(request_id)
    if found is None:
        raise RpcError(INVALID_REQUEST, "unknown requestId")
    await _resolved(ctx, request_id, found["deviceId"], decision)
    shown = {"device": public_view(found)} if decision == "approved" else {}
    return {"requestId": request_id, "deviceId": found["deviceId"], **shown}


@method("device.pair.approve", scope=ADMIN, params="DeviceRequestParams")
async def pair_approve(ctx: CallContext) -> dict[str, Any]:
    return await _decide(ctx, "approved")


@method("device.pair.reject", scope=ADMIN, params="DeviceRequestParams")
async def pair_reject(ctx: CallContext) -> dict[str, Any]:
    return await _decide(ctx, "rejected")


@method("device.pair.remove", scope=ADMIN, params="DeviceRemoveParams")
async def pair_remove(ctx: CallContext) -> dict[str, Any]:
    device_id = ctx.params["deviceId"].strip()
    device = _store(ctx).remove(device_id)
    if device is None:
        raise RpcError(INVALID_REQUEST, "unknown deviceId")
    for conn in [c for c in ctx.gateway.connections if getattr(c, "device_id", None) == device_id]:
        conn.close_soon(1008, "device removed")  # its approval is gone: so is its session
    await _resolved(ctx, "", device_id, "removed")
    return {"deviceId": device_id, "removed": True}
