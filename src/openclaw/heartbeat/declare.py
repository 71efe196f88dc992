"""The heartbeat as a system job in the cron store, exactly as upstream declares it
(`declarationKey: heartbeat:<agentId>`, `payload: {kind: heartbeat}`, an `every` schedule whose
anchor is a stable per-agent phase), so a switch to or from upstream keeps one job per agent.

`plan` compares the declared fields with what is stored: a missing job is created, a changed one
updated (its runtime state kept when the schedule stays), one whose agent no longer beats
removed, duplicates dropped. A `0m` cadence keeps the job, disabled (wakes still run)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw.config.view import Config
from openclaw.heartbeat.settings import DEFAULT_EVERY, heartbeat_agents, interval_ms

if TYPE_CHECKING:
    from openclaw.cron.scheduler import CronScheduler

PREFIX = "heartbeat:"
DECLARED = ("declarationKey", "name", "agentId", "schedule", "pacing", "trigger", "payload", "delivery",
            "displayName", "enabled", "sessionTarget", "wakeMode")
Job = dict[str, Any]


def agent_of(job: Job) -> str | None:
    """The agent a stored heartbeat job beats for (None: not a heartbeat job)."""
    key, payload = job.get("declarationKey"), job.get("payload")
    if not isinstance(key, str) or not key.startswith(PREFIX) or not isinstance(payload, dict):
        return None
    return key[len(PREFIX):] or None if payload.get("kind") == "heartbeat" else None


def scheduler_seed(state_dir: Path) -> str:
    """What spreads agents' phases: the instance's device id when upstream's identity file exists,
    else a digest of the state dir (stable for this instance, different between instances)."""
    try:
        data = json.loads((state_dir / "identity" / "device.json").read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("deviceId"), str) and data["deviceId"]:
            return str(data["deviceId"])
    except (OSError, ValueError):
        pass
    return hashlib.sha256(str(state_dir.absolute()).encode()).hexdigest()


def phase_ms(seed: str, agent_id: str, every_ms: int) -> int:
    """Upstream's phase: the first four bytes of sha256(`seed:agent`) modulo the interval."""
    digest = hashlib.sha256(f"{seed}:{agent_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(1, every_ms)


def declared(config: Config, stored: dict[str, Job], seed: str) -> dict[str, Job]:
    """Per agent, the job's declared fields (the stored interval is kept while `every` is `0m`, the
    stored phase while the interval stays: upstream seeds its phase with facts we do not read)."""
    out: dict[str, Job] = {}
    for beat in heartbeat_agents(config):
        configured = beat.every_ms
        kept = (stored.get(beat.agent_id) or {}).get("schedule") or {}
        every = configured or (kept.get("everyMs") if kept.get("kind") == "every" else None) \
            or interval_ms(DEFAULT_EVERY)
        assert every is not None
        anchor = kept.get("anchorMs") if kept.get("kind") == "every" and kept.get("everyMs") == every else None
        if not isinstance(anchor, int) or isinstance(anchor, bool):  # a stored phase is kept (upstream's own)
            anchor = phase_ms(seed, beat.agent_id, every)
        out[beat.agent_id] = {
            "declarationKey": f"{PREFIX}{beat.agent_id}", "displayName": f"Heartbeat ({beat.agent_id})",
            "agentId": beat.agent_id, "name": f"heartbeat-{beat.agent_id}", "enabled": configured is not None,
            "schedule": {"kind": "every", "everyMs": every, "anchorMs": anchor},
            "sessionTarget": "main", "wakeMode": "next-heartbeat", "payload": {"kind": "heartbeat"}}
    return out


@dataclass
class Change:
    kind: str  # create | update | remove
    agent_id: str
    job: Job  # the job to store (create, update) or to delete (remove)


def plan(config: Config, jobs: list[Job], seed: str) -> list[Change]:
    """The changes that make the stored heartbeat jobs match the config."""
    stored: dict[str, Job] = {}
    changes: list[Change] = []
    for job in jobs:
        agent = agent_of(job)
        if agent is None:
            continue
        kept = stored.get(agent)
        if kept is None or int(job.get("updatedAtMs") or 0) > int(kept.get("updatedAtMs") or 0):
            if kept is not None:
                changes.append(Change("remove", agent, kept))
            stored[agent] = job
        else:
            changes.append(Change("remove", agent, job))
    for agent, fields in declared(config, stored, seed).items():
        found = stored.pop(agent, None)
        if found is None:
            changes.append(Change("create", agent, {"id": str(uuid.uuid4()), **fields}))
        elif any(found.get(k) != fields.get(k) for k in DECLARED):
            rest = {k: v for k, v in found.items() if k not in DECLARED and k != "id"}
            changes.append(Change("update", agent, {"id": found["id"], **fields, **rest}))
    changes += [Change("remove", agent, job) for agent, job in stored.items()]
    return changes


def first_slot(job: Job, now: int, fresh: bool) -> int | None:
    """When a job is first due: a new heartbeat one whole interval from now (a gateway just set up
    is not pinged at once), a changed one at its next slot."""
    from openclaw.cron.schedule import next_run

    schedule = job["schedule"]
    return next_run(schedule, now + schedule["everyMs"] - 1 if fresh else now)


def stored_form(change: Change, old: Job | None, now: int) -> Job:
    """The job as upstream stores it (its key order), its runtime state carried over when the
    schedule and switch stay, else due at its first slot."""
    fields = change.job
    job: Job = {"id": fields["id"]}
    for key in ("declarationKey", "displayName", "agentId", "name", "enabled"):
        job[key] = fields[key]
    job["createdAtMs"] = (old or {}).get("createdAtMs") or now
    job.update({k: v for k, v in fields.items() if k not in job})
    state = dict((old or {}).get("state") or {})
    if old is None or old.get("schedule") != job["schedule"] or old.get("enabled", True) != job["enabled"]:
        state["nextRunAtMs"] = first_slot(job, now, old is None) if job["enabled"] else None
    job["state"], job["updatedAtMs"] = state, now
    return job


async def apply(scheduler: CronScheduler, config: Config, seed: str) -> list[Change]:
    """Make the scheduler's heartbeat jobs (and the store) match the config; the changes made."""
    from openclaw.cron.schedule import now_ms

    changes = plan(config, scheduler.jobs, seed)
    for change in changes:
        now = now_ms()
        if change.kind == "remove":
            await scheduler.store.delete(change.job["id"])
            scheduler.jobs = [j for j in scheduler.jobs if j["id"] != change.job["id"]]
            continue
        old = next((j for j in scheduler.jobs if j["id"] == change.job["id"]), None)
        job = stored_form(change, old, now)
        await scheduler.store.put(job)
        if old is None:
            scheduler.jobs.append(job)
        else:
            old.clear()
            old.update(job)  # the same dict: a run in progress records its end on it
    if changes:
        scheduler.wake()
    return changes


async def disable_all(scheduler: CronScheduler) -> list[str]:
    """Heartbeats were switched off in the config: their jobs stay, disabled (the agents they beat)."""
    from openclaw.cron.schedule import now_ms

    done = []
    for job in scheduler.jobs:
        agent = agent_of(job)
        if agent is not None and job.get("enabled", True):
            job["enabled"], job["updatedAtMs"] = False, now_ms()
            job.setdefault("state", {})["nextRunAtMs"] = None
            await scheduler.store.put(job)
            done.append(agent)
    return done
