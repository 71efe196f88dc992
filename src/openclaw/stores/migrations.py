"""Imports of legacy files, noted in the global store as upstream's doctor notes its own
(`migration_runs` + `migration_sources`), so either implementation sees what was imported from where."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from openclaw.stores import legacy
from openclaw.stores.globaldb import global_db


def record(state_dir: Path, kind: str, source: Path, target_table: str, sha256: str, size: int, count: int,
           report: dict[str, Any]) -> None:
    """One completed import of `source` (kept, archived beside itself: `removed_source` 0)."""
    stamp = int(time.time() * 1000)
    run_id = f"{kind}:{uuid.uuid4().hex[:24]}"
    body = json.dumps({"source": kind, "target": target_table, "stage": "completed", "sourceSha256": sha256,
                       "importedRecordCount": count, **report}, separators=(",", ":"))
    store = global_db(state_dir)

    def write(db: sqlite3.Connection) -> None:
        store.ensure(db, "migration-ledger", legacy.DDL)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO migration_runs (id, started_at, finished_at, status, report_json) "
                       "VALUES (?, ?, ?, 'completed', ?)", (run_id, stamp, stamp, body))
            db.execute("INSERT INTO migration_sources (source_key, migration_kind, source_path, target_table, "
                       "source_sha256, source_size_bytes, source_record_count, last_run_id, status, imported_at, "
                       "removed_source, report_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'completed', ?, 0, ?) "
                       "ON CONFLICT (source_key) DO UPDATE SET source_sha256 = excluded.source_sha256, "
                       "source_size_bytes = excluded.source_size_bytes, source_record_count = "
                       "excluded.source_record_count, last_run_id = excluded.last_run_id, imported_at = "
                       "excluded.imported_at, report_json = excluded.report_json",
                       (f"{kind}:{sha256}", kind, str(source), target_table, sha256, size, count, run_id, stamp, body))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    store.call(write)
