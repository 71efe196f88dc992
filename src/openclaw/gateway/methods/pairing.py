"""`channels.pairing.list|approve|dismiss`: DM pairing requests, handled by any operator with the
pairing scope (the Control UI, or a CLI on another host), in upstream's shapes."""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw import logfile
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import PAIRING

GONE = "pending DM access request no longer exists"
APPROVED_TEXT = "Access approved. You can message this bot now."


def _store(ctx: CallContext) -> Any:
    from openclaw.channels.pairing import PairingStore

    return PairingStore(ctx.gateway.settings.paths.state_dir)


def _accounts(ctx: CallContext, channel: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
    """Configured channel accounts whose DMs are paired (dmPolicy `pairing`, the default)."""
    from openclaw.channels import discord_config, telegram
    from openclaw.channels.manager import LABELS, configured

    sections = configured(ctx.gateway.settings.config)
    if channel and channel.lower() not in LABELS:
        raise RpcError(INVALID_REQUEST, f"unknown pairing channel: {channel}")
    out = []
    for name, section in sections.items():
        if channel and name != channel.lower():
            continue
        accounts = discord_config.accounts_from if name == "discord" else telegram.accounts_from
        for account_id, settings in accounts(section).items():
            if account and account_id.lower() != account.lower():
                continue
            policy = discord_config.dm_policy(settings)[0] if name == "discord" else settings.get("dmPolicy")
            if (policy or "pairing") == "pairing":
                out.append({"channel": name, "channelLabel": LABELS[name], "accountId": account_id,
                            "notifySupported": True})
    return out


def _public(request: Any) -> dict[str, Any]:
    from openclaw.channels.manager import LABELS
    from openclaw.timestamps import utc_iso

    meta = {k: v for k, v in request.meta.items() if k not in ("accountId", "senderId") and v}
    out = {"requestId": request.request_id, "channel": request.channel,
           "channelLabel": LABELS.get(request.channel, request.channel), "accountId": request.account,
           "senderId": request.sender, "senderLabel": "user id", "code": request.code,
           "createdAt": utc_iso(request.created_at),
           "lastSeenAt": utc_iso(request.last_seen_at), "expiresAt": request.as_dict()["expiresAt"],
           "notifySupported": True}
    return {**out, "metadata": meta} if meta else out


@method("channels.pairing.list", scope=PAIRING, params="ChannelsPairingListParams")
async def pairing_list(ctx: CallContext) -> dict[str, Any]:
    from openclaw.channels.pairing import MAX_PENDING, TTL_S

    accounts = _accounts(ctx, ctx.params.get("channel"), ctx.params.get("accountId"))
    wanted = {(a["channel"], a["accountId"]) for a in accounts}
    store = _store(ctx)

    def read() -> tuple[list[Any], bool]:
        return store.pending(), any(store.owners(a["channel"]) for a in accounts)

    pending, owners = await asyncio.to_thread(read)
    return {"accounts": accounts,
            "requests": [_public(r) for r in pending if (r.channel, r.account) in wanted],
            "commandOwnerConfigured": owners,
            "limits": {"pendingPerAccount": MAX_PENDING, "ttlMs": TTL_S * 1000}}


def _target(ctx: CallContext) -> tuple[str, str]:
    channel, account = ctx.params["channel"].lower(), ctx.params["accountId"]
    if not _accounts(ctx, channel, account):
        raise RpcError(INVALID_REQUEST, f"channel account does not use DM pairing: {channel}:{account}")
    return channel, account


@method("channels.pairing.approve", scope=PAIRING, params="ChannelsPairingApproveParams")
async def pairing_approve(ctx: CallContext) -> dict[str, Any]:
    from openclaw.errors import OpenClawError

    channel, account = _target(ctx)
    store = _store(ctx)
    request = await asyncio.to_thread(store.by_id, channel, ctx.params["requestId"])
    if request is None or request.account != account:
        raise RpcError(INVALID_REQUEST, GONE)
    try:
        _, owner = await asyncio.to_thread(store.approve, channel, request.code)
    except OpenClawError:
        raise RpcError(INVALID_REQUEST, GONE) from None
    logfile.info(f"pairing approved {channel}:{account} sender={request.sender} by {ctx.conn.label}",
                 subsystem="pairing")
    notification = await _notify(ctx, request) if ctx.params.get("notify") else "not-requested"
    bootstrap = "not-requested"
    if ctx.params.get("bootstrapCommandOwner"):
        bootstrap = "configured" if owner else "already-configured"
    return {"requestId": request.request_id, "senderId": request.sender, "notification": notification,
            "commandOwnerBootstrap": bootstrap}


async def _notify(ctx: CallContext, request: Any) -> str:
    from openclaw.channels.messages import OutboundMessage

    manager = ctx.gateway.services.channels
    channel = manager.channel(request.channel) if manager is not None else None
    if channel is None:
        return "failed"
    try:
        await channel.send(OutboundMessage(request.channel, request.account, request.sender, APPROVED_TEXT))
    except Exception as exc:  # noqa: BLE001 - the approval stands; say the message did not go out
        logfile.warn(f"pairing approval notification failed: {exc}", subsystem="pairing")
        return "failed"
    return "sent"


@method("channels.pairing.dismiss", scope=PAIRING, params="PairingTarget")
async def pairing_dismiss(ctx: CallContext) -> dict[str, Any]:
    channel, _ = _target(ctx)
    try:
        request = await asyncio.to_thread(_store(ctx).dismiss, channel, ctx.params["requestId"])
    except OSError as exc:
        raise RpcError(UNAVAILABLE, f"pairing store: {exc}") from None
    if request is None:
        raise RpcError(INVALID_REQUEST, GONE)
    return {"requestId": request.request_id, "senderId": request.sender}
