"""Rows of upstream's per-agent store, `<state>/agents/<agentId>/agent/openclaw-agent.sqlite`.

A session key is a `session_nodes` row whose `entry_json` is upstream's session entry; each session
id is a `session_windows` row; a transcript is `transcript_events` rows (seq 0 is the `session`
header), each event a node of upstream's tree (`id`, `parentId`). Every append also records the
event's identity and marks upstream's transcript index for rebuild, so upstream reads what ours wrote.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.stores.agentfile import agent_db_path, refuse_newer
from openclaw.stores.agentschema import (
    AGENT_SCHEMA_VERSION,
    CREATED_VERSION,
    SCHEMA,
    SESSION_ENTRY_SCHEMA_VERSION,
)
from openclaw.stores.sqlitefile import SqliteFile
from openclaw.stores.sqlitefile import immediate as transaction

__all__ = ["agent_db_path", "refuse_newer", "transaction"]  # re-exported: the light part, in agentfile

Event = dict[str, Any]
CHAT_TYPES = frozenset({"direct", "group", "channel"})


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def new_id() -> str:
    return str(uuid.uuid4())


def prepare(agent_id: str) -> Any:
    """The `SqliteFile` prepare hook: our tables (IF NOT EXISTS) and, in a new file, the ownership row.

    A new file is left at `user_version` 0 with `schema_meta` `primary|agent|0|<agentId>`: upstream
    refuses a store at its own version that lacks its other tables, but its gateway start (and its
    doctor) migrates an owned store at 0, adding those tables and keeping ours (docs/upstream-state.md)."""

    def run(db: sqlite3.Connection, version: int) -> None:
        # upstream's CHECK on transcript_events calls octet_length(), new in SQLite 3.43
        db.create_function("octet_length", 1, _octet_length, deterministic=True)
        db.executescript(SCHEMA)
        if version == 0:
            stamp = now_ms()
            db.execute("INSERT OR IGNORE INTO schema_meta (meta_key, role, schema_version, agent_id, app_version, "
                       "created_at, updated_at) VALUES ('primary', 'agent', ?, ?, NULL, ?, ?)",
                       (CREATED_VERSION, agent_id, stamp, stamp))
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conversations'").fetchone() is None:
            # session_windows references upstream's `conversations`, which ours does not create: SQLite
            # refuses any write to a child whose parent table is missing, so keys stay off until upstream
            # has completed the store (`delete` removes the children itself).
            db.execute("PRAGMA foreign_keys=OFF")

    return run


def _octet_length(value: object) -> int | None:
    if isinstance(value, str):
        return len(value.encode())
    return len(value) if isinstance(value, bytes) else None if value is None else len(str(value).encode())


def open_agent_db(path: Path, agent_id: str) -> SqliteFile:
    return SqliteFile(path, AGENT_SCHEMA_VERSION, prepare(agent_id))


# -- events -----------------------------------------------------------------------------------
def _zstd_decode(blob: bytes) -> str:
    try:
        import zstandard  # imported on the first compressed row only
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise RuntimeError("a transcript row is zstd-compressed; install the `zstandard` package") from exc
    return zstandard.ZstdDecompressor().decompress(blob, max_output_size=4_194_304).decode()


def decode(event_json: str | None, event_zstd: bytes | None) -> Event | None:
    text = event_json if event_json is not None else _zstd_decode(event_zstd) if event_zstd else None
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def zstd_column(db: sqlite3.Connection) -> str:
    """`event_zstd`, or NULL in a store ours created (upstream's pre-23 shape has plain JSON only)."""
    found = db.execute("SELECT 1 FROM pragma_table_info('transcript_events') WHERE name = 'event_zstd'").fetchone()
    return "event_zstd" if found else "NULL"


@dataclass(frozen=True)
class Row:
    seq: int
    created_at: int
    event: Event


def events(db: sqlite3.Connection, session_id: str, newest: int | None = None) -> list[Row]:
    """A window's events in order (with `newest`, only that many from the end)."""
    cols = f"seq, created_at, event_json, {zstd_column(db)}"
    sql = f"SELECT {cols} FROM transcript_events WHERE session_id = ? ORDER BY seq"
    args: tuple[Any, ...] = (session_id,)
    if newest is not None:
        sql = (f"SELECT * FROM (SELECT {cols} FROM transcript_events "
               "WHERE session_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq")
        args += (newest,)
    out = []
    for seq, created, text, blob in db.execute(sql, args):
        event = decode(text, blob)
        if event is not None:
            out.append(Row(seq, created, event))
    return out


def active_path(rows: list[Row]) -> list[Row]:
    """The branch upstream shows: from the last event back along `parentId` (rows off it were
    rewound or forked away); rows in seq order when the tree is broken."""
    by_id = {r.event.get("id"): r for r in rows if isinstance(r.event.get("id"), str)}
    tail = [r for r in rows if r.event.get("type") != "session"]
    if not tail:
        return []
    path: list[Row] = []
    node: Row | None = tail[-1]
    seen: set[str] = set()
    while node is not None:
        path.append(node)
        parent = node.event.get("parentId")
        if not isinstance(parent, str) or parent in seen:
            break
        seen.add(parent)
        node = by_id.get(parent)
        if node is not None and node.event.get("type") == "session":
            break
    path.reverse()
    return path if path[0].event.get("parentId") in (None, rows[0].event.get("id")) else tail


def leaf(db: sqlite3.Connection, session_id: str) -> tuple[int, str | None]:
    """(next seq, id of the last event) of a window."""
    row = db.execute("SELECT COALESCE(MAX(seq), -1) FROM transcript_events WHERE session_id = ?",
                     (session_id,)).fetchone()
    top = int(row[0])
    if top < 0:
        return 0, None
    found = db.execute("SELECT event_id FROM transcript_event_identities WHERE session_id = ? AND seq = ?",
                       (session_id, top)).fetchone()
    if found is None:
        last = events(db, session_id, 1)
        return top + 1, (last[0].event.get("id") if last else None)
    return top + 1, found[0]


def append(db: sqlite3.Connection, session_id: str, event: Event, stamp: int) -> int:
    """Add `event` at the end of a window with its identity; upstream's index is marked for rebuild."""
    seq, parent = leaf(db, session_id)
    if event.get("type") != "session":
        event.setdefault("parentId", parent if seq > 1 or parent != session_id else None)
    db.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)",
               (session_id, seq, json.dumps(event, ensure_ascii=False, separators=(",", ":")), stamp))
    db.execute("INSERT INTO transcript_event_identities (session_id, event_id, seq, event_type, parent_id, "
               "message_idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
               (session_id, event["id"], seq, event.get("type"), event.get("parentId"), stamp))
    _index(db, session_id, seq, event, stamp)
    db.execute("UPDATE session_windows SET transcript_updated_at = ?, updated_at = ? WHERE session_id = ?",
               (stamp, stamp, session_id))
    return seq


def _index(db: sqlite3.Connection, session_id: str, seq: int, event: Event, stamp: int) -> None:
    """Keep upstream's active-event projection in step when ours extends the leaf of an indexed window
    (upstream's own readers refuse a window whose projection is pending); otherwise mark it for rebuild.
    Every event ours writes is context-eligible (upstream: unless `message.excludeFromContext`); upstream's
    search rows (`session_transcript_fts`) are not written, so its search misses ours' messages."""
    state = db.execute("SELECT indexed_seq, needs_rebuild, active_event_count, active_message_count FROM "
                       "session_transcript_index_state WHERE session_id = ?", (session_id,)).fetchone()
    projected = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'session_transcript_active_events'").fetchone()
    if projected and event.get("type") == "session" and seq == 0 and state is None:
        db.execute("INSERT INTO session_transcript_index_state (session_id, indexed_seq, leaf_event_id, "
                   "needs_rebuild, active_event_count, active_message_count, updated_at) VALUES (?, 0, ?, 0, 0, 0, ?)",
                   (session_id, event["id"], stamp))
        return
    if projected and state is not None and state[1] == 0 and state[0] == seq - 1:
        message = "message" in event
        db.execute("INSERT INTO session_transcript_active_events (session_id, active_position, event_seq, "
                   "message_position, context_eligible) VALUES (?, ?, ?, ?, 1)",
                   (session_id, state[2], seq, state[3] if message else None))
        db.execute("UPDATE session_transcript_index_state SET indexed_seq = ?, leaf_event_id = ?, "
                   "active_event_count = ?, active_message_count = ?, updated_at = ? WHERE session_id = ?",
                   (seq, event["id"], state[2] + 1, state[3] + (1 if message else 0), stamp, session_id))
        return
    db.execute("INSERT INTO session_transcript_index_state (session_id, indexed_seq, leaf_event_id, needs_rebuild, "
               "updated_at) VALUES (?, -1, ?, 1, ?) ON CONFLICT (session_id) DO UPDATE SET needs_rebuild = 1, "
               "leaf_event_id = excluded.leaf_event_id, updated_at = excluded.updated_at",
               (session_id, event["id"], stamp))


# -- nodes and windows ------------------------------------------------------------------------
NODE_COLUMNS = ("session_key", "current_session_id", "entry_json", "updated_at", "created_at", "label",
                "archived_at")


@dataclass
class Node:
    key: str
    session_id: str
    entry: Event
    updated_at: int
    created_at: int | None
    label: str | None
    archived_at: int | None


def node(db: sqlite3.Connection, key: str) -> Node | None:
    row = db.execute(f"SELECT {', '.join(NODE_COLUMNS)} FROM session_nodes WHERE session_key = ?", (key,)).fetchone()
    return _node(row) if row else None


def nodes(db: sqlite3.Connection, limit: int) -> Iterator[Node]:
    for row in db.execute(f"SELECT {', '.join(NODE_COLUMNS)} FROM session_nodes WHERE archived_at IS NULL "
                          "ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall():
        yield _node(row)


def _node(row: tuple[Any, ...]) -> Node:
    try:
        entry = json.loads(row[2])
    except ValueError:
        entry = {}
    return Node(row[0], row[1], entry if isinstance(entry, dict) else {}, row[3], row[4], row[5], row[6])


def save_entry(db: sqlite3.Connection, key: str, entry: Event, stamp: int) -> None:
    """Write a node's entry back (upstream's own fields kept as they were) and its mirrored columns;
    upstream takes a row whose `updated_at`/`current_session_id` differ from the entry's for corrupt."""
    entry["updatedAt"] = stamp
    db.execute("UPDATE session_nodes SET entry_json = ?, updated_at = ?, current_session_id = ?, label = ?, "
               "display_name = ?, last_activity_at = ? WHERE session_key = ?",
               (_dump(entry), stamp, entry["sessionId"], entry.get("label"), entry.get("displayName"), stamp, key))
    certify(db, key)


def create(db: sqlite3.Connection, key: str, entry: Event, stamp: int, chat_type: str | None,
           previous: str | None = None, reason: str | None = None, archived: bool = False) -> None:
    """A node (when new) and a fresh window for `entry['sessionId']`, its header at seq 0."""
    session_id = entry["sessionId"]
    entry["updatedAt"] = stamp
    if node(db, key) is None:
        db.execute("INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at, created_at, "
                   "created_via, label, display_name, last_activity_at, archived_at) VALUES (?, ?, ?, ?, ?, 'run', "
                   "?, ?, ?, ?)", (key, session_id, _dump(entry), stamp, entry.get("createdAt", stamp),
                                   entry.get("label"), entry.get("displayName"), stamp, stamp if archived else None))
    scope = "shared-main" if key.endswith(":main") else "conversation"
    db.execute("INSERT INTO session_windows (session_id, session_key, previous_session_id, reason, session_scope, "
               "created_at, updated_at, started_at, chat_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (session_id, key, previous, reason, scope, stamp, stamp, stamp,
                chat_type if chat_type in CHAT_TYPES else None))
    if previous is not None:
        save_entry(db, key, entry, stamp)
    append(db, session_id, {"type": "session", "version": SESSION_ENTRY_SCHEMA_VERSION, "id": session_id,
                            "timestamp": iso(stamp), "cwd": os.getcwd()}, stamp)
    certify(db, key)


def certify(db: sqlite3.Connection, key: str) -> None:
    """Mark a node ours just wrote as valid, as upstream's writer does after its checks (its read-only
    readers refuse rows still pending): the entry's `sessionId`/`updatedAt` match the row's, no lineage
    columns, a lowercase `agent:` key. Upstream's triggers queued the row; it leaves the queue."""
    if key != key.strip().lower() or not key.startswith("agent:"):
        return
    db.execute("UPDATE session_nodes SET entry_valid = 1 WHERE session_key = ? AND current_session_id = "
               "json_extract(entry_json, '$.sessionId') AND updated_at = json_extract(entry_json, '$.updatedAt') "
               "AND parent_session_key IS NULL AND spawned_by IS NULL AND fork_source_session_key IS NULL", (key,))
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'session_canonical_validation_pending'").fetchone():
        db.execute("DELETE FROM session_canonical_validation_pending WHERE session_key = ? AND EXISTS "
                   "(SELECT 1 FROM session_nodes WHERE session_key = ? AND entry_valid = 1)", (key, key))


def touch(db: sqlite3.Connection, key: str, stamp: int, interaction: bool = False) -> None:
    """Move a node's `updated_at` and its entry's `updatedAt` together (upstream requires them equal)."""
    if interaction:
        db.execute("UPDATE session_nodes SET updated_at = ?, last_activity_at = ?, last_interaction_at = ?, "
                   "entry_json = json_set(entry_json, '$.updatedAt', ?, '$.lastInteractionAt', ?) "
                   "WHERE session_key = ?", (stamp, stamp, stamp, stamp, stamp, key))
    else:
        db.execute("UPDATE session_nodes SET updated_at = ?, last_activity_at = ?, "
                   "entry_json = json_set(entry_json, '$.updatedAt', ?) WHERE session_key = ?",
                   (stamp, stamp, stamp, key))
    certify(db, key)


def key_of(db: sqlite3.Connection, session_id: str) -> str | None:
    row = db.execute("SELECT session_key FROM session_nodes WHERE current_session_id = ? LIMIT 1",
                     (session_id,)).fetchone()
    if row is None:
        row = db.execute("SELECT session_key FROM session_windows WHERE session_id = ?", (session_id,)).fetchone()
    return row[0] if row else None


def message_count(db: sqlite3.Connection, session_id: str) -> int:
    return int(db.execute("SELECT COUNT(*) FROM transcript_event_identities WHERE session_id = ? "
                          "AND event_type IN ('message', 'compaction')", (session_id,)).fetchone()[0])


def delete(db: sqlite3.Connection, key: str) -> list[str]:
    """Drop a node, its windows and their transcripts (upstream's cascades); the session ids dropped."""
    ids = [r[0] for r in db.execute("SELECT session_id FROM session_windows WHERE session_key = ?", (key,))]
    db.execute("DELETE FROM session_nodes WHERE session_key = ?", (key,))
    for session_id in ids:  # when the file was opened without upstream's cascading keys
        db.execute("DELETE FROM transcript_event_identities WHERE session_id = ?", (session_id,))
        db.execute("DELETE FROM session_transcript_index_state WHERE session_id = ?", (session_id,))
        db.execute("DELETE FROM transcript_events WHERE session_id = ?", (session_id,))
        db.execute("DELETE FROM session_windows WHERE session_id = ?", (session_id,))
    return ids


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


REGISTRY = """
CREATE TABLE IF NOT EXISTS agent_databases (
  agent_id TEXT NOT NULL,
  path TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  size_bytes INTEGER,
  PRIMARY KEY (agent_id, path)
) STRICT;
"""


def register(state_dir: Path, agent_id: str, path: Path, version: int) -> None:
    """List the store in the global `agent_databases` (with its `user_version`), where upstream looks
    for agent stores."""
    from openclaw.stores.globaldb import global_db

    try:
        relative = str(path.relative_to(state_dir))
    except ValueError:
        relative = str(path)
    size = path.stat().st_size if path.exists() else None

    def write(db: sqlite3.Connection) -> None:
        global_db(state_dir).ensure(db, "agent_databases", REGISTRY)
        db.execute("INSERT INTO agent_databases (agent_id, path, schema_version, last_seen_at, size_bytes) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, path) DO UPDATE SET "
                   "schema_version = excluded.schema_version, last_seen_at = excluded.last_seen_at, "
                   "size_bytes = excluded.size_bytes", (agent_id, relative, version, now_ms(), size))

    global_db(state_dir).call(write)


