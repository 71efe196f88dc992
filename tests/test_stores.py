"""The shared SQLite file: opened lazily, on its own thread, refusing a newer schema in one line."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from openclaw.errors import EXIT_CONFIG
from openclaw.stores.sqlitefile import SqliteFile, StoreTooNewError


def test_opens_lazily_and_prepares_once(tmp_path: Path) -> None:
    seen: list[int] = []
    f = SqliteFile(tmp_path / "state" / "x.sqlite", 3, lambda db, v: seen.append(v))
    assert not f.path.exists()

    async def go() -> int:
        await f.run(lambda db: db.execute("CREATE TABLE t (a INTEGER)"))
        n = await f.run(lambda db: db.execute("INSERT INTO t VALUES (1)").rowcount)
        await f.close()
        return n

    assert asyncio.run(go()) == 1
    assert seen == [0]
    assert f.path.stat().st_mode & 0o777 == 0o600
    assert sqlite3.connect(f.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    sqlite3.connect(path).execute("PRAGMA user_version=19").connection.close()
    f = SqliteFile(path, 18)
    with pytest.raises(StoreTooNewError) as err:
        f.call(lambda db: db.execute("SELECT 1").fetchone())
    f.close_sync()
    assert err.value.exit_code == EXIT_CONFIG
    assert str(err.value).count("\n") == 0 and "schema version 19" in str(err.value) and "(18)" in str(err.value)
