"""The gateway's own condition as upstream's clients ask for it: `gateway.restart.preflight`
(what a restart would interrupt), `diagnostics.lanes` (the agent runtime's session lanes),
`update.status|runs.list` (no self-update here), and the memory, secrets, computer-use and
transcript families this gateway does not have, answered with honest empty states; and
`gateway.restart.request` (an in-process restart) and `fs.listDir` (the host's folders, for admins)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, READ

MAX_DIR_ENTRIES = 2_000


def _active_runs(ctx: CallContext) -> tuple[int, int]:
    """(running, queued) agent runs."""
    runs = list(ctx.gateway.agents.runs.values())
    return (sum(1 for r in runs if r.status == "running"), sum(1 for r in runs if r.status == "queued"))


@method("gateway.restart.preflight", scope=READ, params="FeatureParams")
async def restart_preflight(ctx: CallContext) -> dict[str, Any]:
    running, queued = _active_runs(ctx)
    scheduler = await ctx.gateway.services.scheduler(False)
    cron_runs = len(scheduler.running) if scheduler else 0
    requests = max(0, ctx.gateway.connection_stats()["requestsInFlight"] - 1)  # less this call
    counts = {"queueSize": queued, "pendingReplies": 0, "embeddedRuns": running, "cronRuns": cron_runs,
              "backgroundExecSessions": 0, "rootRequests": requests, "activeTasks": 0}
    counts["totalActive"] = running + queued + cron_runs + requests
    blockers = [{"kind": k, "count": counts[k]} for k in ("embeddedRuns", "queueSize", "cronRuns") if counts[k]]
    summary = "safe to restart now" if not blockers else (
        f"{counts['totalActive']} active item(s) would be interrupted by a restart")
    return {"safe": not blockers, "counts": counts, "blockers": blockers, "summary": summary}


@method("diagnostics.lanes", scope=READ, params="FeatureParams")
async def diagnostics_lanes(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.runtime import max_concurrent

    running, queued = _active_runs(ctx)
    lane = {"lane": "main", "queuedCount": queued, "activeCount": running,
            "maxConcurrent": max_concurrent(ctx.gateway.settings.config), "draining": ctx.gateway.draining,
            "generation": ctx.gateway.state.restart_count, "blockedBy": None}
    return {"ts": int(time.time() * 1000), "lanes": [lane], "dynamic": None}


@method("update.status", scope=READ, params="FeatureParams")
async def update_status(ctx: CallContext) -> dict[str, Any]:
    channel = ctx.gateway.settings.snapshot.get("update", "channel") or "stable"
    return {"sentinel": None, "updateAvailable": None, "effectiveChannel": channel,
            "schedule": {"channel": channel, "autoEnabled": False, "install": {"kind": "package"}}}


@method("update.runs.list", scope=ADMIN, params="FeatureParams")
async def update_runs_list(ctx: CallContext) -> dict[str, Any]:
    return {"runs": []}


def _agent(ctx: CallContext) -> str:
    wanted = ctx.params.get("agentId")
    return wanted if isinstance(wanted, str) and wanted else ctx.gateway.settings.config.default_agent_id


@method("doctor.memory.status", scope=READ, params="FeatureParams")
async def memory_status(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "provider": "none",
            "embedding": {"ok": False, "checked": False, "error": "this gateway keeps no agent memory index"},
            "dreaming": {"enabled": False, "shortTermEntries": [], "signalEntries": [], "promotedEntries": [],
                         "phases": {}, "shortTermCount": 0, "recallSignalCount": 0, "dailySignalCount": 0,
                         "groundedSignalCount": 0, "totalSignalCount": 0, "phaseSignalCount": 0,
                         "lightPhaseHitCount": 0, "remPhaseHitCount": 0, "promotedTotal": 0, "promotedToday": 0}}


@method("doctor.memory.dreamDiary", scope=READ, params="FeatureParams")
async def dream_diary(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "found": False, "path": "DREAMS.md"}


@method("memory.search", scope=READ, params="MemorySearchParams")
async def memory_search(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "provider": "none", "searchMode": "none", "results": [],
            "warning": "this gateway keeps no memory index: nothing to search"}


@method("migrations.memory.plan", scope=ADMIN, params="FeatureParams")
async def memory_migration_plan(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.workspace import agent_workspace

    settings = ctx.gateway.settings
    agent_id = _agent(ctx)
    workspace = agent_workspace(settings.config, settings.paths, ctx.gateway.env, agent_id)
    return {"agentId": agent_id, "workspace": str(workspace), "providers": []}


@method("memory.sessionBackfill.preview", scope=READ, params="FeatureParams")
async def session_backfill_preview(ctx: CallContext) -> dict[str, Any]:
    return {"days": 0, "candidates": 0, "perDay": [], "staged": 0, "truncated": False}


@method("secrets.reload", scope=ADMIN, params="FeatureParams")
async def secrets_reload(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "warningCount": 0}  # secrets are read from the config and environment on each use


@method("computer.status", scope=READ, params="FeatureParams")
async def computer_status(ctx: CallContext) -> dict[str, Any]:
    return {"configured": False, "available": False}


@method("transcripts.status", scope=READ, params="FeatureParams")
async def transcripts_status(ctx: CallContext) -> dict[str, Any]:
    return {"enabled": False, "providers": [], "configuredSources": [], "active": [], "latestTranscript": None,
            "omitted": {"providers": 0, "configuredSources": 0, "active": 0}}


@method("gateway.restart.request", scope=ADMIN, params="RestartRequestParams")
async def restart_request(ctx: CallContext) -> dict[str, Any]:
    """Restart in-process once what runs has been asked to finish (as `config.apply` restarts)."""
    preflight = await restart_preflight(ctx)
    delay_ms = 0 if preflight["safe"] or ctx.params.get("skipDeferral") else 2_000
    if not ctx.gateway.restart_soon(delay_ms):
        raise RpcError(UNAVAILABLE, "this gateway cannot restart itself in-process; restart its service instead")
    reason = ctx.params.get("reason") or "gateway.restart.request"
    return {"ok": True, "status": "scheduled" if delay_ms == 0 else "deferred", "preflight": preflight,
            "restart": {"delayMs": delay_ms, "reason": reason, "coalesced": False}}


def _list_dirs(requested: str | None, home: str) -> dict[str, Any]:
    target = Path(requested or home)
    if not target.is_absolute():
        raise RpcError(INVALID_REQUEST, "fs.listDir path must be absolute")
    resolved = target.resolve()
    entries = []
    with os.scandir(resolved) as found:
        for entry in found:
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                continue
            if is_dir:
                row: dict[str, Any] = {"name": entry.name, "path": str(resolved / entry.name)}
                if entry.name.startswith("."):
                    row["hidden"] = True
                entries.append(row)
            if len(entries) >= MAX_DIR_ENTRIES:
                break
    entries.sort(key=lambda e: (bool(e.get("hidden")), e["name"]))
    out: dict[str, Any] = {"path": str(resolved), "home": home, "entries": entries}
    if resolved.parent != resolved:
        out["parent"] = str(resolved.parent)
    return out


@method("fs.listDir", scope=ADMIN, params="FsListDirParams")
async def fs_list_dir(ctx: CallContext) -> dict[str, Any]:
    """The folders in one folder of the gateway's host (a folder picker's listing)."""
    if ctx.params.get("nodeId"):
        raise RpcError(UNAVAILABLE, "node not connected")
    home = ctx.gateway.env.get("HOME") or str(Path.home())
    try:
        return await asyncio.to_thread(_list_dirs, ctx.params.get("path"), home)
    except OSError as exc:
        raise RpcError(INVALID_REQUEST, f"cannot list {ctx.params.get('path') or home}: {exc.strerror}") from None
