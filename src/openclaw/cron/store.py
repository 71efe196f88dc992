"""Jobs and runs of one state dir, kept where upstream keeps them (`state/openclaw.sqlite`, see
openclaw.stores.cron), so either implementation sees the other's jobs and runs.

A run claims its slot before it starts: one transaction writes a `running` receipt (at most one per
job) and the job's next due time, so a restart never runs the same slot twice. Our former
`cron/jobs.json` (+ `runs.jsonl`) is imported once on first use and renamed `.migrated`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from openclaw import logfile, procutil
from openclaw.stores import cron as rows
from openclaw.stores import cron_runs as runlog
from openclaw.stores.cron import Job
from openclaw.stores.cron_runs import Finished, RunQuery
from openclaw.stores.globaldb import global_db, state_db_path
from openclaw.stores.legacy import archive as set_aside
from openclaw.stores.sqlitefile import BUSY_TIMEOUT_S, SqliteFile

T = TypeVar("T")
MAX_LEGACY_BYTES = 64 * 1024 * 1024  # a legacy jobs.json or runs.jsonl larger than this is left alone


def owner() -> runlog.Owner:
    marker = procutil.self_marker()
    return runlog.Owner(os.getpid(), int(marker) if marker and marker.isdigit() else None)


def owner_alive(pid: int, start_time: int | None) -> bool:
    """Whether a receipt's owner still runs (a recycled pid with another start time does not count)."""
    return procutil.pid_alive(int(pid), str(start_time) if start_time is not None else None)


class CronStore:
    """The cron tables of one state dir, opened on first use."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.key = rows.store_key(state_dir)
        self.legacy_jobs = state_dir / "cron" / "jobs.json"
        self.legacy_runs = state_dir / "cron" / "runs.jsonl"
        self._file: SqliteFile = global_db(state_dir)
        self._imported = False

    def _prepare(self, db: sqlite3.Connection) -> None:
        self._file.ensure(db, "cron", rows.DDL)
        if not self._imported:
            import_legacy(db, self.key, self.legacy_jobs, self.legacy_runs)
            self._imported = True

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def go(db: sqlite3.Connection) -> T:
            self._prepare(db)
            return fn(db)

        return await self._file.run(go)

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking access, for the CLI and tests (never from the event loop)."""
        def go(db: sqlite3.Connection) -> T:
            self._prepare(db)
            return fn(db)

        return self._file.call(go)

    async def load(self) -> list[Job]:
        return await self._run(lambda db: rows.load_jobs(db, self.key))

    async def put(self, job: Job) -> None:
        await self._run(lambda db: _in_tx(db, lambda: rows.put_job(db, self.key, job)))

    async def put_state(self, job: Job) -> None:
        await self._run(lambda db: rows.put_state(db, self.key, job))

    async def delete(self, job_id: str) -> None:
        await self._run(lambda db: rows.delete_job(db, self.key, job_id))

    async def interrupt_orphans(self, now: int) -> list[str]:
        return await self._run(lambda db: runlog.interrupt_orphans(db, self.key, owner_alive, now))

    async def claim(self, job: Job, agent_id: str, request_run_id: str | None, started: int) -> str | None:
        me = owner()
        return await self._run(lambda db: runlog.claim(db, self.key, job, agent_id, request_run_id, started, me))

    async def finish(self, run: Finished) -> None:
        await self._run(lambda db: runlog.finish(db, self.key, run))

    async def runs(self, query: RunQuery) -> tuple[list[Job], int]:
        return await self._run(lambda db: runlog.list_runs(db, self.key, query))


async def has_jobs(state_dir: Path) -> bool:
    """Whether the state dir holds a job this gateway would run (or our former jobs.json), read
    through a short read-only connection that creates and keeps nothing: a gateway without such jobs
    never loads the scheduler nor keeps the store open."""
    if (state_dir / "cron" / "jobs.json").exists():
        return True
    return await _probe(state_dir, rows.has_runnable)


async def has_heartbeat_job(state_dir: Path) -> bool:
    """Whether the store holds an enabled heartbeat job (upstream declares one for every instance
    with a model): such an instance keeps beating here after a switch."""
    return await _probe(state_dir, rows.has_enabled_heartbeat)


async def _probe(state_dir: Path, question: Callable[[sqlite3.Connection, str], bool]) -> bool:
    """`question` asked of the store through a short read-only connection (False when there is none)."""
    db_file = state_db_path(state_dir)
    key = rows.store_key(state_dir)

    def probe() -> bool:
        if not db_file.exists():
            return False
        db = sqlite3.connect(f"{db_file.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            return question(db, key)
        finally:
            db.close()

    return await asyncio.to_thread(probe)


def _in_tx(db: sqlite3.Connection, fn: Callable[[], None]) -> None:
    with rows.tx(db):
        fn()


# -- the one-time import ---------------------------------------------------------------------------
def import_legacy(db: sqlite3.Connection, key: str, jobs_path: Path, runs_path: Path) -> None:
    """Import our former jobs.json and runs.jsonl in one transaction, then rename them `.migrated`.
    A crash before the rename leaves the files, and importing them again adds nothing twice."""
    try:  # only its absence is normal: a file that cannot be read stops the start, nothing is lost
        raw = jobs_path.read_bytes() if jobs_path.stat().st_size <= MAX_LEGACY_BYTES else None
    except FileNotFoundError:
        return
    if raw is None:
        logfile.warn(f"{jobs_path} is too large to import; left in place", subsystem="cron")
        return
    try:
        data = json.loads(raw)
    except ValueError:
        logfile.warn(f"{jobs_path} is not JSON; left in place (fix or remove it)", subsystem="cron")
        return
    found = data.get("jobs") if isinstance(data, dict) else None
    jobs = [legacy_job(j) for j in found or [] if isinstance(j, dict) and j.get("id")]
    runs = _legacy_runs(runs_path, {j["id"]: j for j in jobs})
    now = int(datetime.now(UTC).timestamp() * 1000)
    with rows.tx(db):
        added = sum(rows.insert_imported(db, key, job) for job in jobs)
        for run in runs:
            runlog.insert_imported_run(db, key, run)
        rows.record_migration(db, jobs_path, hashlib.sha256(raw).hexdigest(), len(raw), len(jobs), "cron_jobs", now)
    for path in (jobs_path, runs_path):
        archived = archive(path)
        if archived:
            logfile.info(f"imported {path.name} into {db_path(db)}; kept as {archived.name}", subsystem="cron")
    logfile.info(f"imported {added} of {len(jobs)} jobs and {len(runs)} runs from {jobs_path}",
                 subsystem="cron")


def db_path(db: sqlite3.Connection) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row else "the state store"


def archive(path: Path) -> Path | None:
    """Rename `path` to `<path>.migrated` (`.migrated.2`, ... when taken, as upstream's doctor does)."""
    return set_aside(path) if path.exists() else None


def legacy_job(job: Job) -> Job:
    """A job as our jobs.json stored it, in upstream's shape: an `at` schedule as an ISO time."""
    out = dict(job)
    schedule = out.get("schedule")
    if isinstance(schedule, dict) and schedule.get("kind") == "at" and "at" not in schedule:
        out["schedule"] = at_schedule(schedule.get("atMs"))
    out.setdefault("createdAtMs", out.get("updatedAtMs") or int(datetime.now(UTC).timestamp() * 1000))
    return out


def at_schedule(at_ms: Any) -> Job:
    """`{"kind": "at", "at": ISO}` from milliseconds (a value no calendar holds stays as digits, which
    the scheduler then refuses like any bad schedule)."""
    try:
        text = datetime.fromtimestamp(int(at_ms) / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError, TypeError):
        text = str(at_ms)
    return {"kind": "at", "at": text}


def _legacy_runs(path: Path, jobs: dict[str, Job]) -> list[Finished]:
    try:
        if path.stat().st_size > MAX_LEGACY_BYTES:
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines[-runlog.MAX_RUNS_KEPT:]:
        try:
            run = json.loads(line)
        except ValueError:
            continue
        if not isinstance(run, dict) or run.get("jobId") not in jobs or not isinstance(run.get("runAtMs"), int):
            continue
        started: int = run["runAtMs"]
        ended: int = run["ts"] if isinstance(run.get("ts"), int) else started
        status = str(run["status"]) if run.get("status") in ("ok", "error", "skipped") else "error"
        trigger = "manual" if run.get("trigger") == "manual" else None
        rid = str(run.get("runId") or hashlib.sha256(line.encode()).hexdigest())
        job = jobs[run["jobId"]]
        out.append(Finished(job=job, receipt=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job['id']}:{rid}")),
                            request_run_id=f"manual:{job['id']}:{started}:1" if trigger else None,
                            agent_id=str(job.get("agentId") or "main"), started=started, ended=ended, status=status,
                            error=run.get("error"), summary=run.get("summary"), session_key=run.get("sessionKey")))
    return out

