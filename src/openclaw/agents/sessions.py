"""An agent's sessions and transcripts in SQLite: `<state>/agents/<agentId>/agent/sessions.sqlite`.

WAL mode, one transaction per transcript entry, so a `kill -9` mid-turn loses at
most the entry being written. sqlite3 blocks, so every call runs on one thread
of the store's own (the connection lives there); the event loop never waits on
the disk. A session key (`agent:main:main`) names a conversation; `/new` gives
it a fresh `sessionId` and the old transcript stays on record until pruned.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from openclaw.agents.historycache import HistoryCache
from openclaw.fsutil import ensure_private_dir
from openclaw.models.types import Message, ToolCall

SCHEMA_VERSION = 1
T = TypeVar("T")
USAGE_KEEP_MS = 400 * 86_400_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  key TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  chat_type TEXT,
  origin TEXT,
  label TEXT,
  model_override TEXT,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  context_tokens INTEGER NOT NULL DEFAULT 0,
  compaction_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,              -- message | summary
  role TEXT NOT NULL,              -- user | assistant | tool
  content TEXT NOT NULL,
  tool_calls TEXT,
  tool_call_id TEXT,
  name TEXT,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS usage_log (  -- one row per run that used tokens: usage by day and model
  ts INTEGER NOT NULL,
  session_key TEXT NOT NULL,
  model TEXT,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_log_ts ON usage_log (ts);
CREATE INDEX IF NOT EXISTS usage_log_session ON usage_log (session_key, ts);  -- a session's last model
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Session:
    key: str
    session_id: str
    created_at: int
    updated_at: int
    chat_type: str | None = None
    origin: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    model_override: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    context_tokens: int = 0
    compaction_count: int = 0
    entries: int = 0
    model: str | None = None  # the model of its latest answer (listings only)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "sessionId": self.session_id, "createdAt": self.created_at,
            "updatedAt": self.updated_at, "chatType": self.chat_type, "origin": self.origin, "label": self.label,
            "modelOverride": self.model_override, "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens, "totalTokens": self.input_tokens + self.output_tokens,
            "contextTokens": self.context_tokens, "compactionCount": self.compaction_count,
            "entries": self.entries, "model": self.model,
        }


@dataclass(frozen=True)
class Entry:
    seq: int
    ts: int
    kind: str
    message: Message


class SessionStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sessions-{path.parent.parent.name}")
        self._db: sqlite3.Connection | None = None
        self.cache = HistoryCache()

    # -- plumbing -----------------------------------------------------------------------------
    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(self._conn()))

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            ensure_private_dir(self.path.parent)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a crash of this process
            db.executescript(SCHEMA)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} was written by a newer version (schema {version})")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.path.chmod(0o600)
            self._db = db
        return self._db

    async def close(self) -> None:
        def shut(_: sqlite3.Connection) -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        if self._db is not None:
            await self._run(shut)
        self._executor.shutdown(wait=False)

    # -- sessions -----------------------------------------------------------------------------
    async def session(self, key: str, chat_type: str | None = None, origin: dict[str, Any] | None = None) -> Session:
        """The session for `key`, created on first use."""
        return await self._run(lambda db: _get_or_create(db, key, chat_type, origin))

    async def open_turn(self, key: str, chat_type: str | None, origin: dict[str, Any] | None,
                        message: Message, once: bool = False, session_id: str | None = None) -> Session:
        """The session for `key` (created on first use) with `message` appended: one trip to the
        database thread for the start of every turn. `once`: not when the session's latest user
        message is this one already (a turn begun before a crash and answered again after it).
        `session_id`: the id a session created here gets (upstream's `agent --session-id`)."""

        def run(db: sqlite3.Connection) -> tuple[Session, bool]:
            session = _get_or_create(db, key, chat_type, origin, count=False, session_id=session_id)
            if once:
                last = db.execute("SELECT content FROM entries WHERE session_id = ? AND role = 'user' "
                                  "ORDER BY seq DESC LIMIT 1", (session.session_id,)).fetchone()
                if last is not None and last[0] == message.content:
                    return session, False
            _append(db, session, message, "message")
            return session, True

        session, added = await self._run(run)
        if added:
            self.cache.add(session.session_id, message)
        return session

    async def find(self, key: str) -> Session | None:
        return await self._run(lambda db: _load(db, key))

    async def by_session_id(self, session_id: str) -> Session | None:
        def get(db: sqlite3.Connection) -> Session | None:
            row = db.execute("SELECT key FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
            return _load(db, row[0]) if row else None

        return await self._run(get)

    async def list(self, limit: int = 200) -> list[Session]:
        def rows(db: sqlite3.Connection) -> list[Session]:
            keys = [r[0] for r in db.execute("SELECT key FROM sessions ORDER BY updated_at DESC LIMIT ?", (limit,))]
            return [s for s in (_load(db, k) for k in keys) if s is not None]

        return await self._run(rows)

    async def count(self) -> int:
        return await self._run(lambda db: db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    async def reset(self, key: str) -> Session:
        """A fresh conversation under the same key (`/new`, `/reset`); the old transcript stays."""

        def renew(db: sqlite3.Connection) -> Session:
            stamp = now_ms()
            db.execute("UPDATE sessions SET session_id = ?, updated_at = ?, input_tokens = 0, output_tokens = 0, "
                       "context_tokens = 0, compaction_count = 0 WHERE key = ?", (str(uuid.uuid4()), stamp, key))
            return _load(db, key)  # type: ignore[return-value]

        await self.session(key)
        return await self._run(renew)

    async def delete(self, key: str) -> bool:
        def drop(db: sqlite3.Connection) -> str | None:
            found = _load(db, key)
            if found is None:
                return None
            with db:
                db.execute("DELETE FROM entries WHERE session_id = ?", (found.session_id,))
                db.execute("DELETE FROM sessions WHERE key = ?", (key,))
            return found.session_id

        dropped = await self._run(drop)
        if dropped:
            self.cache.drop(dropped)
        return dropped is not None

    async def set_model(self, key: str, ref: str | None) -> None:
        await self.session(key)
        await self._run(lambda db: db.execute("UPDATE sessions SET model_override = ? WHERE key = ?", (ref, key)))

    async def add_usage(self, key: str, input_tokens: int, output_tokens: int, context_tokens: int,
                        model: str | None = None) -> None:
        await self._run(lambda db: _add_usage(db, key, input_tokens, output_tokens, context_tokens, model))

    # -- transcripts --------------------------------------------------------------------------
    async def append(self, session: Session, message: Message, kind: str = "message",
                     usage: tuple[int, int, int] | None = None, model: str | None = None) -> int:
        """One transcript entry in its own transaction; with `usage` (input, output, context tokens)
        the session's counters move in the same trip."""

        def add(db: sqlite3.Connection) -> int:
            seq = _append(db, session, message, kind)
            if usage is not None:
                _add_usage(db, session.key, *usage, model)
            return seq

        seq = await self._run(add)
        if kind == "message":
            self.cache.add(session.session_id, message)
        else:
            self.cache.drop(session.session_id)
        return seq

    async def entries(self, session_id: str, limit: int | None = None) -> builtins.list[Entry]:
        def rows(db: sqlite3.Connection) -> builtins.list[Entry]:
            sql = ("SELECT seq, ts, kind, role, content, tool_calls, tool_call_id, name FROM entries"
                   " WHERE session_id = ?")
            args: tuple[Any, ...] = (session_id,)
            if limit is not None:
                sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
                args += (limit,)
            else:
                sql += " ORDER BY seq"
            return [_entry(r) for r in db.execute(sql, args)]

        return await self._run(rows)

    async def history(self, session: Session) -> builtins.list[Message]:
        """What the model sees: the latest summary (if compacted) and every message after it."""
        cached = self.cache.get(session.session_id)
        if cached is not None:
            return cached

        def rows(db: sqlite3.Connection) -> builtins.list[Message]:
            return [_entry(r).message for r in db.execute(
                "SELECT seq, ts, kind, role, content, tool_calls, tool_call_id, name FROM entries WHERE session_id = ? "
                "AND seq >= (SELECT COALESCE(MAX(seq), 0) FROM entries WHERE session_id = ? AND kind = 'summary') "
                "ORDER BY seq", (session.session_id, session.session_id))]

        messages = await self._run(rows)
        self.cache.put(session.session_id, messages)
        return list(messages)

    async def compact(self, session: Session, summary: str, keep_from_seq: int) -> None:
        """Replace everything before `keep_from_seq` with one summary entry (the old rows stay on record
        as history until pruned; the model sees the summary)."""

        def write(db: sqlite3.Connection) -> None:
            with db:
                kept = db.execute("SELECT seq, ts, kind, role, content, tool_calls, tool_call_id, name FROM entries "
                                  "WHERE session_id = ? AND seq >= ? ORDER BY seq",
                                  (session.session_id, keep_from_seq)).fetchall()
                top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM entries WHERE session_id = ?",
                                 (session.session_id,)).fetchone()[0]
                db.execute("INSERT INTO entries VALUES (?, ?, ?, 'summary', 'user', ?, NULL, NULL, NULL)",
                           (session.session_id, top + 1, now_ms(), summary))
                for offset, row in enumerate(kept, start=2):
                    db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (session.session_id, top + offset, row[1], row[2], row[3], row[4], row[5], row[6],
                                row[7]))
                db.execute("UPDATE sessions SET compaction_count = compaction_count + 1 WHERE key = ?", (session.key,))

        self.cache.drop(session.session_id)
        await self._run(write)

    async def prune(self, older_than_ms: int | None, max_entries: int | None, keep: frozenset[str] = frozenset(),
                    dry_run: bool = False) -> builtins.list[str]:
        """Drop sessions idle longer than `older_than_ms`, then the oldest beyond `max_entries`
        (never those in `keep`); the keys dropped, or that would be with `dry_run`."""

        def drop(db: sqlite3.Connection) -> builtins.list[str]:
            doomed: set[str] = set()
            if older_than_ms is not None:
                cutoff = now_ms() - older_than_ms
                doomed |= {r[0] for r in db.execute("SELECT key FROM sessions WHERE updated_at < ?", (cutoff,))}
            if max_entries is not None:
                doomed |= {r[0] for r in db.execute("SELECT key FROM sessions ORDER BY updated_at DESC LIMIT -1 "
                                                    "OFFSET ?", (max_entries,))}
            doomed -= keep
            if not dry_run:  # usage by day outlives the sessions, for a year and a bit
                db.execute("DELETE FROM usage_log WHERE ts < ?", (now_ms() - USAGE_KEEP_MS,))
            if dry_run or not doomed:
                return sorted(doomed)
            with db:
                for key in doomed:
                    row = db.execute("SELECT session_id FROM sessions WHERE key = ?", (key,)).fetchone()
                    if row:
                        db.execute("DELETE FROM entries WHERE session_id = ?", (row[0],))
                        gone.append(row[0])
                    db.execute("DELETE FROM sessions WHERE key = ?", (key,))
                db.execute("DELETE FROM entries WHERE session_id NOT IN (SELECT session_id FROM sessions)")
            return sorted(doomed)

        gone: list[str] = []
        keys = await self._run(drop)
        for session_id in gone:
            self.cache.drop(session_id)
        return keys


def _get_or_create(db: sqlite3.Connection, key: str, chat_type: str | None, origin: dict[str, Any] | None,
                   count: bool = True, session_id: str | None = None) -> Session:
    found = _load(db, key, count)
    if found is not None:
        return found
    stamp = now_ms()
    db.execute("INSERT INTO sessions (key, session_id, created_at, updated_at, chat_type, origin) "
               "VALUES (?, ?, ?, ?, ?, ?)", (key, session_id or str(uuid.uuid4()), stamp, stamp, chat_type,
                                             json.dumps(origin or {})))
    return _load(db, key, count)  # type: ignore[return-value]


def _append(db: sqlite3.Connection, session: Session, message: Message, kind: str) -> int:
    with db:  # one entry, one transaction
        seq: int = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM entries WHERE session_id = ?",
                              (session.session_id,)).fetchone()[0]
        calls = json.dumps([{"id": c.id, "name": c.name, "arguments": c.arguments}
                            for c in message.tool_calls]) if message.tool_calls else None
        db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (session.session_id, seq, now_ms(), kind, message.role, message.content, calls,
                    message.tool_call_id, message.name))
        db.execute("UPDATE sessions SET updated_at = ? WHERE key = ?", (now_ms(), session.key))
    return seq


def _add_usage(db: sqlite3.Connection, key: str, input_tokens: int, output_tokens: int, context_tokens: int,
               model: str | None = None) -> None:
    now = now_ms()
    db.execute("UPDATE sessions SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
               "context_tokens = ?, updated_at = ? WHERE key = ?",
               (input_tokens, output_tokens, context_tokens, now, key))
    if input_tokens or output_tokens:
        db.execute("INSERT INTO usage_log (ts, session_key, model, input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?)",
                   (now, key, model, input_tokens, output_tokens))


def _load(db: sqlite3.Connection, key: str, count: bool = True) -> Session | None:
    """A session row; `count` adds how many transcript entries it has (a scan: only for listings) and
    the model its latest answer came from."""
    row = db.execute("SELECT key, session_id, created_at, updated_at, chat_type, origin, label, model_override, "
                     "input_tokens, output_tokens, context_tokens, compaction_count FROM sessions WHERE key = ?",
                     (key,)).fetchone()
    if row is None:
        return None
    entries, model = 0, None
    if count:
        entries = db.execute("SELECT COUNT(*) FROM entries WHERE session_id = ?", (row[1],)).fetchone()[0]
        last = db.execute("SELECT model FROM usage_log WHERE session_key = ? AND model IS NOT NULL "
                          "ORDER BY ts DESC LIMIT 1", (key,)).fetchone()
        model = last[0] if last else None
    return Session(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "{}"), row[6], row[7], row[8],
                   row[9], row[10], row[11], entries, model)


def _entry(row: tuple[Any, ...]) -> Entry:
    calls = tuple(ToolCall(c["id"], c["name"], c.get("arguments") or {}) for c in json.loads(row[5] or "[]"))
    return Entry(row[0], row[1], row[2], Message(row[3], row[4], calls, row[6], row[7]))
