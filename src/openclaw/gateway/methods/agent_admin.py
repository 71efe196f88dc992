"""`agents.create|update|delete`: the agent roster in the config's `agents.list` (upstream's key),
written under the config write lock and validated like any config write; a new agent gets its own
workspace with the starter files."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN

MAX_ID = 64


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:MAX_ID].strip("-")
    if not slug:
        raise RpcError(INVALID_REQUEST, "name must contain a letter or digit (it becomes the agent id)")
    return slug


def _section(data: dict[str, Any]) -> dict[str, Any]:
    agents = data.get("agents")
    return agents if isinstance(agents, dict) else {}


def _declared(data: dict[str, Any]) -> list[str]:
    """The agent ids the config file declares (the implicit `main` when it declares none): the file
    is read under the write lock, so a change not yet reloaded counts."""
    agents = _section(data)
    entries = agents.get("entries") if isinstance(agents.get("entries"), dict) else {}
    rows = agents.get("list") if isinstance(agents.get("list"), list) else []
    assert isinstance(entries, dict) and isinstance(rows, list)
    ids = [str(k) for k in entries] + [str(r["id"]) for r in rows if isinstance(r, dict) and r.get("id")]
    return ids or ["main"]


def _roster(data: dict[str, Any], declared: list[str]) -> list[dict[str, Any]]:
    """`agents.list`, made explicit first: an instance with only the implicit `main` declares it."""
    agents = data.setdefault("agents", {})
    rows = agents.get("list")
    if not isinstance(rows, list):
        rows = agents["list"] = []
    if not rows and not agents.get("entries"):
        rows.extend({"id": aid} for aid in declared)
    roster: list[dict[str, Any]] = rows
    return roster


async def _update(ctx: CallContext, mutate: Callable[[dict[str, Any]], None], what: str) -> None:
    from openclaw.config.store import update_config
    from openclaw.errors import OpenClawError

    gateway = ctx.gateway
    try:
        async with gateway.config_writes:
            await asyncio.to_thread(update_config, gateway.settings.paths.config_path, mutate, gateway.env)
    except OpenClawError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    except OSError as exc:
        raise RpcError(UNAVAILABLE, f"config not written: {exc}", retryable=True) from None
    gateway.config_written(f"{what} by {ctx.conn.label}")


def _default(data: dict[str, Any], declared: list[str]) -> str:
    """The first agent marked `default`, else the first declared (as the config view decides)."""
    agents = _section(data)
    rows = [(str(k), v) for k, v in (agents.get("entries") or {}).items()] + [
        (str(r.get("id")), r) for r in (agents.get("list") or []) if isinstance(r, dict)]
    return next((aid for aid, v in rows if isinstance(v, dict) and v.get("default")), declared[0])


@method("agents.create", scope=ADMIN, params="AgentsCreateParams")
async def agents_create(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.workspace import ensure_workspace
    from openclaw.profiles.env import expand_user

    settings = ctx.gateway.settings
    name = ctx.params["name"].strip()
    agent_id = _slug(name)
    raw_workspace = ctx.params.get("workspace")
    workspace = (expand_user(raw_workspace, ctx.gateway.env) if raw_workspace
                 else settings.paths.state_dir / f"workspace-{agent_id}")
    entry: dict[str, Any] = {"id": agent_id, "name": name, "workspace": str(workspace)}
    if ctx.params.get("model"):
        entry["model"] = ctx.params["model"]

    def mutate(data: dict[str, Any]) -> None:
        declared = _declared(data)
        if agent_id in declared:
            raise RpcError(INVALID_REQUEST, f"agent {agent_id!r} already exists")
        _roster(data, declared).append(entry)

    await _update(ctx, mutate, "agents.create")
    await asyncio.to_thread(ensure_workspace, workspace)
    return {"ok": True, "agentId": agent_id, "name": name, "workspace": str(workspace),
            **({"model": entry["model"]} if "model" in entry else {})}


@method("agents.update", scope=ADMIN, params="AgentsUpdateParams")
async def agents_update(ctx: CallContext) -> dict[str, Any]:
    agent_id = ctx.params["agentId"]
    changes = {k: ctx.params[k] for k in ("name", "workspace", "model") if k in ctx.params}

    def mutate(data: dict[str, Any]) -> None:
        declared = _declared(data)
        if agent_id not in declared:
            raise RpcError(INVALID_REQUEST, f'agent "{agent_id}" not found')
        entries = data.get("agents", {}).get("entries")
        target = entries.get(agent_id) if isinstance(entries, dict) else None
        if not isinstance(target, dict):
            rows = _roster(data, declared)
            target = next((r for r in rows if isinstance(r, dict) and r.get("id") == agent_id), None)
            if target is None:
                target = {"id": agent_id}
                rows.append(target)
        for key, value in changes.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value

    await _update(ctx, mutate, "agents.update")
    return {"ok": True, "agentId": agent_id}


@method("agents.delete", scope=ADMIN, params="AgentsDeleteParams")
async def agents_delete(ctx: CallContext) -> dict[str, Any]:
    """Removes the agent from the config; its sessions and workspace stay on disk."""
    agent_id = ctx.params["agentId"]

    def mutate(data: dict[str, Any]) -> None:
        declared = _declared(data)
        if agent_id not in declared:
            raise RpcError(INVALID_REQUEST, f'agent "{agent_id}" not found')
        if len(declared) == 1:
            raise RpcError(INVALID_REQUEST, f'agent "{agent_id}" is the only configured agent')
        if agent_id == _default(data, declared):
            raise RpcError(INVALID_REQUEST, f'agent "{agent_id}" is the default agent; make another the default '
                                            "first")
        agents = data.get("agents", {})
        if isinstance(agents.get("entries"), dict):
            agents["entries"].pop(agent_id, None)
        if isinstance(agents.get("list"), list):
            agents["list"] = [r for r in agents["list"] if not (isinstance(r, dict) and r.get("id") == agent_id)]

    await _update(ctx, mutate, "agents.delete")
    return {"ok": True, "agentId": agent_id}
