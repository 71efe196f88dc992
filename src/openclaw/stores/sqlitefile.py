"""One SQLite file, one connection, one thread: the shape every store here shares.

sqlite3 blocks, so each file gets a single executor thread that owns its connection; the event loop
awaits `run`, threads and the CLI call `call`. The file is opened lazily (nothing on start, nothing in
idle memory until used), in WAL with a busy timeout because upstream's processes may hold it too, with
foreign keys on (upstream's cascades). A file whose `user_version` is newer than we understand is refused
with one line instead of being guessed at.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from openclaw.errors import EXIT_CONFIG, OpenClawError
from openclaw.fsutil import ensure_private_dir

T = TypeVar("T")
BUSY_TIMEOUT_S = 10.0


class StoreTooNewError(OpenClawError):
    """The file was written by a newer schema than this build understands (exit 78)."""

    exit_code = EXIT_CONFIG


def too_new(path: Path, found: int, supported: int) -> StoreTooNewError:
    return StoreTooNewError(
        f"{path} has schema version {found}, newer than this openclaw understands ({supported}); "
        "upgrade openclaw, or run the newer version that wrote it"
    )


SCHEMA_META = """
CREATE TABLE IF NOT EXISTS schema_meta (
  meta_key TEXT NOT NULL PRIMARY KEY,
  role TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  agent_id TEXT,
  app_version TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
"""
"""Upstream's ownership row table, the same in the global and the agent stores."""


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), so a concurrent writer (upstream's too) waits
    rather than fails half way; the connection is in autocommit mode. Inside another, it is part of that one."""
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


Prepare = Callable[[sqlite3.Connection, int], None]
"""Called once per connection with the file's `user_version` (0 for a new file): create what is missing."""


class SqliteFile:
    """A lazily opened SQLite file whose every statement runs on the file's own thread."""

    def __init__(self, path: Path, supported_version: int, prepare: Prepare | None = None) -> None:
        self.path = path
        self.supported_version = supported_version
        self._prepare = prepare
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._db: sqlite3.Connection | None = None
        self._schemas: set[str] = set()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the file's thread without blocking the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(self._conn()))

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the file's thread and wait: for the CLI and worker threads, never the loop."""
        return self._executor.submit(lambda: fn(self._conn())).result()

    def ensure(self, db: sqlite3.Connection, key: str, ddl: str) -> None:
        """Run a module's idempotent `CREATE ... IF NOT EXISTS` script once per connection."""
        if key not in self._schemas:
            db.executescript(ddl)
            self._schemas.add(key)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        ensure_private_dir(self.path.parent)
        fresh = not self.path.exists()
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > self.supported_version:
                raise too_new(self.path, version, self.supported_version)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a crash of this process
            db.execute("PRAGMA foreign_keys=ON")
            if self._prepare is not None:
                self._prepare(db, version)
        except BaseException:
            db.close()
            raise
        if fresh:
            self.path.chmod(0o600)
        return db

    async def close(self) -> None:
        """Close the connection on its own thread, then let the thread go."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._shut)
        self._executor.shutdown(wait=False)

    def close_sync(self) -> None:
        self._executor.submit(self._shut).result()
        self._executor.shutdown(wait=False)

    def _shut(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._schemas.clear()


_shared: dict[Path, SqliteFile] = {}
_shared_lock = threading.Lock()


def shared(path: Path, supported_version: int, prepare: Prepare | None = None) -> SqliteFile:
    """The process's one `SqliteFile` for `path`, so every store on one file shares one connection."""
    key = path.resolve()
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = SqliteFile(path, supported_version, prepare)
        return found


async def close_shared() -> None:
    """Close every shared file (gateway teardown)."""
    with _shared_lock:
        files = list(_shared.values())
        _shared.clear()
    for f in files:
        await f.close()
