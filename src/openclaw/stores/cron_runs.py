"""Cron runs in upstream's global store: a `cron_run_receipts` row per run (`running` while it runs;
the partial unique index allows one per job) and, when it ends, a `task_runs` row (`runtime='cron'`)
whose `detail_json` is what `cron runs` lists. Tables: openclaw.stores.cron. Every function here
takes the connection and runs on the store's own thread.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from openclaw.stores.cron import Job, config_revision, put_state, to_json, tx

MAX_RUNS_KEPT = 2000  # finished runs per store; the oldest go first
CLEANUP_AFTER_MS = 7 * 86_400_000  # upstream's `cleanup_after` for a finished cron task run


@dataclass
class Owner:
    """This process, as receipts name their owner (pid and its /proc start time)."""

    pid: int
    start_time: int | None


def claim(db: sqlite3.Connection, key: str, job: Job, agent_id: str, request_run_id: str | None, started: int,
          owner: Owner) -> str | None:
    """In one transaction: a `running` receipt and the job's advanced state. None when the job already
    has a running receipt (this process or another implementation is running it)."""
    receipt = str(uuid.uuid4())
    try:
        with tx(db):
            db.execute("INSERT INTO cron_run_receipts (receipt_id, store_key, job_id, config_revision, agent_id, "
                       "request_run_id, status, owner_pid, owner_start_time, started_at_ms) "
                       "VALUES (?,?,?,?,?,?,'running',?,?,?)",
                       (receipt, key, job["id"], config_revision(job), agent_id, request_run_id, owner.pid,
                        owner.start_time, started))
            put_state(db, key, job)
    except sqlite3.IntegrityError:
        return None
    return receipt


@dataclass
class Finished:
    """One ended run, as `detail_json` and the receipt record it."""

    job: Job
    receipt: str
    request_run_id: str | None
    agent_id: str
    started: int
    ended: int
    status: str  # ok | error | skipped
    error: str | None = None
    summary: str | None = None
    session_key: str | None = None
    delivery: Job = field(default_factory=dict)  # delivered, deliveryStatus, deliveryError, delivery
    receipt_status: str | None = None  # `interrupted` when the gateway stopped mid-run
    retry_at_ms: int | None = None  # a deferred run: when the job is due again (not stored with the run)


def finish(db: sqlite3.Connection, key: str, run: Finished) -> None:
    """Close the receipt, record the task run and the job's state together, then bound the history."""
    with tx(db):
        db.execute("UPDATE cron_run_receipts SET status = ?, finished_at_ms = ?, error_text = ? WHERE receipt_id = ?",
                   (run.receipt_status or run.status, run.ended, run.error, run.receipt))
        _insert_task_run(db, key, run)
        if db.execute("SELECT 1 FROM cron_jobs WHERE store_key = ? AND job_id = ?", (key, run.job["id"])).fetchone():
            put_state(db, key, run.job)
        prune(db, key)


def _insert_task_run(db: sqlite3.Connection, key: str, run: Finished) -> None:
    job, state = run.job, run.job.get("state") or {}
    run_id = f"cron:{job['id']}:{run.started}:{run.receipt}" + (f":{run.request_run_id}" if run.request_run_id else "")
    done = run.status == "ok" and run.delivery.get("deliveryStatus") != "not-delivered"
    detail = {"kind": "cron-run", "status": run.status, "completionStatus": "succeeded" if done else "failed",
              "error": run.error, "summary": run.summary, "storeKey": key, **run.delivery,
              **({"runId": run.request_run_id} if run.request_run_id else {}),
              "runAtMs": run.started, "durationMs": run.ended - run.started, "nextRunAtMs": state.get("nextRunAtMs")}
    name = str(job.get("name") or job["id"])
    db.execute("INSERT OR IGNORE INTO task_runs (task_id, runtime, task_kind, source_id, owner_key, scope_kind, "
               "child_session_key, agent_id, run_id, label, task, status, delivery_status, notify_policy, "
               "created_at, started_at, ended_at, last_event_at, cleanup_after, error, progress_summary, "
               "terminal_summary, detail_json) "
               "VALUES (?, 'cron', 'automation_run', ?, '', 'system', ?, ?, ?, ?, ?, ?, 'not_applicable', 'silent', "
               "?, ?, ?, ?, ?, ?, 'Running automation.', ?, ?)",
               (str(uuid.uuid5(uuid.NAMESPACE_URL, run_id)), job["id"], run.session_key, run.agent_id, run_id, name,
                name, "succeeded" if done else "failed", run.started, run.started, run.ended, run.ended,
                run.ended + CLEANUP_AFTER_MS, run.error, run.summary, to_json(detail)))


def prune(db: sqlite3.Connection, key: str, keep: int = MAX_RUNS_KEPT) -> None:
    """Keep the newest `keep` finished runs of the store (task runs and their receipts)."""
    db.execute("DELETE FROM task_runs WHERE task_id IN (SELECT task_id FROM task_runs WHERE runtime = 'cron' "
               "AND json_extract(detail_json, '$.storeKey') = ? ORDER BY ended_at DESC, task_id DESC "
               "LIMIT -1 OFFSET ?)", (key, keep))
    db.execute("DELETE FROM cron_run_receipts WHERE receipt_id IN (SELECT receipt_id FROM cron_run_receipts "
               "WHERE store_key = ? AND status != 'running' ORDER BY started_at_ms DESC, receipt_id DESC "
               "LIMIT -1 OFFSET ?)", (key, keep))


def interrupt_orphans(db: sqlite3.Connection, key: str, alive: Callable[[int, int | None], bool],
                      now: int) -> list[str]:
    """Mark `running` receipts whose owner process is gone `interrupted`; the job ids they held.
    `alive(pid, start_time)` says whether that owner still runs."""
    gone = [(r, j) for r, j, pid, start in db.execute(
        "SELECT receipt_id, job_id, owner_pid, owner_start_time FROM cron_run_receipts "
        "WHERE store_key = ? AND status = 'running'", (key,)).fetchall() if not alive(pid, start)]
    if not gone:
        return []
    with tx(db):
        for receipt, _ in gone:
            db.execute("UPDATE cron_run_receipts SET status = 'interrupted', finished_at_ms = ?, "
                       "error_text = 'the gateway stopped during the run' WHERE receipt_id = ?", (now, receipt))
    return [j for _, j in gone]


@dataclass
class RunQuery:
    """`cron.runs` filters, as upstream's CLI and Control UI send them."""

    job_id: str | None = None
    job_ids: list[str] | None = None  # an agent's jobs (`agentId`)
    statuses: list[str] | None = None
    query: str | None = None
    run_id: str | None = None
    delivery_statuses: list[str] | None = None
    descending: bool = True
    limit: int = 50
    offset: int = 0


def list_runs(db: sqlite3.Connection, key: str, q: RunQuery) -> tuple[list[Job], int]:
    """One page of the store's finished runs as upstream's run-log entries, and how many match."""
    where, args = ["runtime = 'cron'", "task_kind = 'automation_run'",
                   "json_extract(detail_json, '$.kind') = 'cron-run'",
                   "json_extract(detail_json, '$.storeKey') = ?"], [key]
    if q.job_id is not None:
        where.append("source_id = ?")
        args.append(q.job_id)
    if q.job_ids is not None:
        where.append(f"source_id IN ({','.join('?' * len(q.job_ids))})")
        args.extend(q.job_ids)
    for column, wanted in (("status", q.statuses), ("deliveryStatus", q.delivery_statuses)):
        if wanted:
            where.append(f"json_extract(detail_json, '$.{column}') IN ({','.join('?' * len(wanted))})")
            args.extend(wanted)
    if q.run_id:
        where.append("json_extract(detail_json, '$.runId') = ?")
        args.append(q.run_id)
    if q.query:
        where.append("(instr(lower(COALESCE(terminal_summary, '')), ?) OR instr(lower(COALESCE(error, '')), ?))")
        args.extend([q.query.lower()] * 2)
    clause = " AND ".join(where)
    total = db.execute(f"SELECT COUNT(*) FROM task_runs WHERE {clause}", args).fetchone()[0]
    order = "DESC" if q.descending else "ASC"
    rows = db.execute(f"SELECT source_id, label, ended_at, child_session_key, run_id, detail_json FROM task_runs "
                      f"WHERE {clause} ORDER BY json_extract(detail_json, '$.runAtMs') {order}, ended_at {order}, "
                      f"task_id {order} LIMIT ? OFFSET ?", [*args, q.limit, q.offset]).fetchall()
    return [_entry(*row) for row in rows], total


def _entry(job_id: str, label: str | None, ended: int | None, session_key: str | None, run_id: str | None,
           detail_text: str) -> Job:
    try:
        detail = json.loads(detail_text)
    except ValueError:
        detail = {}
    detail = detail if isinstance(detail, dict) else {}
    request = str(detail.get("runId") or "")
    entry: Job = {"ts": ended, "jobId": job_id, "action": "finished",
                  **{k: v for k, v in detail.items() if k not in ("kind", "storeKey") and v is not None},
                  "jobName": label, "trigger": "manual" if request.startswith("manual:") else "schedule"}
    if session_key:
        entry["sessionKey"] = session_key
    return entry


def insert_imported_run(db: sqlite3.Connection, key: str, run: Finished) -> None:
    """Add a run from the legacy log with a receipt id derived from it, so importing it twice adds nothing."""
    db.execute("INSERT OR IGNORE INTO cron_run_receipts (receipt_id, store_key, job_id, config_revision, agent_id, "
               "request_run_id, status, owner_pid, owner_start_time, started_at_ms, finished_at_ms, error_text) "
               "VALUES (?,?,?,?,?,?,?,0,NULL,?,?,?)",
               (run.receipt, key, run.job["id"], config_revision(run.job), run.agent_id, run.request_run_id,
                run.receipt_status or run.status, run.started, run.ended, run.error))
    _insert_task_run(db, key, run)
