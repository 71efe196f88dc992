"""Upstream's global store, `<state>/state/openclaw.sqlite`: devices, pairing, cron, channel state.

Every module that keeps state there (cron, channel pairing, devices, the Telegram offset) shares one
connection per process through `global_db`, and creates only the tables it uses, with upstream's names
and columns, `IF NOT EXISTS`.
"""

from __future__ import annotations

from pathlib import Path

from openclaw.stores.sqlitefile import SqliteFile, shared

STATE_SCHEMA_VERSION = 18  # upstream 2026.9.6's `PRAGMA user_version` for this file


def state_db_path(state_dir: Path) -> Path:
    return state_dir / "state" / "openclaw.sqlite"


def global_db(state_dir: Path) -> SqliteFile:
    """The process's connection to the global store of `state_dir` (opened on first use)."""
    return shared(state_db_path(state_dir), STATE_SCHEMA_VERSION)
