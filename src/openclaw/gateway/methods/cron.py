"""`cron.list|status|add|update|remove|run|runs`: scheduled agent turns, in upstream's job shape
(`schedule`, `payload: {kind: agentTurn, message}`, `delivery`, `state`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ

if TYPE_CHECKING:
    from openclaw.cron.scheduler import CronScheduler

EDITABLE = ("name", "description", "enabled", "schedule", "payload", "delivery", "agentId", "timeoutSeconds",
            "deleteAfterRun", "sessionTarget", "wakeMode", "displayName")


async def _scheduler(ctx: CallContext, start: bool = False) -> CronScheduler | None:
    return await ctx.gateway.services.scheduler(start)


async def _found(ctx: CallContext) -> tuple[CronScheduler, dict[str, Any]]:
    """The scheduler and the job the params name (none without a scheduler: no jobs)."""
    scheduler = await _scheduler(ctx)
    job = _job(scheduler, ctx.params)
    assert scheduler is not None  # the job was found in it
    return scheduler, job


def _job(scheduler: CronScheduler | None, params: dict[str, Any]) -> dict[str, Any]:
    wanted = params.get("id") or params.get("jobId")
    job = next((j for j in (scheduler.jobs if scheduler else []) if j["id"] == wanted or j.get("name") == wanted), None)
    if job is None:
        raise RpcError(INVALID_REQUEST, f"cron job not found: {wanted}")
    return job


def _checked(job: dict[str, Any], changed: dict[str, Any]) -> None:
    """A job's fields, as `cron.add` or `cron.update` would store them; what `changed` holds (the
    whole job when added) is also held to the time bounds (after now, within 10 years)."""
    from openclaw.cron.schedule import check_name, now_ms, validate
    from openclaw.errors import UsageError

    try:
        if "name" in changed:
            check_name(job.get("name"))
        validate(job.get("schedule"), now_ms() if "schedule" in changed else None)
    except UsageError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    payload = job.get("payload")
    if not isinstance(payload, dict) or payload.get("kind", "agentTurn") != "agentTurn" or not payload.get("message"):
        raise RpcError(INVALID_REQUEST, 'payload must be {"kind": "agentTurn", "message": "..."}')
    delivery = job.get("delivery")
    if delivery is not None and (not isinstance(delivery, dict) or not delivery.get("channel")
                                 or not delivery.get("to")):
        raise RpcError(INVALID_REQUEST, 'delivery must be {"channel": "telegram", "to": "<chat id>"}')


RUNS_SCANNED = 5000  # the run log keeps fewer


@method("cron.list", scope=READ, params="CronListParams")
async def cron_list(ctx: CallContext) -> dict[str, Any]:
    scheduler = await _scheduler(ctx)
    jobs = [j for j in (scheduler.jobs if scheduler else [])
            if (ctx.params.get("includeDisabled") or j.get("enabled", True))
            and (not ctx.params.get("agentId") or j.get("agentId") == ctx.params["agentId"])]
    offset, limit = ctx.params.get("offset", 0), min(ctx.params.get("limit", 200), 200)
    page = jobs[offset:offset + limit]
    more = offset + limit < len(jobs)
    revision = hashlib.sha256(json.dumps(jobs, sort_keys=True, default=str).encode()).hexdigest()[:16]
    previews = {j["id"]: {"channel": j["delivery"].get("channel"), "to": j["delivery"].get("to")}
                for j in page if isinstance(j.get("delivery"), dict)}
    return {"jobs": page, "total": len(jobs), "offset": offset, "limit": limit, "hasMore": more,
            "nextOffset": offset + limit if more else None, "snapshotRevision": revision,
            "deliveryPreviews": previews}


@method("cron.status", scope=READ, params="NoParams")
async def cron_status(ctx: CallContext) -> dict[str, Any]:
    scheduler = await _scheduler(ctx)
    jobs = scheduler.jobs if scheduler else []
    return {"enabled": True, "jobs": len(jobs), "enabledJobs": sum(1 for j in jobs if j.get("enabled", True)),
            "running": len(scheduler.running) if scheduler else 0,
            "nextWakeAtMs": scheduler.next_wake_ms() if scheduler else None,
            "storePath": str(ctx.gateway.settings.paths.state_dir / "cron" / "jobs.json"),
            "storage": "json", "sqlitePath": None, "triggersEnabled": True}


@method("cron.add", scope=ADMIN, params="CronAddParams")
async def cron_add(ctx: CallContext) -> dict[str, Any]:
    from openclaw.cron.schedule import next_run, now_ms
    from openclaw.cron.scheduler import MAX_JOBS

    scheduler = await _scheduler(ctx, start=True)
    assert scheduler is not None  # started
    if len(scheduler.jobs) >= MAX_JOBS:
        raise RpcError(INVALID_REQUEST, f"at most {MAX_JOBS} cron jobs per gateway")
    job: dict[str, Any] = {"id": str(uuid.uuid4()), "createdAtMs": now_ms(), "enabled": True,
                           "sessionTarget": "isolated", "wakeMode": "now",
                           **{k: ctx.params[k] for k in EDITABLE if k in ctx.params}}
    job["payload"] = {"kind": "agentTurn", **job["payload"]}
    _checked(job, job)
    if job.get("agentId"):
        _agent(ctx, job["agentId"])
    job["updatedAtMs"] = job["createdAtMs"]
    job["state"] = {"nextRunAtMs": next_run(job["schedule"], now_ms()) if job["enabled"] else None}
    scheduler.jobs.append(job)
    await scheduler.save()
    scheduler.wake()
    return job


def _agent(ctx: CallContext, agent_id: str) -> None:
    ids = [a.id for a in ctx.gateway.settings.config.agents]
    if agent_id not in ids:
        raise RpcError(INVALID_REQUEST, f"unknown agent {agent_id!r} (agents: {', '.join(ids)})")


@method("cron.update", scope=ADMIN, params="CronUpdateParams")
async def cron_update(ctx: CallContext) -> dict[str, Any]:
    from openclaw.cron.schedule import next_run, now_ms

    scheduler, job = await _found(ctx)
    patch = {k: v for k, v in ctx.params["patch"].items() if k in EDITABLE}
    updated = {**job, **patch}
    if "payload" in patch:
        updated["payload"] = {**job.get("payload", {}), **patch["payload"]}
    _checked(updated, patch)
    if patch.get("agentId"):
        _agent(ctx, patch["agentId"])
    job.update(updated, updatedAtMs=now_ms())
    if "schedule" in patch or "enabled" in patch:
        job.setdefault("state", {})["nextRunAtMs"] = next_run(job["schedule"], now_ms()) if job.get("enabled") else None
    await scheduler.save()
    scheduler.wake()
    return job


@method("cron.remove", scope=ADMIN, params="CronRemoveParams")
async def cron_remove(ctx: CallContext) -> dict[str, Any]:
    scheduler, job = await _found(ctx)
    scheduler.jobs = [j for j in scheduler.jobs if j is not job]
    await scheduler.save()
    return {"ok": True, "removed": True, "id": job["id"]}


@method("cron.run", scope=ADMIN, params="CronRunParams")
async def cron_run(ctx: CallContext) -> dict[str, Any]:
    """Run a job now (`mode: due` only if it is due); waits for the turn to end."""
    from openclaw.cron.schedule import now_ms

    scheduler, job = await _found(ctx)
    if ctx.params.get("mode") == "due" and (job.get("state") or {}).get("nextRunAtMs", now_ms() + 1) > now_ms():
        return {"ok": True, "ran": False, "reason": "not-due"}
    if job["id"] in scheduler.running:
        return {"ok": True, "ran": False, "reason": "already-running"}
    run_id = await scheduler.trigger(job, "manual")
    await asyncio.shield(scheduler.running.get(job["id"]) or asyncio.sleep(0))
    state = job.get("state") or {}
    return {"ok": state.get("lastStatus") == "ok", "ran": True, "runId": run_id, "status": state.get("lastStatus"),
            "error": state.get("lastError")}


@method("cron.runs", scope=READ, params="CronRunsParams")
async def cron_runs(ctx: CallContext) -> dict[str, Any]:
    from openclaw.cron.store import CronStore

    wanted = ctx.params.get("id") or ctx.params.get("jobId")
    scheduler = await _scheduler(ctx)
    job_id = _job(scheduler, ctx.params)["id"] if wanted else None
    store = scheduler.store if scheduler else CronStore(ctx.gateway.settings.paths.state_dir)
    p = ctx.params
    offset, limit = p.get("offset", 0), p.get("limit", 50)
    entries = await asyncio.to_thread(store.runs, job_id, RUNS_SCANNED)  # newest first
    if p.get("agentId"):  # the runs of that agent's jobs (a job without one is the default agent's)
        default = ctx.gateway.settings.config.default_agent_id
        mine = {j["id"] for j in (scheduler.jobs if scheduler else []) if (j.get("agentId") or default) == p["agentId"]}
        entries = [e for e in entries if e.get("jobId") in mine]
    if p.get("status") not in (None, "", "all"):
        entries = [e for e in entries if e.get("status") == p["status"]]
    if p.get("sortDir") == "asc":
        entries.reverse()
    page, more = entries[offset:offset + limit], offset + limit < len(entries)
    return {"entries": page, "total": len(entries), "offset": offset, "limit": limit, "hasMore": more,
            "nextOffset": offset + limit if more else None}


@method("cron.get", scope=READ, params="CronGetParams")
async def cron_get(ctx: CallContext) -> dict[str, Any]:
    return _job(await _scheduler(ctx), ctx.params)
