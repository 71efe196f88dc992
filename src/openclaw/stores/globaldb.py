"""Upstream's global store, `<state>/state/openclaw.sqlite`: devices, pairing, cron, channel state.

Every module that keeps state there (cron, channel pairing, devices, the Telegram offset) shares one
connection per process through `global_db`, and creates only the tables it uses, with upstream's names
and columns, `IF NOT EXISTS`.

A file this process creates gets `schema_meta` (`primary|global|0`) and `PRAGMA user_version` 0, not 18.
Upstream's open path treats a version below its own as one to bring forward: it backs the file up, creates
the ~100 tables it is missing (ours match its definitions, so they and their rows are kept), runs the
migrations gated on the previous version (each also gated on tables ours never creates) and publishes 18
with its own `schema_meta` row. Had we written 18, upstream would take the file as complete and refuse to
start ("schema is incomplete or noncanonical ... run openclaw doctor --fix"). Both were verified by running
upstream 2026.9.6's gateway on such a file (docs/upstream-state.md). Ours accepts any version up to 18 and
never raises it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from openclaw.stores.sqlitefile import SCHEMA_META, SqliteFile, immediate, shared

__all__ = ["SCHEMA_META", "immediate"]  # re-exported for the modules that write this store

STATE_SCHEMA_VERSION = 18  # upstream 2026.9.6's `PRAGMA user_version` for this file
CREATED_VERSION = 0  # what a file ours creates says (see the module's docstring)



def state_db_path(state_dir: Path) -> Path:
    return state_dir / "state" / "openclaw.sqlite"


def prepare(db: sqlite3.Connection, version: int) -> None:
    """A new file gets `schema_meta` with a `primary` row saying what it is; an existing one is left alone."""
    if version != 0 or db.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_meta'").fetchone():
        return
    now = int(time.time() * 1000)
    with immediate(db):
        for statement in SCHEMA_META.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT OR IGNORE INTO schema_meta (meta_key, role, schema_version, agent_id, app_version,"
                   " created_at, updated_at) VALUES ('primary', 'global', ?, NULL, NULL, ?, ?)",
                   (CREATED_VERSION, now, now))
        db.execute(f"PRAGMA user_version = {CREATED_VERSION}")


def global_db(state_dir: Path) -> SqliteFile:
    """The process's connection to the global store of `state_dir` (opened on first use)."""
    return shared(state_db_path(state_dir), STATE_SCHEMA_VERSION, prepare)
