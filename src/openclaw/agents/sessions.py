"""An agent's sessions and transcripts, kept in upstream's agent store so either implementation
reads what the other wrote: `<state>/agents/<agentId>/agent/openclaw-agent.sqlite`.

A session key (`agent:main:main`) names a conversation (upstream's session node); `/new` gives it a
fresh `sessionId` (a new window) and the old transcript stays on record until pruned. Every
transcript entry is its own transaction, so a `kill -9` mid-turn loses at most the entry being
written. The file is opened lazily on its own thread (`openclaw.stores.sqlitefile`); the event loop
never waits on the disk. Our former `sessions.sqlite` beside it is imported on first open.
"""

from __future__ import annotations

import builtins
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.agents import legacysessions, transcript
from openclaw.agents.historycache import HistoryCache
from openclaw.agents.transcript import Tokens
from openclaw.models.types import Message
from openclaw.stores import agentdb
from openclaw.stores.agentdb import Node, new_id, now_ms
from openclaw.stores.agentschema import AGENT_SCHEMA_VERSION
from openclaw.stores.sqlitefile import SqliteFile

USAGE_KEEP_MS = 400 * 86_400_000


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
    kind: str  # message | summary
    message: Message


class SessionStore:
    def __init__(self, path: Path, agent_id: str | None = None) -> None:
        self.path = path
        self.agent_id = agent_id or path.parent.parent.name
        self.file = SqliteFile(path, AGENT_SCHEMA_VERSION, self._prepare)
        self.cache = HistoryCache()

    def _prepare(self, db: sqlite3.Connection, version: int) -> None:
        agentdb.prepare(self.agent_id)(db, version)
        legacysessions.import_once(db, self.path.parent / legacysessions.LEGACY_NAME)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        agentdb.register(self.path.parent.parent.parent.parent, self.agent_id, self.path, version)

    async def _run(self, fn: Any) -> Any:
        return await self.file.run(fn)

    async def close(self) -> None:
        await self.file.close()

    # -- sessions -----------------------------------------------------------------------------
    async def session(self, key: str, chat_type: str | None = None, origin: dict[str, Any] | None = None) -> Session:
        """The session for `key`, created on first use."""
        found: Session = await self._run(lambda db: _get_or_create(db, key, chat_type, origin))
        return found

    async def open_turn(self, key: str, chat_type: str | None, origin: dict[str, Any] | None,
                        message: Message, once: bool = False, session_id: str | None = None) -> Session:
        """The session for `key` (created on first use) with `message` appended: one trip to the
        database thread for the start of every turn. `once`: not when the session's latest user
        message is this one already (a turn begun before a crash and answered again after it).
        `session_id`: the id a session created here gets (upstream's `agent --session-id`)."""

        def run(db: sqlite3.Connection) -> tuple[Session, bool]:
            session = _get_or_create(db, key, chat_type, origin, count=False, session_id=session_id)
            if once and _last_user_text(db, session.session_id) == message.content:
                return session, False
            _append(db, session, transcript.message_event(message, now_ms()))
            return session, True

        session, added = await self._run(run)
        if added:
            self.cache.add(session.session_id, message)
        return session  # type: ignore[no-any-return]

    async def find(self, key: str) -> Session | None:
        found: Session | None = await self._run(lambda db: _load(db, key))
        return found

    async def by_session_id(self, session_id: str) -> Session | None:
        def get(db: sqlite3.Connection) -> Session | None:
            key = agentdb.key_of(db, session_id)
            return _load(db, key) if key else None

        found: Session | None = await self._run(get)
        return found

    async def list(self, limit: int = 200) -> builtins.list[Session]:
        def rows(db: sqlite3.Connection) -> builtins.list[Session]:
            return [_session(db, n, True) for n in agentdb.nodes(db, limit)]

        found: builtins.list[Session] = await self._run(rows)
        return found

    async def count(self) -> int:
        found: int = await self._run(
            lambda db: db.execute("SELECT COUNT(*) FROM session_nodes WHERE archived_at IS NULL").fetchone()[0])
        return found

    async def reset(self, key: str) -> Session:
        """A fresh conversation under the same key (`/new`, `/reset`); the old transcript stays."""

        def renew(db: sqlite3.Connection) -> Session:
            found = agentdb.node(db, key)
            assert found is not None
            stamp, entry = now_ms(), dict(found.entry)
            previous = found.session_id
            entry.update(sessionId=new_id(), updatedAt=stamp, sessionStartedAt=stamp, inputTokens=0, outputTokens=0,
                         totalTokens=0, compactionCount=0)
            with agentdb.transaction(db):
                agentdb.create(db, key, entry, stamp, entry.get("chatType"), previous=previous, reason="reset")
            return _load(db, key)  # type: ignore[return-value]

        await self.session(key)
        found: Session = await self._run(renew)
        return found

    async def delete(self, key: str) -> bool:
        def drop(db: sqlite3.Connection) -> builtins.list[str]:
            with agentdb.transaction(db):
                return agentdb.delete(db, key)

        dropped: builtins.list[str] = await self._run(drop)
        for session_id in dropped:
            self.cache.drop(session_id)
        return bool(dropped)

    async def set_model(self, key: str, ref: str | None) -> None:
        def write(db: sqlite3.Connection) -> None:
            found = agentdb.node(db, key)
            assert found is not None
            entry = dict(found.entry)
            entry.pop("providerOverride", None)
            entry.pop("modelOverride", None)
            if ref:
                provider, _, model = ref.partition("/")
                entry.update(providerOverride=provider, modelOverride=model or provider)
            agentdb.save_entry(db, key, entry, now_ms())

        await self.session(key)
        await self._run(write)

    async def add_usage(self, key: str, input_tokens: int, output_tokens: int, context_tokens: int,
                        model: str | None = None) -> None:
        await self._run(lambda db: _add_usage(db, key, input_tokens, output_tokens, context_tokens, model))

    # -- transcripts --------------------------------------------------------------------------
    async def append(self, session: Session, message: Message, kind: str = "message",
                     usage: tuple[int, int, int] | None = None, model: str | None = None,
                     tokens: Tokens | None = None) -> int:
        """One transcript entry in its own transaction; `model` and `tokens` are the answering call's
        (upstream keeps them on the message); with `usage` (the run's input, output, context tokens)
        the session's counters move in the same trip."""

        def add(db: sqlite3.Connection) -> int:
            event = transcript.message_event(message, now_ms(), model, tokens)
            with agentdb.transaction(db):
                seq = _append(db, session, event)
                if usage is not None:
                    _add_usage(db, session.key, *usage, model)
            return seq

        seq: int = await self._run(add)
        self.cache.add(session.session_id, message)
        return seq

    async def entries(self, session_id: str, limit: int | None = None) -> builtins.list[Entry]:
        """The conversation on record (the active branch), oldest first; with `limit`, the newest."""
        found: builtins.list[Entry] = await self._run(
            lambda db: _entries(agentdb.active_path(agentdb.events(db, session_id))))
        return found[-limit:] if limit is not None and limit > 0 else found if limit is None else []

    async def live_entries(self, session_id: str) -> builtins.list[Entry]:
        """What the model sees, as entries: the latest summary (if compacted), what it kept, and after."""
        found: builtins.list[Entry] = await self._run(
            lambda db: _entries(transcript.model_view(agentdb.active_path(agentdb.events(db, session_id)))))
        return found

    async def history(self, session: Session) -> builtins.list[Message]:
        """What the model sees: the latest summary (if compacted) and the messages it kept and after."""
        cached = self.cache.get(session.session_id)
        if cached is not None:
            return cached
        messages = [e.message for e in await self.live_entries(session.session_id)]
        self.cache.put(session.session_id, messages)
        return list(messages)

    async def compact(self, session: Session, summary: str, keep_from_seq: int, tokens_before: int = 0) -> None:
        """A compaction boundary: `summary` stands in for everything before the entry at `keep_from_seq`
        (the older entries stay on record as history until pruned)."""

        def write(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT event_id FROM transcript_event_identities WHERE session_id = ? AND seq = ?",
                             (session.session_id, keep_from_seq)).fetchone()
            with agentdb.transaction(db):
                _append(db, session, transcript.compaction_event(summary, row[0] if row else None, tokens_before,
                                                                 now_ms()))
                found = agentdb.node(db, session.key)
                if found is not None:
                    entry = dict(found.entry)
                    entry["compactionCount"] = int(entry.get("compactionCount") or 0) + 1
                    agentdb.save_entry(db, session.key, entry, now_ms())

        self.cache.drop(session.session_id)
        await self._run(write)

    async def prune(self, older_than_ms: int | None, max_entries: int | None, keep: frozenset[str] = frozenset(),
                    dry_run: bool = False) -> builtins.list[str]:
        """Drop sessions idle longer than `older_than_ms`, then the oldest beyond `max_entries`
        (never those in `keep`); the keys dropped, or that would be with `dry_run`."""

        def drop(db: sqlite3.Connection) -> builtins.list[str]:
            doomed: set[str] = set()
            live = "archived_at IS NULL"
            if older_than_ms is not None:
                cutoff = now_ms() - older_than_ms
                doomed |= {r[0] for r in db.execute(f"SELECT session_key FROM session_nodes WHERE {live} "
                                                    "AND updated_at < ?", (cutoff,))}
            if max_entries is not None:
                doomed |= {r[0] for r in db.execute(f"SELECT session_key FROM session_nodes WHERE {live} "
                                                    "ORDER BY updated_at DESC LIMIT -1 OFFSET ?", (max_entries,))}
            doomed -= keep
            if dry_run or not doomed:
                return sorted(doomed)
            with agentdb.transaction(db):
                for key in doomed:
                    gone.extend(agentdb.delete(db, key))
            return sorted(doomed)

        gone: builtins.list[str] = []
        keys: builtins.list[str] = await self._run(drop)
        for session_id in gone:
            self.cache.drop(session_id)
        return keys


def _entries(rows: list[agentdb.Row]) -> list[Entry]:
    out = []
    for row in rows:
        message = transcript.to_message(row.event)
        if message is not None:
            kind = "summary" if row.event.get("type") == "compaction" else "message"
            out.append(Entry(row.seq, row.created_at, kind, message))
    return out


def _last_user_text(db: sqlite3.Connection, session_id: str) -> str | None:
    for row in reversed(agentdb.events(db, session_id, 64)):
        body = row.event.get("message")
        if row.event.get("type") == "message" and isinstance(body, dict) and body.get("role") == "user":
            found = transcript.to_message(row.event)
            return found.content if found else None
    return None


def _get_or_create(db: sqlite3.Connection, key: str, chat_type: str | None, origin: dict[str, Any] | None,
                   count: bool = True, session_id: str | None = None) -> Session:
    found = _load(db, key, count)
    if found is not None:
        return found
    stamp = now_ms()
    entry: dict[str, Any] = {"sessionId": session_id or new_id(), "updatedAt": stamp, "createdAt": stamp,
                             "sessionStartedAt": stamp, "abortedLastRun": False}
    if chat_type:
        entry["chatType"] = chat_type
    if origin:
        entry["origin"] = origin
    with agentdb.transaction(db):
        agentdb.create(db, key, entry, stamp, chat_type)
    return _load(db, key, count)  # type: ignore[return-value]


def _append(db: sqlite3.Connection, session: Session, event: agentdb.Event) -> int:
    stamp = int(event["message"]["timestamp"]) if isinstance(event.get("message"), dict) else now_ms()
    with agentdb.transaction(db):  # one entry, one transaction
        seq = agentdb.append(db, session.session_id, event, stamp)
        body = event.get("message")
        agentdb.touch(db, session.key, stamp, interaction=isinstance(body, dict) and body.get("role") == "user")
    return seq


def _add_usage(db: sqlite3.Connection, key: str, input_tokens: int, output_tokens: int, context_tokens: int,
               model: str | None = None) -> None:
    found = agentdb.node(db, key)
    if found is None:
        return
    stamp, entry = now_ms(), dict(found.entry)
    entry["inputTokens"] = int(entry.get("inputTokens") or 0) + input_tokens
    entry["outputTokens"] = int(entry.get("outputTokens") or 0) + output_tokens
    entry.update(totalTokens=context_tokens, totalTokensFresh=True, updatedAt=stamp)
    if model:
        provider, _, model_id = model.partition("/")
        entry.update(modelProvider=provider, model=model_id or provider)
    agentdb.save_entry(db, key, entry, stamp)


def _load(db: sqlite3.Connection, key: str, count: bool = True) -> Session | None:
    """A session; `count` adds how many transcript entries it has (for listings)."""
    found = agentdb.node(db, key)
    return _session(db, found, count) if found is not None else None


def _session(db: sqlite3.Connection, node: Node, count: bool) -> Session:
    e = node.entry
    override = e.get("modelOverride")
    if isinstance(override, str) and override:
        override = f"{e['providerOverride']}/{override}" if e.get("providerOverride") else override
    model = f"{e['modelProvider']}/{e['model']}" if e.get("modelProvider") and e.get("model") else e.get("model")
    origin = e.get("origin")
    return Session(
        node.key, node.session_id, int(e.get("createdAt") or node.created_at or node.updated_at), node.updated_at,
        e.get("chatType"), origin if isinstance(origin, dict) else {}, node.label or e.get("label"),
        override or None, int(e.get("inputTokens") or 0), int(e.get("outputTokens") or 0),
        int(e.get("totalTokens") or 0), int(e.get("compactionCount") or 0),
        agentdb.message_count(db, node.session_id) if count else 0, model if isinstance(model, str) else None)
