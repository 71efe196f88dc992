"""Cron jobs in upstream's global store, row for row as upstream 2026.9.6 keeps them, and the DDL of
every cron table (runs: openclaw.stores.cron_runs).

`cron_jobs` holds one row per job under a store key (the absolute path of the legacy
`<state>/cron/jobs.json`, which need not exist): the job's definition in `job_json` (without runtime
state, `state: {}`), its runtime state in `state_json`, and columns derived from both. Every function
here takes the connection and runs on the store's own thread.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from openclaw.stores import legacy
from openclaw.stores.sqlitefile import immediate as tx  # one write transaction, as every store writes

__all__ = ["tx"]  # re-exported: cron_runs and the cron store write through it

Job = dict[str, Any]

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
""" + legacy.DDL  # the import ledger: written when a legacy jobs.json is imported




def store_key(state_dir: Path) -> str:
    """Upstream's partition key: the absolute path its legacy `cron/jobs.json` had."""
    return str(state_dir.absolute() / "cron" / "jobs.json")


# -- job <-> row -------------------------------------------------------------------------------
def to_json(value: Any) -> str:
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
    return to_json({"version": 2, "enabled": job.get("enabled", True) is not False, "schedule": sched,
                "hasTrigger": job.get("trigger") is not None})


def state_json(job: Job) -> str:
    """The runtime state without unset (None) fields: upstream drops a job whose state holds a null
    time (`nextRunAtMs: null` marks it invalid), and its own writer leaves unset fields out."""
    state = {k: v for k, v in (job.get("state") or {}).items() if v is not None}
    if "lastRunStatus" not in state and state.get("lastStatus") is not None:
        state["lastRunStatus"] = state["lastStatus"]
    return to_json(state)


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


def has_enabled_heartbeat(db: sqlite3.Connection, key: str) -> bool:
    """An enabled heartbeat job (`heartbeat:<agent>`), declared by upstream or by us."""
    return _has_table(db, "cron_jobs") and db.execute(
        "SELECT 1 FROM cron_jobs WHERE store_key = ? AND declaration_key LIKE 'heartbeat:%' AND enabled = 1 "
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
              to_json(definition(job)), revision, generation, updated, state_json(job), updated, schedule_identity(job),
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


# -- importing a legacy jobs.json --------------------------------------------------------------
def record_migration(db: sqlite3.Connection, source: Path, digest: str, size: int, count: int, target: str,
                     now: int) -> None:
    """A `migration_runs` + `migration_sources` row saying which file was imported, and its digest."""
    source_key = "cron-json:" + hashlib.sha256(f"{source}\0{digest}\0".encode()).hexdigest()
    report = to_json({"source": "cron-json", "target": target, "stage": "completed", "sourceSha256": digest,
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
