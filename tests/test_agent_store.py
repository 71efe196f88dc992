"""Sessions in upstream's agent store: a newer store refused, our former file imported once, and a
store written by upstream read as ours."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from helpers import Env

from openclaw.agents.sessions import SessionStore
from openclaw.agents.usage import daily_usage
from openclaw.config.view import Config
from openclaw.models.types import Message, ToolCall
from openclaw.stores.sqlitefile import StoreTooNewError

FIXTURE = Path(__file__).parent / "fixtures" / "upstream-state" / "agent" / "openclaw-agent.sqlite"
OLD_SCHEMA = """
CREATE TABLE sessions (key TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, chat_type TEXT, origin TEXT, label TEXT, model_override TEXT,
  input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
  context_tokens INTEGER NOT NULL DEFAULT 0, compaction_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE entries (session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
  role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, name TEXT,
  PRIMARY KEY (session_id, seq));
CREATE TABLE usage_log (ts INTEGER NOT NULL, session_key TEXT NOT NULL, model TEXT, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL);
"""
DAY = 1_796_000_000_000


def agent_dir(root: Path) -> Path:
    path = root / "agents" / "main" / "agent"
    path.mkdir(parents=True, exist_ok=True)
    return path


def old_store(path: Path, key: str = "agent:main:main", sid: str = "s-old") -> None:
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, 'direct', '{\"channel\":\"telegram\"}', 'plants', "
               "'stand/m2', 30, 12, 99, 1)", (key, sid, DAY, DAY + 5000))
    calls = json.dumps([{"id": "c1", "name": "read", "arguments": {"path": "a.md"}}])
    rows = [(1, "message", "user", "old question", None, None, None),
            (2, "message", "assistant", "", calls, None, None),
            (3, "message", "tool", "file text", None, "c1", "read"),
            (4, "message", "assistant", "old answer", None, None, None),
            (5, "summary", "user", "[Summary] earlier", None, None, None),
            (6, "message", "user", "after", None, None, None),
            (7, "message", "assistant", "later answer", None, None, None)]
    for seq, kind, role, content, tool_calls, call_id, name in rows:
        db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (sid, seq, DAY + seq * 100, kind, role, content, tool_calls, call_id, name))
    db.execute("INSERT INTO usage_log VALUES (?, ?, 'stand/m1', 20, 8)", (DAY + 450, key))
    db.execute("INSERT INTO usage_log VALUES (?, ?, 'stand/m1', 10, 4)", (DAY + 750, key))
    db.execute("INSERT INTO usage_log VALUES (?, 'agent:main:pruned', 'stand/m1', 7, 3)", (DAY + 60_000,))
    db.commit()
    db.close()


def read(store: SessionStore, key: str) -> tuple[dict[str, object], list[tuple[str, str, str]], list[str]]:
    async def go() -> tuple[dict[str, object], list[tuple[str, str, str]], list[str]]:
        try:
            session = await store.find(key)
            assert session is not None
            entries = await store.entries(session.session_id)
            history = await store.history(session)
            return (session.as_dict(), [(e.kind, e.message.role, e.message.content) for e in entries],
                    [m.content for m in history])
        finally:
            await store.close()

    return asyncio.run(go())


def test_our_old_sessions_file_is_imported_once_and_kept_as_migrated(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path)
    old_store(folder / "sessions.sqlite")
    store = SessionStore(folder / "openclaw-agent.sqlite")
    session, entries, history = read(store, "agent:main:main")
    assert session["sessionId"] == "s-old" and session["label"] == "plants" and session["chatType"] == "direct"
    assert session["origin"] == {"channel": "telegram"} and session["modelOverride"] == "stand/m2"
    assert (session["inputTokens"], session["outputTokens"], session["compactionCount"]) == (30, 12, 1)
    assert [e[2] for e in entries] == ["old question", "", "file text", "old answer", "[Summary] earlier", "after",
                                       "later answer"]
    assert history == ["[Summary] earlier", "after", "later answer"]  # the old layout kept nothing before it
    assert not (folder / "sessions.sqlite").exists() and (folder / "sessions.sqlite.migrated").exists()
    db = sqlite3.connect(folder / "openclaw-agent.sqlite")
    [call] = [json.loads(r[0]) for r in db.execute("SELECT event_json FROM transcript_events WHERE "
                                                   "json_extract(event_json, '$.message.stopReason') = 'toolUse'")]
    assert call["message"]["content"] == [{"type": "toolCall", "id": "c1", "name": "read",
                                           "arguments": {"path": "a.md"}}]
    # usage by day: both runs on their answers, the pruned session's on an archived node
    daily = daily_usage([folder / "openclaw-agent.sqlite"], 0, Config({}))
    assert sum(d["input"] for d in daily) == 37 and sum(d["output"] for d in daily) == 15
    assert db.execute("SELECT COUNT(*) FROM session_nodes WHERE archived_at IS NOT NULL").fetchone()[0] == 1
    db.close()
    state = sqlite3.connect(tmp_path / "state" / "openclaw.sqlite")  # noted as upstream's doctor notes its imports
    assert state.execute("SELECT migration_kind, source_path, target_table, source_record_count, status, "
                         "removed_source FROM migration_sources").fetchall() == [
        ("openclaw-python-sessions-sqlite", str(folder / "sessions.sqlite"), "session_nodes", 1, "completed", 0)]
    assert state.execute("SELECT agent_id, path, schema_version FROM agent_databases").fetchall() == [
        ("main", "agents/main/agent/openclaw-agent.sqlite", 0)]  # a store ours created: upstream's doctor ups it
    state.close()
    db = sqlite3.connect(folder / "openclaw-agent.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    assert db.execute("SELECT meta_key, role, schema_version, agent_id FROM schema_meta").fetchall() == [
        ("primary", "agent", 0, "main")]
    assert "event_zstd" not in {r[1] for r in db.execute("PRAGMA table_info(transcript_events)")}
    db.close()
    # a second open imports nothing; a new old file (ours run again by an older build) is archived beside it
    old_store(folder / "sessions.sqlite", "agent:main:other", "s-other")
    store = SessionStore(folder / "openclaw-agent.sqlite")
    read(store, "agent:main:other")
    assert (folder / "sessions.sqlite.migrated.2").exists() and not (folder / "sessions.sqlite").exists()
    db = sqlite3.connect(folder / "openclaw-agent.sqlite")
    assert db.execute("SELECT COUNT(*) FROM session_windows WHERE session_id = 's-old'").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM session_nodes").fetchone()[0] == 3  # main, other, the usage archive


def test_an_import_that_fails_half_way_leaves_the_old_file_and_imports_nothing(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path)
    old_store(folder / "sessions.sqlite")
    db = sqlite3.connect(folder / "sessions.sqlite")
    db.execute("UPDATE entries SET tool_calls = 'not json' WHERE seq = 2")  # the import stops on this row
    db.commit()
    db.close()
    store = SessionStore(folder / "openclaw-agent.sqlite")
    with pytest.raises(ValueError):
        read(store, "agent:main:main")
    assert (folder / "sessions.sqlite").exists() and not (folder / "sessions.sqlite.migrated").exists()
    agent = sqlite3.connect(folder / "openclaw-agent.sqlite")
    assert agent.execute("SELECT COUNT(*) FROM session_nodes").fetchone()[0] == 0
    assert agent.execute("SELECT COUNT(*) FROM transcript_events").fetchone()[0] == 0


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = agent_dir(tmp_path) / "openclaw-agent.sqlite"
    sqlite3.connect(path).execute("PRAGMA user_version=24").connection.close()
    with pytest.raises(StoreTooNewError, match="schema version 24, newer than this openclaw understands"):
        read(SessionStore(path), "agent:main:main")


def test_the_gateway_refuses_a_newer_agent_store_in_one_line(env: Env, base: int) -> None:
    env.provision(None, base)
    path = agent_dir(env.state_dir()) / "openclaw-agent.sqlite"
    sqlite3.connect(path).execute("PRAGMA user_version=24").connection.close()
    proc = env.cli("gateway", timeout=60)
    assert proc.returncode == 78, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{path} has schema version 24" in lines[0], proc.stderr


def test_a_store_written_by_upstream_is_read_and_continued(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path)
    shutil.copy(FIXTURE, folder / "openclaw-agent.sqlite")
    store = SessionStore(folder / "openclaw-agent.sqlite")
    session, entries, history = read(store, "agent:main:explicit:fixture1")
    assert session["sessionId"] == "fixture1" and session["model"] == "local/qwen"
    assert [(e[1], e[2]) for e in entries] == [("user", "hello there"), ("assistant", "Hello from the fixture model."),
                                               ("user", "second turn"), ("assistant", "Hello from the fixture model.")]
    assert history == [e[2] for e in entries]

    async def more() -> list[str]:
        store = SessionStore(folder / "openclaw-agent.sqlite")
        try:
            found = await store.find("agent:main:explicit:fixture1")
            assert found is not None
            await store.append(found, Message("user", "third"))
            await store.append(found, Message("assistant", "", (ToolCall("t1", "read", {"path": "x"}),)))
            await store.append(found, Message("tool", "x text", tool_call_id="t1", name="read"))
            await store.append(found, Message("assistant", "done"), usage=(5, 2, 40), model="local/qwen")
            listed = [s.key for s in await store.list()]
            return [*listed, *(m.content for m in (await store.history(found))[-4:])]
        finally:
            await store.close()

    out = asyncio.run(more())
    assert "agent:main:main" in out and out[-4:] == ["third", "", "x text", "done"]
    db = sqlite3.connect(folder / "openclaw-agent.sqlite")
    rows = db.execute("SELECT i.parent_id, i.seq FROM transcript_event_identities i WHERE session_id = 'fixture1' "
                      "ORDER BY seq DESC LIMIT 5").fetchall()
    last_upstream = db.execute("SELECT event_id FROM transcript_event_identities WHERE session_id = 'fixture1' "
                               "AND seq = 9").fetchone()[0]
    assert rows[-2][0] == last_upstream and rows[-1][1] == 9  # ours continues upstream's tree from its leaf


def test_zstd_rows_written_by_upstream_are_read(tmp_path: Path) -> None:
    import zstandard

    folder = agent_dir(tmp_path)
    shutil.copy(FIXTURE, folder / "openclaw-agent.sqlite")
    db = sqlite3.connect(folder / "openclaw-agent.sqlite")
    text = db.execute("SELECT event_json FROM transcript_events WHERE session_id = 'fixture1' AND seq = 8"
                      ).fetchone()[0]
    navigation = json.dumps({"version": 1, "report": {"kind": "canonical"}, "navigation": {}, "reset": {}, "model": {},
                             "modelBytes": 0, "modelWithoutCheckpointBytes": 0, "withoutCustomDataBytes": 0})
    db.execute("UPDATE transcript_events SET event_json = NULL, event_zstd = ?, event_utf8_bytes = ?, "
               "navigation_json = ? WHERE session_id = 'fixture1' AND seq = 8",
               (zstandard.ZstdCompressor().compress(text.encode()), len(text.encode()), navigation))
    db.commit()
    db.close()
    _, entries, _ = read(SessionStore(folder / "openclaw-agent.sqlite"), "agent:main:explicit:fixture1")
    assert entries[-1] == ("message", "assistant", "Hello from the fixture model.")
    daily = daily_usage([folder / "openclaw-agent.sqlite"], 0, Config({}))
    assert sum(d["input"] for d in daily) == 50  # the five answers of 10 input tokens, one of them compressed
