"""Cron jobs and their runs in upstream's global store, row for row as upstream 2026.9.6 keeps them.

`cron_jobs` holds one row per job under a store key (the absolute path of the legacy
`<state>/cron/jobs.json`, which need not exist): the job's definition in `job_json` (without runtime
state, `state: {}`), its runtime state in `state_json`, and columns derived from both. A run is a
`cron_run_receipts` row (`running` while it runs; the partial unique index allows one per job) and,
when it ends, a `task_runs` row (`runtime='cron'`) whose `detail_json` is what `cron runs` lists.
Every function here takes the connection and runs on the store's own thread.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Job = dict[str, Any]

MAX_RUNS_KEPT = 2000  # finished runs per store; the oldest go first
CLEANUP_AFTER_MS = 7 * 86_400_000  # upstream's `cleanup_after` for a finished cron task run
RUNTIME_KEYS = ("state", "updatedAtMs", "runtimeAuthority", "runtimeAuthorityRecoveryRequired")

# Upstream's tables, as its migrations create them (columns, keys, checks and indexes unchanged).
DDL = """
CREATE TABLE IF NOT EXISTS cron_jobs (
  store_key TEXT NOT NULL,
  job_id TEXT NOT NULL,
  declaration_key TEXT,
  owner_agent_id TEXT,
  name TEXT NOT NULL,
  description TEXT,
  enabled INTEGER NOT NULL,
  agent_id TEXT,
  payload_kind TEXT NOT NULL,
  job_json TEXT NOT NULL,
  grant_definition_revision TEXT,
  grant_definition_generation INTEGER,
  grant_definition_updated_at INTEGER,
  state_json TEXT NOT NULL DEFAULT '{}',
  runtime_updated_at_ms INTEGER,
  schedule_identity TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (store_key, job_id)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_cron_jobs_store_order
  ON cron_jobs(store_key, sort_order ASC, updated_at ASC, job_id);
CREATE TABLE IF NOT EXISTS cron_job_scratch (
  store_key TEXT NOT NULL,
  job_id TEXT NOT NULL,
  content TEXT,
  revision INTEGER NOT NULL,
  source_sha256 TEXT,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (store_key, job_id),
  CHECK (revision >= 1),
  CHECK (content IS NULL OR length(CAST(content AS BLOB)) <= 262144)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_cron_job_scratch_store_updated
  ON cron_job_scratch(store_key, updated_at_ms DESC, job_id);
CREATE TABLE IF NOT EXISTS cron_run_receipts (
  receipt_id TEXT PRIMARY KEY,
  store_key TEXT NOT NULL,
  job_id TEXT NOT NULL,
  config_revision TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  request_run_id TEXT,
  status TEXT NOT NULL,
  owner_pid INTEGER NOT NULL,
  owner_start_time INTEGER,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  error_text TEXT,
  CHECK (status IN ('running', 'ok', 'error', 'skipped', 'interrupted', 'superseded')),
  CHECK (
    (status = 'running' AND finished_at_ms IS NULL)
    OR
    (status != 'running' AND finished_at_ms IS NOT NULL)
  )
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS idx_cron_run_receipts_active_job
  ON cron_run_receipts(store_key, job_id)
  WHERE status = 'running';
CREATE INDEX IF NOT EXISTS idx_cron_run_receipts_job_history
  ON cron_run_receipts(store_key, job_id, started_at_ms DESC, receipt_id DESC);
CREATE TABLE IF NOT EXISTS task_runs (
  task_id TEXT NOT NULL PRIMARY KEY,
  runtime TEXT NOT NULL,
  task_kind TEXT,
  source_id TEXT,
  requester_session_key TEXT,
  owner_key TEXT NOT NULL,
  scope_kind TEXT NOT NULL,
  child_session_key TEXT,
  parent_flow_id TEXT,
  parent_task_id TEXT,
  agent_id TEXT,
  requester_agent_id TEXT,
  run_id TEXT,
  execution_owner_host TEXT,
  execution_owner_pid INTEGER,
  execution_owner_start_identity INTEGER,
  label TEXT,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  delivery_status TEXT NOT NULL,
  notify_policy TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  last_event_at INTEGER,
  cleanup_after INTEGER,
  tool_use_count INTEGER,
  last_tool_name TEXT,
  error TEXT,
  progress_summary TEXT,
  terminal_summary TEXT,
  terminal_outcome TEXT,
  detail_json TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS idx_task_runs_run_id ON task_runs(run_id);
CREATE INDEX IF NOT EXISTS idx_task_runs_status ON task_runs(status);
CREATE INDEX IF NOT EXISTS idx_task_runs_runtime_status ON task_runs(runtime, status);
CREATE INDEX IF NOT EXISTS idx_task_runs_cleanup_after ON task_runs(cleanup_after);
CREATE INDEX IF NOT EXISTS idx_task_runs_last_event_at ON task_runs(last_event_at);
CREATE INDEX IF NOT EXISTS idx_task_runs_owner_key ON task_runs(owner_key);
CREATE INDEX IF NOT EXISTS idx_task_runs_parent_flow_id ON task_runs(parent_flow_id);
CREATE INDEX IF NOT EXISTS idx_task_runs_child_session_key ON task_runs(child_session_key);
CREATE INDEX IF NOT EXISTS idx_task_runs_requester_session_key ON task_runs(requester_session_key);
CREATE INDEX IF NOT EXISTS idx_task_runs_runtime_source_ended
  ON task_runs(runtime, source_id, ended_at, created_at, task_id);
CREATE INDEX IF NOT EXISTS idx_task_runs_runtime_ended
  ON task_runs(runtime, ended_at, created_at, task_id);
CREATE TABLE IF NOT EXISTS migration_runs (
  id TEXT NOT NULL PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL,
  report_json TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS idx_migration_runs_started
  ON migration_runs(started_at DESC, id);
CREATE TABLE IF NOT EXISTS migration_sources (
  source_key TEXT NOT NULL PRIMARY KEY,
  migration_kind TEXT NOT NULL,
  source_path TEXT NOT NULL,
  target_table TEXT NOT NULL,
  source_sha256 TEXT,
  source_size_bytes INTEGER,
  source_record_count INTEGER,
  last_run_id TEXT NOT NULL,
  status TEXT NOT NULL,
  imported_at INTEGER NOT NULL,
  removed_source INTEGER NOT NULL DEFAULT 0,
  report_json TEXT NOT NULL,
  FOREIGN KEY (last_run_id) REFERENCES migration_runs(id) ON DELETE CASCADE
) STRICT;
CREATE INDEX IF NOT EXISTS idx_migration_sources_path
  ON migration_sources(source_path, migration_kind, target_table);
CREATE INDEX IF NOT EXISTS idx_migration_sources_run
  ON migration_sources(last_run_id, source_path);
"""


@contextlib.contextmanager
def tx(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (the connection is in autocommit mode): all of it, or none of it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def store_key(state_dir: Path) -> str:
    """Upstream's partition key: the absolute path its legacy `cron/jobs.json` had."""
    return str(state_dir.absolute() / "cron" / "jobs.json")


# -- job <-> row -------------------------------------------------------------------------------
def _js(value: Any) -> str:
    """JSON as JavaScript's `JSON.stringify` writes it (no spaces, key order kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _digest(value: Any) -> str:
    """Upstream's definition hash: sha256 (base64url) of the JSON with keys sorted at every level."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


def definition(job: Job) -> Job:
    """The job as `job_json` holds it: no runtime fields, an empty `state`."""
    return {**{k: v for k, v in job.items() if k not in RUNTIME_KEYS}, "state": {}}


def grant_revision(job: Job) -> str:
    """`grant_definition_revision`: the definition without `enabled` and `state`."""
    return _digest({k: v for k, v in definition(job).items() if k not in ("enabled", "state")})


def config_revision(job: Job) -> str:
    """A receipt's `config_revision`: the definition without `state` (so `enabled` counts)."""
    return _digest({k: v for k, v in definition(job).items() if k != "state"})


def schedule_identity(job: Job) -> str | None:
    """What upstream compares to decide whether a stored `nextRunAtMs` still fits the schedule."""
    s = job.get("schedule")
    if not isinstance(s, dict):
        return None
    kind = s.get("kind")
    if kind == "at" and isinstance(s.get("at"), str):
        sched: Job = {"kind": "at", "at": s["at"]}
    elif kind == "every" and isinstance(s.get("everyMs"), int):
        sched = {"kind": "every", "everyMs": s["everyMs"], **({"anchorMs": s["anchorMs"]} if "anchorMs" in s else {})}
    elif kind == "cron" and isinstance(s.get("expr"), str):
        sched = {"kind": "cron", "expr": s["expr"], **{k: s[k] for k in ("tz", "staggerMs") if s.get(k) is not None}}
    else:
        return None
    return _js({"version": 2, "enabled": job.get("enabled", True) is not False, "schedule": sched,
                "hasTrigger": job.get("trigger") is not None})


def state_json(job: Job) -> str:
    """The runtime state without unset (None) fields: upstream drops a job whose state holds a null
    time (`nextRunAtMs: null` marks it invalid), and its own writer leaves unset fields out."""
    state = {k: v for k, v in (job.get("state") or {}).items() if v is not None}
    if "lastRunStatus" not in state and state.get("lastStatus") is not None:
        state["lastRunStatus"] = state["lastStatus"]
    return _js(state)


def job_from_row(row: sqlite3.Row) -> Job | None:
    """A row as a job dict (definition, id, times, state), or None when the row cannot be read."""
    try:
        job = json.loads(row["job_json"])
        state = json.loads(row["state_json"] or "{}")
    except ValueError:
        return None
    if not isinstance(job, dict) or not isinstance(state, dict):
        return None
    created = job.get("createdAtMs") if isinstance(job.get("createdAtMs"), int) else row["updated_at"]
    updated = row["runtime_updated_at_ms"] if row["runtime_updated_at_ms"] is not None else row["updated_at"]
    return {**job, "id": row["job_id"], "createdAtMs": created, "updatedAtMs": updated, "state": state}


def load_jobs(db: sqlite3.Connection, key: str) -> list[Job]:
    """The store's jobs in upstream's order (unreadable rows are skipped, never rewritten)."""
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute("SELECT * FROM cron_jobs WHERE store_key = ? ORDER BY sort_order ASC, updated_at ASC, "
                          "job_id", (key,)).fetchall()
    finally:
        db.row_factory = None
    return [job for job in map(job_from_row, rows) if job is not None]


def has_runnable(db: sqlite3.Connection, key: str) -> bool:
    """A user's agent-turn job in the store (upstream's built-in and other payloads are not run here)."""
    return _has_table(db, "cron_jobs") and db.execute(
        "SELECT 1 FROM cron_jobs WHERE store_key = ? AND payload_kind = 'agentTurn' AND declaration_key IS NULL "
        "LIMIT 1", (key,)).fetchone() is not None


def put_job(db: sqlite3.Connection, key: str, job: Job) -> None:
    """Insert or replace a job's whole row; a changed definition bumps its grant generation, a new job
    goes last."""
    updated = int(job.get("updatedAtMs") or job.get("createdAtMs") or 0)
    payload: Job = job["payload"] if isinstance(job.get("payload"), dict) else {}
    owner: Job = job["owner"] if isinstance(job.get("owner"), dict) else {}
    revision = grant_revision(job)
    old = db.execute("SELECT grant_definition_revision, grant_definition_generation FROM cron_jobs "
                     "WHERE store_key = ? AND job_id = ?", (key, job["id"])).fetchone()
    if old is None:
        generation = 1
        order = db.execute("SELECT COALESCE(MAX(sort_order) + 1, 0) FROM cron_jobs WHERE store_key = ?",
                           (key,)).fetchone()[0]
    else:
        generation = (old[1] or 0) + (old[0] != revision)
        order = None
    values = (job.get("declarationKey"), owner.get("agentId"), job.get("name") or job["id"], job.get("description"),
              1 if job.get("enabled", True) else 0, job.get("agentId"), str(payload.get("kind") or "agentTurn"),
              _js(definition(job)), revision, generation, updated, state_json(job), updated, schedule_identity(job),
              updated)
    if old is None:
        db.execute("INSERT INTO cron_jobs (declaration_key, owner_agent_id, name, description, enabled, agent_id, "
                   "payload_kind, job_json, grant_definition_revision, grant_definition_generation, "
                   "grant_definition_updated_at, state_json, runtime_updated_at_ms, schedule_identity, updated_at, "
                   "store_key, job_id, sort_order) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (*values, key, job["id"], order))
    else:
        db.execute("UPDATE cron_jobs SET declaration_key = ?, owner_agent_id = ?, name = ?, description = ?, "
                   "enabled = ?, agent_id = ?, payload_kind = ?, job_json = ?, grant_definition_revision = ?, "
                   "grant_definition_generation = ?, grant_definition_updated_at = ?, state_json = ?, "
                   "runtime_updated_at_ms = ?, schedule_identity = ?, updated_at = ? "
                   "WHERE store_key = ? AND job_id = ?", (*values, key, job["id"]))


def put_state(db: sqlite3.Connection, key: str, job: Job) -> None:
    """Write only the runtime columns (as upstream's scheduler does): the definition stays byte for byte."""
    db.execute("UPDATE cron_jobs SET state_json = ?, runtime_updated_at_ms = ?, schedule_identity = ? "
               "WHERE store_key = ? AND job_id = ?",
               (state_json(job), job.get("updatedAtMs"), schedule_identity(job), key, job["id"]))


def delete_job(db: sqlite3.Connection, key: str, job_id: str) -> None:
    """Remove a job and its scratch text, revoking standing approvals bound to it, as upstream does."""
    with tx(db):
        if _has_table(db, "operator_approval_standing_grants"):
            db.execute("UPDATE operator_approval_standing_grants SET revoked_at_ms = strftime('%s','now') * 1000, "
                       "revoked_by = 'cron-job-deleted' WHERE cron_job_id = ? AND revoked_at_ms IS NULL", (job_id,))
        db.execute("DELETE FROM cron_job_scratch WHERE store_key = ? AND job_id = ?", (key, job_id))
        db.execute("DELETE FROM cron_jobs WHERE store_key = ? AND job_id = ?", (key, job_id))


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


# -- runs --------------------------------------------------------------------------------------
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
                run.ended + CLEANUP_AFTER_MS, run.error, run.summary, _js(detail)))


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


# -- importing a legacy jobs.json --------------------------------------------------------------
def record_migration(db: sqlite3.Connection, source: Path, digest: str, size: int, count: int, target: str,
                     now: int) -> None:
    """A `migration_runs` + `migration_sources` row saying which file was imported, and its digest."""
    source_key = "cron-json:" + hashlib.sha256(f"{source}\0{digest}\0".encode()).hexdigest()
    report = _js({"source": "cron-json", "target": target, "stage": "completed", "sourceSha256": digest,
                  "importedRecordCount": count})
    db.execute("INSERT OR REPLACE INTO migration_runs (id, started_at, finished_at, status, report_json) "
               "VALUES (?, ?, ?, 'completed', ?)", (source_key, now, now, report))
    db.execute("INSERT OR REPLACE INTO migration_sources (source_key, migration_kind, source_path, target_table, "
               "source_sha256, source_size_bytes, source_record_count, last_run_id, status, imported_at, "
               "removed_source, report_json) VALUES (?, 'cron-json', ?, ?, ?, ?, ?, ?, 'completed', ?, 1, ?)",
               (source_key, str(source), target, digest, size, count, source_key, now, report))


def insert_imported(db: sqlite3.Connection, key: str, job: Job) -> bool:
    """Add an imported job unless a job with its id is already stored (an import is never doubled)."""
    if db.execute("SELECT 1 FROM cron_jobs WHERE store_key = ? AND job_id = ?", (key, job["id"])).fetchone():
        return False
    put_job(db, key, job)
    return True


def insert_imported_run(db: sqlite3.Connection, key: str, run: Finished) -> None:
    """Add a run from the legacy log with a receipt id derived from it, so importing it twice adds nothing."""
    db.execute("INSERT OR IGNORE INTO cron_run_receipts (receipt_id, store_key, job_id, config_revision, agent_id, "
               "request_run_id, status, owner_pid, owner_start_time, started_at_ms, finished_at_ms, error_text) "
               "VALUES (?,?,?,?,?,?,?,0,NULL,?,?,?)",
               (run.receipt, key, run.job["id"], config_revision(run.job), run.agent_id, run.request_run_id,
                run.receipt_status or run.status, run.started, run.ended, run.error))
    _insert_task_run(db, key, run)
