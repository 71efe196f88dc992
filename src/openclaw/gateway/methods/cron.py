"""`cron.list|status|add|update|remove|run|runs`: scheduled agent turns, in upstream's job shape
(`schedule`, `payload: {kind: agentTurn, message}`, `delivery`, `state`), stored where upstream
stores them (openclaw.cron.store)."""

from __future__ import annotations

import asyncio
import base64
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
    """The scheduler; started by `start`, or when the state store exists (it may hold upstream's jobs)."""
    from openclaw.stores.globaldb import state_db_path

    scheduler = await ctx.gateway.services.scheduler(False)
    if scheduler is None and not start:
        start = await asyncio.to_thread(state_db_path(ctx.gateway.settings.paths.state_dir).exists)
    return scheduler or await ctx.gateway.services.scheduler(start)


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
    whole job when added) is also held to the time bounds (after now, within 10 years). A job this
    gateway does not run (upstream's `command` or `heartbeat` payloads) keeps what it has unless changed."""
    from openclaw.cron.schedule import check_name, now_ms, validate
    from openclaw.errors import UsageError

    try:
        if "name" in changed:
            check_name(job.get("name"))
        validate(job.get("schedule"), now_ms() if "schedule" in changed else None)
    except UsageError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    payload = job.get("payload")
    if "payload" in changed and (not isinstance(payload, dict) or payload.get("kind", "agentTurn") != "agentTurn"
                                 or not payload.get("message")):
        raise RpcError(INVALID_REQUEST, 'payload must be {"kind": "agentTurn", "message": "..."}')
    delivery = job.get("delivery")
    if "delivery" in changed and delivery is not None and not _deliverable(delivery):
        raise RpcError(INVALID_REQUEST,
                       'delivery must be {"mode": "none"} or {"channel": "telegram", "to": "<chat id>"}')


def _deliverable(delivery: Any) -> bool:
    if not isinstance(delivery, dict):
        return False
    return delivery.get("mode") == "none" or bool(delivery.get("channel") and delivery.get("to"))


def _upstream_shape(job: dict[str, Any]) -> None:
    """Store an `at` time as upstream does (an ISO string) and give an agent turn upstream's defaults
    for what its tools may do, so upstream runs the job as its own CLI would have added it."""
    from openclaw.cron.schedule import at_ms, iso

    schedule = job.get("schedule")
    if isinstance(schedule, dict) and schedule.get("kind") == "at" and "atMs" in schedule:
        at = at_ms(schedule)
        job["schedule"] = {"kind": "at", "at": iso(at) if at is not None else str(schedule["atMs"])}
    payload = job.get("payload")
    if isinstance(payload, dict) and payload.get("kind") == "agentTurn":
        payload.setdefault("toolsAllow", ["*"])
        job.setdefault("scheduledToolPolicy", {"version": 1, "mode": "trusted"})


RUNS_SCANNED = 5000  # the run log keeps fewer


@method("cron.list", scope=READ, params="CronListParams")
async def cron_list(ctx: CallContext) -> dict[str, Any]:
    """Jobs soonest due first (disabled last), each with upstream's projected fields."""
    scheduler = await _scheduler(ctx)
    default = ctx.gateway.settings.config.default_agent_id
    jobs = [_listed_job(j, default, scheduler) for j in (scheduler.jobs if scheduler else [])
            if (ctx.params.get("includeDisabled") or j.get("enabled", True))
            and (not ctx.params.get("agentId") or (j.get("agentId") or default) == ctx.params["agentId"])]
    jobs.sort(key=lambda j: (j["nextRunAtMs"] is None, j["nextRunAtMs"] or 0))
    offset, limit = ctx.params.get("offset", 0), min(ctx.params.get("limit", 200), 200)
    page = jobs[offset:offset + limit]
    more = offset + limit < len(jobs)
    digest = hashlib.sha256(json.dumps(jobs, sort_keys=True, default=str).encode()).digest()
    return {"jobs": page, "snapshotRevision": "sha256:" + base64.urlsafe_b64encode(digest).decode().rstrip("="),
            "total": len(jobs), "offset": offset, "limit": limit, "hasMore": more,
            "nextOffset": offset + limit if more else None,
            "deliveryPreviews": {j["id"]: _delivery_preview(j.get("delivery")) for j in page}}


def _listed_job(job: dict[str, Any], default_agent: str, scheduler: CronScheduler | None) -> dict[str, Any]:
    """A job as upstream's `cron.list` shows it: the stored job plus its state's headline fields."""
    from openclaw.stores.cron import config_revision

    state = job.get("state") or {}
    last = state.get("lastRunStatus") or state.get("lastStatus")
    running = scheduler is not None and job["id"] in scheduler.running
    status = ("running" if running else "disabled" if not job.get("enabled", True)
              else last if last in ("ok", "error", "skipped") else "idle")
    extra = {"lastRunAtMs": state.get("lastRunAtMs"), "lastRunStatus": last,
             "lastRunError": state.get("lastError") if last == "error" else None,
             "lastDelivered": state.get("lastDelivered"), "lastDeliveryStatus": state.get("lastDeliveryStatus")}
    return {**job, "configRevision": config_revision(job), "nextRunAtMs": state.get("nextRunAtMs"),
            **{k: v for k, v in extra.items() if v is not None},
            "effectiveAgentId": job.get("agentId") or default_agent, "status": status}


def _delivery_preview(delivery: Any) -> dict[str, str]:
    if not isinstance(delivery, dict) or delivery.get("mode", "announce") == "none":
        return {"label": "not requested", "detail": "not requested"}
    channel, to = delivery.get("channel") or "last", delivery.get("to")
    return {"label": f"announce -> {channel}" + (f":{to}" if to else ""), "detail": "explicit"}


@method("cron.status", scope=READ, params="NoParams")
async def cron_status(ctx: CallContext) -> dict[str, Any]:
    from openclaw.stores.globaldb import state_db_path

    scheduler = await _scheduler(ctx)
    jobs = scheduler.jobs if scheduler else []
    return {"enabled": True, "jobs": len(jobs), "enabledJobs": sum(1 for j in jobs if j.get("enabled", True)),
            "running": len(scheduler.running) if scheduler else 0,
            "nextWakeAtMs": scheduler.next_wake_ms() if scheduler else None,
            "storePath": str(ctx.gateway.settings.paths.state_dir / "cron" / "jobs.json"),
            "storage": "sqlite", "sqlitePath": str(state_db_path(ctx.gateway.settings.paths.state_dir)),
            "triggersEnabled": True}


@method("cron.add", scope=ADMIN, params="CronAddParams")
async def cron_add(ctx: CallContext) -> dict[str, Any]:
    from openclaw.cron.schedule import next_run, now_ms
    from openclaw.cron.scheduler import MAX_JOBS

    scheduler = await _scheduler(ctx, start=True)
    assert scheduler is not None  # started
    if len(scheduler.jobs) >= MAX_JOBS:
        raise RpcError(INVALID_REQUEST, f"at most {MAX_JOBS} cron jobs per gateway")
    given = {"enabled": True, "sessionTarget": "isolated", "wakeMode": "now",
             **{k: ctx.params[k] for k in EDITABLE if k in ctx.params}}
    given["payload"] = {"kind": "agentTurn", **given["payload"]}
    job: dict[str, Any] = {"id": str(uuid.uuid4())}  # the keys in upstream's order, the rest after them
    given.setdefault("delivery", {"mode": "none"})  # upstream reads a missing delivery as "announce to last"
    for key in ("agentId", "name", "description", "enabled", "deleteAfterRun", "createdAtMs", "schedule",
                "sessionTarget", "wakeMode", "payload", "delivery"):
        if key == "createdAtMs":
            job[key] = now_ms()
        elif key in given:
            job[key] = given.pop(key)
    job.update(given)
    _checked(job, job)
    if job.get("agentId"):
        _agent(ctx, job["agentId"])
    _upstream_shape(job)
    job["updatedAtMs"] = job["createdAtMs"]
    job["state"] = {"nextRunAtMs": next_run(job["schedule"], now_ms())} if job["enabled"] else {}
    await scheduler.store.put(job)
    scheduler.jobs.append(job)
    scheduler.wake()
    return job


def _not_declared(job: dict[str, Any]) -> None:
    """A heartbeat job follows the config: cron clients may run it, not edit or remove it."""
    key = job.get("declarationKey")
    if isinstance(key, str) and key.startswith("heartbeat:"):
        raise RpcError(INVALID_REQUEST, f"{job.get('displayName') or key} is declared by the config; change "
                                        "agents.defaults.heartbeat (or the agent's heartbeat) instead")


def _agent(ctx: CallContext, agent_id: str) -> None:
    ids = [a.id for a in ctx.gateway.settings.config.agents]
    if agent_id not in ids:
        raise RpcError(INVALID_REQUEST, f"unknown agent {agent_id!r} (agents: {', '.join(ids)})")


@method("cron.update", scope=ADMIN, params="CronUpdateParams")
async def cron_update(ctx: CallContext) -> dict[str, Any]:
    from openclaw.cron.schedule import next_run, now_ms

    scheduler, job = await _found(ctx)
    _not_declared(job)
    patch = {k: v for k, v in ctx.params["patch"].items() if k in EDITABLE}
    updated = {**job, **patch}
    if "payload" in patch:
        updated["payload"] = {**job.get("payload", {}), **patch["payload"]}
    _checked(updated, patch)
    if patch.get("agentId"):
        _agent(ctx, patch["agentId"])
    _upstream_shape(updated)
    if "schedule" in patch or "enabled" in patch:
        updated["state"] = {**(job.get("state") or {}),
                            "nextRunAtMs": next_run(updated["schedule"], now_ms()) if updated.get("enabled") else None}
    updated["updatedAtMs"] = now_ms()
    await scheduler.store.put(updated)
    job.clear()
    job.update(updated)
    scheduler.wake()
    return job


@method("cron.remove", scope=ADMIN, params="CronRemoveParams")
async def cron_remove(ctx: CallContext) -> dict[str, Any]:
    scheduler, job = await _found(ctx)
    _not_declared(job)
    await scheduler.store.delete(job["id"])
    scheduler.jobs = [j for j in scheduler.jobs if j is not job]
    return {"ok": True, "removed": True, "id": job["id"]}


@method("cron.run", scope=ADMIN, params="CronRunParams")
async def cron_run(ctx: CallContext) -> dict[str, Any]:
    """Run a job now (`mode: due` only if it is due); waits for the turn to end."""
    from openclaw.cron.schedule import now_ms

    scheduler, job = await _found(ctx)
    if ctx.params.get("mode") == "due" and (job.get("state") or {}).get("nextRunAtMs", now_ms() + 1) > now_ms():
        return {"ok": True, "ran": False, "reason": "not-due"}
    from openclaw.cron.schedule import validate
    from openclaw.errors import UsageError

    if not scheduler.runs_here(job):
        kind, trigger = (job.get("payload") or {}).get("kind"), (job.get("schedule") or {}).get("kind")
        what = (f"built-in job {job['declarationKey']}" if job.get("declarationKey")
                else f"{kind} payload" if kind != "agentTurn" else f"{trigger} trigger")
        raise RpcError(INVALID_REQUEST, f"this gateway does not run the {what} of {job.get('name') or job['id']}; "
                                        "upstream OpenClaw's gateway runs it")
    try:
        validate(job.get("schedule"))
    except (UsageError, ValueError, OverflowError) as exc:
        raise RpcError(INVALID_REQUEST, f"schedule refused: {exc}; fix it with cron.update") from None
    run_id = None if job["id"] in scheduler.running else await scheduler.trigger(job, "manual")
    if run_id is None:
        return {"ok": True, "ran": False, "reason": "already-running"}
    await asyncio.shield(scheduler.running.get(job["id"]) or asyncio.sleep(0))
    state = job.get("state") or {}
    return {"ok": state.get("lastStatus") == "ok", "ran": True, "runId": run_id, "status": state.get("lastStatus"),
            "error": state.get("lastError")}


@method("cron.runs", scope=READ, params="CronRunsParams")
async def cron_runs(ctx: CallContext) -> dict[str, Any]:
    """Finished runs, newest first unless `sortDir: asc`, one page (`limit`, `offset`) as upstream pages."""
    from openclaw.stores.cron_runs import RunQuery

    p = ctx.params
    scheduler = await _scheduler(ctx)
    query = RunQuery(limit=p.get("limit", 50), offset=p.get("offset", 0), descending=p.get("sortDir") != "asc",
                     statuses=_listed(p.get("statuses") or p.get("status")),
                     delivery_statuses=_listed(p.get("deliveryStatuses") or p.get("deliveryStatus")),
                     query=p.get("query") or None, run_id=p.get("runId") or None)
    if scheduler is None:  # no state store: no runs
        return {"entries": [], "total": 0, "offset": query.offset, "limit": query.limit, "hasMore": False,
                "nextOffset": None}
    wanted = p.get("id") or p.get("jobId")
    if wanted:  # a removed job's runs stay listed under its id
        query.job_id = next((j["id"] for j in scheduler.jobs if wanted in (j["id"], j.get("name"))), wanted)
    if p.get("agentId"):
        default = ctx.gateway.settings.config.default_agent_id
        query.job_ids = [j["id"] for j in scheduler.jobs if (j.get("agentId") or default) == p["agentId"]]
    entries, total = await scheduler.store.runs(query)
    more = query.offset + len(entries) < total
    return {"entries": entries, "total": total, "offset": query.offset, "limit": query.limit, "hasMore": more,
            "nextOffset": query.offset + len(entries) if more else None}


def _listed(value: Any) -> list[str] | None:
    """A status filter: one value or several; `all` (or nothing) means no filter."""
    values = [value] if isinstance(value, str) else list(value or [])
    values = [str(v) for v in values if v and v != "all"]
    return values or None


@method("cron.get", scope=READ, params="CronGetParams")
async def cron_get(ctx: CallContext) -> dict[str, Any]:
    return _job(await _scheduler(ctx), ctx.params)
