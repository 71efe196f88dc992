"""`system-event`, `wake`, `last-heartbeat`, `set-heartbeats`, `system.info`: host facts, the
operator's events for a session's next heartbeat, and the heartbeat's switch and last event, in
upstream's shapes (gateway/state/systemevents.py keeps them; openclaw.heartbeat runs the beats)."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
import sys
from typing import Any

from openclaw import __version__
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ, WRITE


def _main_key(ctx: CallContext, agent_id: str | None = None) -> str:
    return f"agent:{agent_id or ctx.gateway.settings.config.default_agent_id}:main"


def _agent_of(ctx: CallContext, key: str | None, agent_id: str | None) -> str:
    """The agent a wake is for: `agentId`, else the one its session key names, else the default."""
    config = ctx.gateway.settings.config
    named = agent_id or (key.split(":")[1] if key and key.startswith("agent:") and key.count(":") >= 2 else None)
    ids = [a.id for a in config.agents]
    if named and named not in ids:
        raise RpcError(INVALID_REQUEST, f'Unknown agent id "{named}"')
    if agent_id and key and key.startswith("agent:") and key.split(":")[1] != agent_id:
        raise RpcError(INVALID_REQUEST, "wake agentId contradicts the agent that owns sessionKey; "
                                        "pass a single canonical wake target")
    return named or config.default_agent_id


async def _beat_now(ctx: CallContext, agent_id: str) -> None:
    """Run the agent's heartbeat at once, in the background (the answer does not wait for a turn)."""
    services = ctx.gateway.services
    services.heartbeats().wake(await services.scheduler(), agent_id)


@method("system-event", scope=ADMIN, params="SystemEventParams")
async def system_event(ctx: CallContext) -> dict[str, Any]:
    text = (ctx.params.get("text") or "").strip()
    if not text:
        raise RpcError(INVALID_REQUEST, "text required")
    given = (ctx.params.get("sessionKey") or "").strip() or None
    agent = _agent_of(ctx, given, None)
    ctx.gateway.state.system_events.enqueue(text, given or _main_key(ctx, agent), "system-event")
    if ctx.params.get("wake") is True:
        await _beat_now(ctx, agent)
    ctx.gateway.broadcast("presence", {"presence": ctx.gateway.presence.entries()})
    return {"ok": True}


@method("wake", scope=WRITE, params="WakeParams")
async def wake(ctx: CallContext) -> dict[str, Any]:
    """Queue `text` for the session's next heartbeat; `mode: now` runs that heartbeat at once."""
    text = ctx.params["text"].strip()
    if not text:
        raise RpcError(INVALID_REQUEST, "text required")
    given = (ctx.params.get("sessionKey") or "").strip() or None
    agent = _agent_of(ctx, given, (ctx.params.get("agentId") or "").strip() or None)
    ctx.gateway.state.system_events.enqueue(text, given or _main_key(ctx, agent), f"wake:{ctx.params['mode']}")
    if ctx.params["mode"] == "now":
        await _beat_now(ctx, agent)
    return {"ok": True}


@method("last-heartbeat", scope=READ, params="NoParams")
async def last_heartbeat(ctx: CallContext) -> dict[str, Any] | None:
    return ctx.gateway.state.system_events.last_heartbeat


@method("set-heartbeats", scope=ADMIN, params="SetHeartbeatsParams")
async def set_heartbeats(ctx: CallContext) -> dict[str, Any]:
    ctx.gateway.state.system_events.heartbeats_enabled = ctx.params["enabled"]
    return {"ok": True, "enabled": ctx.params["enabled"]}


@method("system.info", scope=READ, params="FeatureParams")
async def system_info(ctx: CallContext) -> dict[str, Any]:
    from openclaw.gateway.state.vitals import vitals

    return {**await asyncio.to_thread(_system_info, ctx), **vitals()}


def _system_info(ctx: CallContext) -> dict[str, Any]:
    gateway = ctx.gateway
    state_dir = gateway.settings.paths.state_dir
    info: dict[str, Any] = {
        "machineName": socket.gethostname(), "hostname": socket.gethostname(), "platform": sys.platform,
        "release": platform.release(), "arch": _arch(), "osLabel": f"{platform.system()} {platform.release()}",
        "port": gateway.settings.port, "nodeVersion": None, "pythonVersion": platform.python_version(),
        "version": __version__, "cpuModel": _cpu_model(),
        "pid": os.getpid(), "processInstanceId": gateway.state.instance_id, "uptimeMs": gateway.uptime_ms(),
        "cpuCount": os.cpu_count() or 1, "loadAverage": list(os.getloadavg()),
        "defaultAgentUtilityModel": {"status": "unavailable"},
    }
    memory = _meminfo()
    if memory:
        info.update(memoryTotalBytes=memory[0], memoryFreeBytes=memory[1])
    try:
        disk = shutil.disk_usage(state_dir)
    except OSError:
        return info
    shown = str(state_dir) if ctx.is_admin else "[redacted]"
    info.update(disks=[{"path": shown, "totalBytes": disk.total, "availableBytes": disk.free}],
                diskTotalBytes=disk.total, diskAvailableBytes=disk.free, diskPath=shown)
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)


def _meminfo() -> tuple[int, int] | None:
    try:
        with open("/proc/meminfo") as f:
            rows = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        return int(rows["MemTotal"].split()[0]) * 1024, int(rows["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


@method("gateway.identity.get", scope=READ, params="FeatureParams")
async def identity_get(ctx: CallContext) -> dict[str, Any]:
    """The gateway's own Ed25519 device key (made on first use), as upstream publishes its own."""
    from openclaw.client.identity import load_or_create
    from openclaw.devicekeys import b64url_encode

    identity = await asyncio.to_thread(load_or_create, ctx.gateway.settings.paths.state_dir, "gateway-device.pem")
    return {"deviceId": identity.device_id, "publicKey": b64url_encode(identity.public_raw)}
