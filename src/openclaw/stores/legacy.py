"""Files a store replaced: imported once, then set aside as `<name>.migrated` (`.migrated.2`, ... when
taken, as upstream's doctor names them) so nothing is read twice and nothing is lost."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from pathlib import Path

DDL = """
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


def archive_name(path: Path) -> Path:
    """`<path>.migrated`, or the first free `.migrated.<n>` (n from 2)."""
    candidate = path.with_name(path.name + ".migrated")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.migrated.{n}")
        n += 1
    return candidate


def archive(path: Path) -> Path:
    target = archive_name(path)
    path.rename(target)
    return target


def record(db: sqlite3.Connection, kind: str, source: Path, data: bytes, table: str, count: int) -> None:
    """A `migration_runs` + `migration_sources` row for one imported file (inside the caller's transaction),
    as upstream's doctor records its imports."""
    now = int(time.time() * 1000)
    digest = hashlib.sha256(data).hexdigest()
    run_id = f"{kind}:{uuid.uuid4().hex[:24]}"
    report = {"source": source.name, "target": table, "stage": "completed", "sourceSha256": digest,
              "importedRecordCount": count}
    text = json.dumps(report, separators=(",", ":"))
    db.execute("INSERT INTO migration_runs (id, started_at, finished_at, status, report_json) VALUES (?, ?, ?, ?, ?)",
               (run_id, now, now, "completed", text))
    key = f"{kind}:{hashlib.sha256(f'{source}|{table}'.encode()).hexdigest()}"
    db.execute("INSERT OR REPLACE INTO migration_sources (source_key, migration_kind, source_path, target_table,"
               " source_sha256, source_size_bytes, source_record_count, last_run_id, status, imported_at,"
               " removed_source, report_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'completed', ?, 1, ?)",
               (key, kind, str(source), table, digest, len(data), count, run_id, now, text))
