"""Our former `agents/<id>/agent/sessions.sqlite`, imported into upstream's agent store once.

Runs inside the store's opening transaction: every session, transcript entry and usage row is
written, then the old file is renamed `sessions.sqlite.migrated` (`.migrated.2`, ... when taken).
A crash before the commit leaves the old file in place and nothing imported, so the next open
imports it again from the start; a crash after the commit but before the rename finds the sessions
already there and only renames.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from openclaw.agents import transcript
from openclaw.agents.transcript import Tokens
from openclaw.models.types import Message, ToolCall
from openclaw.stores import agentdb, migrations
from openclaw.stores.legacy import archive_name

LEGACY_NAME = "sessions.sqlite"
MIGRATION_KIND = "openclaw-python-sessions-sqlite"
USAGE_ARCHIVE = "usage-archive"  # key suffix of the archived node holding usage whose session is gone


def import_once(db: sqlite3.Connection, legacy: Path) -> None:
    if not legacy.is_file():
        return
    digest, size = hashlib.sha256(legacy.read_bytes()).hexdigest(), legacy.stat().st_size
    old = sqlite3.connect(f"file:{legacy}?mode=ro", uri=True, timeout=10)
    count = 0
    try:
        tables = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "sessions" in tables:
            count = old.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
            with agentdb.transaction(db):
                _copy(old, db, legacy.parent.parent.name, "usage_log" in tables)
    finally:
        old.close()
    target = archive_name(legacy)
    legacy.rename(target)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{legacy}{suffix}").unlink()
    migrations.record(legacy.parents[3], MIGRATION_KIND, legacy, "session_nodes", digest, size, count,
                      {"archivedTo": str(target), "sessions": count})


def _copy(old: sqlite3.Connection, db: sqlite3.Connection, agent_id: str, has_usage: bool) -> None:
    usage: dict[str, list[tuple[int, str | None, int, int]]] = {}
    if has_usage:
        for ts, key, model, tin, tout in old.execute(
                "SELECT ts, session_key, model, input_tokens, output_tokens FROM usage_log ORDER BY ts"):
            usage.setdefault(key, []).append((ts, model, tin, tout))
    for row in old.execute("SELECT key, session_id, created_at, updated_at, chat_type, origin, label, model_override, "
                           "input_tokens, output_tokens, context_tokens, compaction_count FROM sessions").fetchall():
        key = row[0]
        if agentdb.node(db, key) is not None:  # already imported (a crash after the commit, before the rename)
            usage.pop(key, None)
            continue
        _session(old, db, row, usage.pop(key, []))
    leftover = [u for rows in usage.values() for u in rows]
    if leftover:
        _usage_archive(db, agent_id, leftover)


def _session(old: sqlite3.Connection, db: sqlite3.Connection, row: tuple[Any, ...],
             usage: list[tuple[int, str | None, int, int]]) -> None:
    key, session_id, created, updated = row[0], row[1], row[2], row[3]
    entry: dict[str, Any] = {"sessionId": session_id, "createdAt": created, "updatedAt": updated,
                             "sessionStartedAt": created, "abortedLastRun": False, "inputTokens": row[8],
                             "outputTokens": row[9], "totalTokens": row[10], "compactionCount": row[11]}
    if row[4]:
        entry["chatType"] = row[4]
    with contextlib.suppress(ValueError, TypeError):
        if json.loads(row[5] or "{}"):
            entry["origin"] = json.loads(row[5])
    if row[6]:
        entry["label"] = row[6]
    if row[7]:
        provider, _, override = str(row[7]).partition("/")
        entry.update(providerOverride=provider, modelOverride=override or provider)
    agentdb.create(db, key, entry, created, row[4])
    answers = _transcript(old, db, session_id)
    for ts, model, tin, tout in usage:  # each run's use lands on its answer (the latest one at or before it)
        _attach(db, session_id, answers, ts, model, Tokens(tin, tout))
    agentdb.touch(db, key, updated)


def _transcript(old: sqlite3.Connection, db: sqlite3.Connection, session_id: str) -> list[tuple[int, int]]:
    """Copy the entries; the (ts, seq) of every assistant answer without tool calls."""
    answers = []
    for ts, kind, role, content, calls, call_id, name in old.execute(
            "SELECT ts, kind, role, content, tool_calls, tool_call_id, name FROM entries WHERE session_id = ? "
            "ORDER BY seq", (session_id,)).fetchall():
        if kind == "summary":  # the old store copied the kept entries after it: nothing before is kept
            event = transcript.compaction_event(content, None, 0, ts)
        else:
            parsed = tuple(ToolCall(c["id"], c["name"], c.get("arguments") or {}) for c in json.loads(calls or "[]"))
            event = transcript.message_event(Message(role, content, parsed, call_id, name), ts)
        seq = agentdb.append(db, session_id, event, ts)
        if role == "assistant" and not calls and kind != "summary":
            answers.append((ts, seq))
    return answers


def _attach(db: sqlite3.Connection, session_id: str, answers: list[tuple[int, int]], ts: int, model: str | None,
            tokens: Tokens) -> None:
    before = [seq for at, seq in answers if at <= ts + 1000] or [seq for _, seq in answers[:1]]
    if not before:
        return
    seq = before[-1]
    answers[:] = [a for a in answers if a[1] != seq]
    event = agentdb.decode(db.execute("SELECT event_json FROM transcript_events WHERE session_id = ? AND seq = ?",
                                      (session_id, seq)).fetchone()[0], None)
    assert event is not None
    body = event["message"]
    body["usage"] = tokens.as_usage()
    if model:
        provider, _, model_id = model.partition("/")
        body.update(provider=provider, model=model_id or provider)
    db.execute("UPDATE transcript_events SET event_json = ? WHERE session_id = ? AND seq = ?",
               (json.dumps(event, ensure_ascii=False, separators=(",", ":")), session_id, seq))


def _usage_archive(db: sqlite3.Connection, agent_id: str, rows: list[tuple[int, str | None, int, int]]) -> None:
    """Usage of sessions already pruned: kept on an archived session so usage by day still counts it."""
    key = f"agent:{agent_id}:{USAGE_ARCHIVE}"
    stamp = rows[0][0]
    entry = {"sessionId": agentdb.new_id(), "createdAt": stamp, "updatedAt": rows[-1][0], "label": "Imported usage"}
    if agentdb.node(db, key) is None:
        agentdb.create(db, key, entry, stamp, None, archived=True)
    found = agentdb.node(db, key)
    assert found is not None
    for ts, model, tin, tout in rows:
        event = transcript.message_event(Message("assistant", ""), ts, model, Tokens(tin, tout))
        agentdb.append(db, found.session_id, event, ts)

