"""Upstream state fixtures (tests/fixtures/upstream-state/<version>/): where they are, and how a copy
is placed under another HOME. Shared by scripts/upstream_state_fixtures.py, which writes them, and
tests/test_state_roundtrip.py, which reads them.

The stores are kept gzipped (`pack`, `unpack`). A state dir written by upstream holds absolute
paths of the HOME it ran in: in `openclaw.json` (workspace, agentDir) and in SQLite rows (a cron
job's `store_key` is the path of the legacy `cron/jobs.json`, a transcript's `cwd`). The fixture
is stored with that HOME replaced by FIXTURE_HOME, and `relocate` puts the real HOME of a copy
back, as moving a state dir would need.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent / "fixtures" / "upstream-state"
FIXTURE_HOME = "/home/user"
STATE = "state-dir"  # the fixture's copy of `~/.openclaw`
CONFIG = "openclaw.json"
GLOBAL_DB = "state/openclaw.sqlite"
AGENT_DB = "agents/{agent}/agent/openclaw-agent.sqlite"
TELEGRAM_OFFSETS = ("telegram", "telegram.update-offsets")  # plugin_state_entries (plugin_id, namespace)


def versions() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if (p / "manifest.json").is_file()) if ROOT.is_dir() else []


def manifest(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / version / "manifest.json").read_text())
    return data


def databases(state_dir: Path) -> list[Path]:
    """The SQLite stores of a state dir that hold what a user cares about."""
    return [state_dir / GLOBAL_DB, *sorted(state_dir.glob(AGENT_DB.format(agent="*")))]


def _octet_length(value: object) -> int | None:
    if value is None:
        return None
    return len(value) if isinstance(value, bytes) else len(str(value).encode())


def connect(db_path: Path, isolation_level: str | None = "DEFERRED") -> sqlite3.Connection:
    """A connection to an upstream store. Its schema calls `octet_length` (SQLite 3.43+) in a CHECK
    constraint of `transcript_events`; Python's SQLite may be older (Debian 12: 3.40), where any
    write to that table or a VACUUM fails with "no such function", so it is defined here."""
    db = sqlite3.connect(db_path, isolation_level=isolation_level)
    db.create_function("octet_length", 1, _octet_length, deterministic=True)
    return db


@contextmanager
def opened(db_path: Path) -> Iterator[sqlite3.Connection]:
    """`connect`, committed and closed at the end of the block."""
    db = connect(db_path)
    try:
        with db:
            yield db
    finally:
        db.close()


def _text_columns(db: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(table, column) of every TEXT column of an ordinary table (virtual and FTS shadow tables are
    kept in step by upstream's triggers)."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type='table' AND sql NOT LIKE "
                                       "'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%'")]
    virtual = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE sql LIKE 'CREATE VIRTUAL%'")]
    for table in tables:
        if any(table.startswith(f"{v}_") for v in virtual):
            continue
        for _cid, column, kind, *_ in db.execute(f'PRAGMA table_info("{table}")'):
            if kind.upper() == "TEXT":
                yield table, column


def rewrite_paths(db_path: Path, old: str, new: str) -> int:
    """Replace the path prefix `old` by `new` in every text value of one store; returns rows changed."""
    changed = 0
    with opened(db_path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        for table, column in list(_text_columns(db)):
            cur = db.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                             f'WHERE instr("{column}", ?) > 0', (old, new, old))
            changed += cur.rowcount
    return changed


def relocate(state_dir: Path, old_home: str, new_home: str) -> None:
    """Make a state dir written under `old_home` describe itself under `new_home`."""
    config = state_dir / CONFIG
    config.write_text(config.read_text().replace(old_home, new_home))
    for db in databases(state_dir):
        rewrite_paths(db, old_home, new_home)


def refresh_pending(state_dir: Path) -> None:
    """Date the pending channel pairing requests now: a code lasts an hour (both implementations),
    and the fixture's request is as old as the fixture."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with opened(state_dir / GLOBAL_DB) as db:
        db.execute("UPDATE channel_pairing_requests SET created_at = ?, last_seen_at = ?", (now, now))


def pack(state_dir: Path) -> None:
    """Gzip each store in place (`<file>.gz`): mostly empty pages of ~110 tables, they shrink ~25x."""
    for db in databases(state_dir):
        with db.open("rb") as raw, gzip.GzipFile(db.with_name(db.name + ".gz"), "wb", 9, mtime=0) as packed:
            shutil.copyfileobj(raw, packed)
        db.unlink()


def unpack(state_dir: Path) -> None:
    for packed in state_dir.rglob("*.sqlite.gz"):
        with gzip.open(packed, "rb") as src, packed.with_suffix("").open("wb") as raw:
            shutil.copyfileobj(src, raw)
        packed.unlink()


def install(version: str, home: Path) -> Path:
    """Copy a fixture's state dir to `<home>/.openclaw`, relocated to `home`, its pending pairing
    requests dated now; returns the state dir."""
    state_dir = home / ".openclaw"
    shutil.copytree(ROOT / version / STATE, state_dir)
    unpack(state_dir)
    state_dir.chmod(0o700)
    relocate(state_dir, FIXTURE_HOME, str(home))
    refresh_pending(state_dir)
    return state_dir


def checkpoint(db_path: Path) -> None:
    """Fold the WAL into the main file and compact it, so the one file is the whole store."""
    db = connect(db_path, isolation_level=None)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
