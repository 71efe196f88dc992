"""`channels.status` (read), `channels.start` / `channels.stop` / `channels.logout` (admin)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from openclaw.config.secret_env import CHANNEL_TOKEN_ENV, CHANNEL_TOKENS
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, READ

if TYPE_CHECKING:
    from openclaw.channels.manager import ChannelManager


def _manager(ctx: CallContext) -> ChannelManager:
    manager = ctx.gateway.services.channels
    if manager is None:
        raise RpcError(UNAVAILABLE, "channels are not running yet; retry shortly", retryable=True, retry_after_ms=500)
    return manager


@method("channels.status", scope=READ, params="ChannelsStatusParams")
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
    breaker = ctx.gateway.services.breaker
    return {"channels": channels, "channelOrder": sorted(channels), **_upstream_views(channels),
            "crashLoop": {"tripped": breaker.tripped, "uncleanStarts": len(breaker.unclean)}}


def _upstream_views(channels: dict[str, Any]) -> dict[str, Any]:
    """The per-channel maps upstream's clients read beside `channels` (labels, accounts, issues)."""
    import time

    from openclaw.gateway.state.vitals import event_loop_health

    accounts = {name: list((c.get("accounts") or {}).values()) for name, c in channels.items()}
    return {"channelLabels": {name: c.get("label", name) for name, c in channels.items()},
            "channelDetailLabels": {}, "channelSystemImages": {}, "channelAccounts": accounts,
            "channelDefaultAccountId": {name: next(iter(c.get("accounts") or {"default": None})) for name, c
                                        in channels.items()},
            "channelMeta": [{"id": name, "label": c.get("label", name)} for name, c in sorted(channels.items())],
            "statusIssues": [], "ts": int(time.time() * 1000), "eventLoop": event_loop_health()}


def _name(ctx: CallContext) -> str:
    name = str(ctx.params["channel"])
    from openclaw.channels.manager import CHANNELS

    if name not in CHANNELS:
        raise RpcError(INVALID_REQUEST, f"unknown channel: {name} (known: {', '.join(CHANNELS)})")
    return name


@method("channels.start", scope=ADMIN, params="ChannelTarget")
async def channels_start(ctx: CallContext) -> dict[str, Any]:
    name = _name(ctx)
    try:
        status = await _manager(ctx).start(name)
    except KeyError as exc:
        raise RpcError(INVALID_REQUEST, str(exc.args[0])) from None
    return {"ok": True, "channel": name, "status": status}


@method("channels.stop", scope=ADMIN, params="ChannelTarget")
async def channels_stop(ctx: CallContext) -> dict[str, Any]:
    name = _name(ctx)
    stopped = await _manager(ctx).stop(name)
    return {"ok": True, "channel": name, "stopped": stopped}


@method("channels.logout", scope=ADMIN, params="ChannelTarget")
async def channels_logout(ctx: CallContext) -> dict[str, Any]:
    """Stop the account and forget its bot token (the config keeps everything else)."""
    from openclaw.config.store import read_config, update_config

    name = _name(ctx)
    account = ctx.params.get("accountId") or "default"
    snap = await asyncio.to_thread(read_config, ctx.gateway.settings.paths.config_path, ctx.gateway.env)
    if snap.issues:
        raise RpcError(INVALID_REQUEST, "config invalid; fix it before logging out")
    manager = ctx.gateway.services.channels
    if manager is not None:
        await manager.stop(name)
    cleared = False

    def forget(data: dict[str, Any]) -> None:
        nonlocal cleared
        section = (data.get("channels") or {}).get(name)
        if not isinstance(section, dict):
            return
        target = section if account == "default" else (section.get("accounts") or {}).get(account)
        if isinstance(target, dict):
            keys = [t.key for t in CHANNEL_TOKENS.get(name, ())] or ["botToken"]
            cleared = any([target.pop(key, None) is not None for key in keys]) or cleared

    await asyncio.to_thread(update_config, ctx.gateway.settings.paths.config_path, forget, ctx.gateway.env)
    if cleared:
        ctx.gateway.config_written(f"channels.logout by {ctx.conn.label}")
    env_token = account == "default" and any(ctx.gateway.env.get(n) for n in CHANNEL_TOKEN_ENV.get(name, ()))
    return {"channel": name, "accountId": account, "cleared": cleared, "loggedOut": cleared and not env_token,
            "envToken": env_token}
