"""The assistant end to end: real gateways, the Telegram stand-in, the model stand-in."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

from fake_telegram import FakeTelegram, new_bot, replies, start_with_telegram
from helpers import Env, Gateway, healthz, wait_for
from model_standin import ModelStandin, Reply

OWNER, STRANGER = 7001, 7002


def assistant(env: Env, port: int, gateways: list[Gateway], tg: FakeTelegram, model: ModelStandin,
              telegram: dict[str, Any] | None = None, profile: str | None = None) -> tuple[str, Gateway]:
    model.replies.clear()
    token = new_bot(tg, "assistant_bot")
    env.provision(profile, port)
    env.use_model(model.openai_url, profile=profile)
    settings = {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "allowlist", "allowFrom": [str(OWNER)],
                **(telegram or {})}
    gw = start_with_telegram(env, port, gateways, settings, profile)
    return token, gw


def workspace(env: Env, profile: str | None = None) -> Path:
    name = "workspace" if not profile else f"workspace-{profile}"
    return env.home / ".openclaw" / name


def test_a_dm_is_answered_by_the_model(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram,
                                       model: ModelStandin) -> None:
    token, _ = assistant(env, base, gateways, tg, model)
    tg.send_user_message(token, OWNER, "hello there")
    assert replies(tg, token, OWNER, 1)[-1] == "echo: hello there"
    assert any(a.get("action") == "typing" for a in tg.bots[token].actions)
    body = model.requests()[-1].body
    assert body["model"] == "m1" and "Agent: main" in body["messages"][0]["content"]
    db = env.state_dir() / "agents/main/agent/openclaw-agent.sqlite"
    rows = sqlite3.connect(db).execute("SELECT session_key FROM session_nodes").fetchall()
    assert rows == [("agent:main:main",)]


def test_a_tool_reads_a_workspace_file_and_the_answer_uses_it(env: Env, base: int, gateways: list[Gateway],
                                                              tg: FakeTelegram, model: ModelStandin) -> None:
    token, _ = assistant(env, base, gateways, tg, model)
    (workspace(env) / "plants.md").write_text("Water the fern on Tuesdays.")
    model.script(Reply(tool_calls=[("read", {"path": "plants.md"})]), Reply(text="Tuesdays, for the fern."))
    tg.send_user_message(token, OWNER, "when do I water the fern?")
    assert replies(tg, token, OWNER, 1)[-1] == "Tuesdays, for the fern."
    tool_message = model.requests()[-1].body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == "Water the fern on Tuesdays."
    _check_upstream_shapes(env.state_dir() / "agents/main/agent/openclaw-agent.sqlite")


def _check_upstream_shapes(path: Path) -> None:
    """The turn is in upstream's agent store, shaped as upstream writes it (a new store: schema 0, which
    upstream's doctor migrates to 23)."""
    import json

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    assert db.execute("SELECT role, schema_version, agent_id FROM schema_meta").fetchall() == [("agent", 0, "main")]
    [(sid, entry)] = db.execute("SELECT current_session_id, entry_json FROM session_nodes "
                                "WHERE session_key = 'agent:main:main'").fetchall()
    entry = json.loads(entry)
    assert entry["sessionId"] == sid and entry["modelProvider"] == "stand" and entry["model"] == "m1"
    assert entry["inputTokens"] > 0 and entry["outputTokens"] > 0 and isinstance(entry["updatedAt"], int)
    assert db.execute("SELECT session_key FROM session_windows WHERE session_id = ?", (sid,)).fetchone() == (
        "agent:main:main",)
    events = [json.loads(r[0]) for r in db.execute("SELECT event_json FROM transcript_events WHERE session_id = ? "
                                                   "ORDER BY seq", (sid,))]
    header, user, call, result, answer = events
    assert header["type"] == "session" and header["version"] == 4 and header["id"] == sid
    assert user["parentId"] is None and user["message"]["role"] == "user"
    assert [e["parentId"] for e in events[2:]] == [e["id"] for e in events[1:4]]
    [part] = call["message"]["content"]
    assert part["type"] == "toolCall" and part["name"] == "read" and part["arguments"] == {"path": "plants.md"}
    assert call["message"]["stopReason"] == "toolUse"
    body = result["message"]
    assert body["role"] == "toolResult" and body["toolCallId"] == part["id"] and body["toolName"] == "read"
    assert body["content"] == [{"type": "text", "text": "Water the fern on Tuesdays."}] and body["isError"] is False
    final = answer["message"]
    assert final["content"] == [{"type": "text", "text": "Tuesdays, for the fern."}] and final["stopReason"] == "stop"
    assert final["provider"] == "stand" and final["model"] == "m1" and final["usage"]["totalTokens"] > 0
    ids = db.execute("SELECT event_id, seq, event_type, parent_id FROM transcript_event_identities "
                     "WHERE session_id = ? ORDER BY seq", (sid,)).fetchall()
    assert ids == [(e["id"], n, e["type"], e.get("parentId")) for n, e in enumerate(events)]
    assert db.execute("SELECT needs_rebuild, leaf_event_id FROM session_transcript_index_state "
                      "WHERE session_id = ?", (sid,)).fetchone() == (1, answer["id"])


def test_a_stranger_cannot_get_exec(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram,
                                    model: ModelStandin, tmp_path: Path) -> None:
    token, _ = assistant(env, base, gateways, tg, model, {"dmPolicy": "open", "allowFrom": ["*", str(OWNER)]})
    marker = tmp_path / "pwned"
    model.script(Reply(tool_calls=[("exec", {"command": f"touch {marker}"})]), Reply(text="I can't run commands."))
    tg.send_user_message(token, STRANGER, "please run touch on my file")
    assert replies(tg, token, STRANGER, 1)[-1] == "I can't run commands."
    first = next(r.body for r in model.requests()
                 if r.body["messages"][-1].get("content") == "please run touch on my file")
    assert "exec" not in [t["function"]["name"] for t in first.get("tools", [])]
    assert model.requests()[-1].body["messages"][-1]["content"].startswith("error: no tool named 'exec'")
    assert not marker.exists()


def test_stop_aborts_a_streaming_reply(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram,
                                       model: ModelStandin) -> None:
    token, _ = assistant(env, base, gateways, tg, model)
    model.script(Reply(text="word " * 400, delay_s=0.05, chunk=4))
    seen = len(model.requests())  # the stand-in is the module's: earlier tests' requests are there too
    tg.send_user_message(token, OWNER, "tell me a long story")
    wait_for(lambda: len(model.requests()) > seen, what="the model called")
    tg.send_user_message(token, OWNER, "/stop")
    assert replies(tg, token, OWNER, 1)[-1] == "Stopped."
    tg.send_user_message(token, OWNER, "/whoami")
    last = replies(tg, token, OWNER, 2)[-1]
    assert last.startswith(f"You are {OWNER}") and "access: operator" in last
    assert not any("word word" in m for m in tg.messages_to(token, OWNER))


def test_kill_9_mid_turn_keeps_the_session(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram,
                                           model: ModelStandin) -> None:
    token, gw = assistant(env, base, gateways, tg, model)
    tg.send_user_message(token, OWNER, "remember the number 42")
    replies(tg, token, OWNER, 1)
    model.script(Reply(text="slow " * 200, delay_s=0.05, chunk=4))
    seen = len(model.requests())
    tg.send_user_message(token, OWNER, "and now something long")
    wait_for(lambda: len(model.requests()) > seen, what="the second turn at the model")
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    tg.send_user_message(token, OWNER, "what number?")
    wait_for(lambda: any(m == "echo: what number?" for m in tg.messages_to(token, OWNER)), timeout=30,
             what="an answer after the restart")
    sent = [m.get("content") for m in model.requests()[-1].body["messages"]]
    assert "remember the number 42" in sent and "echo: remember the number 42" in sent


def test_no_model_still_means_operator_commands(env: Env, base: int, gateways: list[Gateway],
                                                tg: FakeTelegram) -> None:
    token = new_bot(tg)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "allowFrom": [str(OWNER)],
                                              "dmPolicy": "allowlist"})
    tg.send_user_message(token, OWNER, "hi")
    assert "No model is configured" in replies(tg, token, OWNER, 1)[-1]
    tg.send_user_message(token, OWNER, "/gateways")
    assert "this bot" in replies(tg, token, OWNER, 2)[-1]
    assert healthz(base)
