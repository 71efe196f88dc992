"""Sessions shared with upstream OpenClaw through its agent store, both ways (skipped without upstream).

Upstream makes the store and runs a turn; ours continues that session (with a tool call) and starts
another; upstream's CLI lists both and continues the first with ours' turn in the model's context;
ours then reads upstream's reply. And the other way: ours makes the store (at schema 0), upstream's
`doctor --fix` completes it, upstream continues ours' session and ours reads the result.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, free_base, make_env, port_free, running, upstream_bin, wait_for
from model_standin import ModelStandin

from openclaw.agents.sessions import SessionStore
from openclaw.agents.transcript import Tokens
from openclaw.models.types import Message, ToolCall

UPSTREAM = upstream_bin()
pytestmark = [pytest.mark.upstream, pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")]
KEY = "agent:main:explicit:up1"


def upstream(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    assert UPSTREAM is not None
    proc = subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


def ours(path: Path) -> None:
    async def go() -> None:
        store = SessionStore(path)
        try:
            session = await store.find(KEY)
            assert session is not None
            history = await store.history(session)
            assert history[0].content == "first from upstream"
            await store.append(session, Message("user", "ours asks"))
            await store.append(session, Message("assistant", "", (ToolCall("call_1", "read", {"path": "n.md"}),)),
                               model="stand/m1", tokens=Tokens(9, 2))
            await store.append(session, Message("tool", "the notes", tool_call_id="call_1", name="read"))
            await store.append(session, Message("assistant", "ours answers"), usage=(9, 4, 50), model="stand/m1",
                               tokens=Tokens(9, 2))
            other = await store.open_turn("agent:main:ours1", "direct", None, Message("user", "hello from ours"))
            await store.append(other, Message("assistant", "hi"), usage=(3, 1, 10), model="stand/m1",
                               tokens=Tokens(3, 1))
        finally:
            await store.close()

    asyncio.run(go())


def last_message(path: Path) -> str:
    async def go() -> str:
        store = SessionStore(path)
        try:
            session = await store.find(KEY)
            assert session is not None
            return (await store.history(session))[-1].content
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.mark.timeout(900)
def test_upstream_and_ours_continue_each_others_sessions(tmp_path: Path, model: ModelStandin) -> None:
    env = make_env(tmp_path)
    upstream(env, "onboard", "--non-interactive", "--accept-risk", "--skip-daemon", "--skip-health")
    config_path = env.state_dir() / "openclaw.json"
    config = json.loads(config_path.read_text())
    config.setdefault("models", {}).setdefault("providers", {})["stand"] = {
        "baseUrl": model.openai_url, "api": "openai-completions", "apiKey": "k",
        "models": [{"id": "m1", "name": "M1"}]}
    config["agents"]["defaults"]["model"] = "stand/m1"
    config_path.write_text(json.dumps(config, indent=2))
    upstream(env, "agent", "--local", "--session-id", "up1", "-m", "first from upstream", "--json")
    store = env.state_dir() / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    ours(store)
    listed = json.loads(upstream(env, "sessions", "--json").stdout)
    rows = {s["key"]: s for s in listed["sessions"]}
    assert rows["agent:main:ours1"]["inputTokens"] == 3 and rows["agent:main:ours1"]["modelProvider"] == "stand"
    assert rows[KEY]["sessionId"] == "up1"
    model.replies.clear()
    upstream(env, "agent", "--local", "--session-id", "up1", "-m", "second from upstream", "--json")
    sent = model.requests()[-1].body["messages"]
    call = next(m for m in sent if m["role"] == "assistant" and m.get("tool_calls"))
    [used] = call["tool_calls"]  # upstream rewrites the call id for the provider (`call_1` -> `call1`)
    assert used["function"]["name"] == "read" and json.loads(used["function"]["arguments"]) == {"path": "n.md"}
    result = next(m for m in sent if m["role"] == "tool")
    assert result["tool_call_id"] == used["id"] and "the notes" in json.dumps(result["content"])
    assert any(m["role"] == "assistant" and "ours answers" in json.dumps(m.get("content")) for m in sent)
    assert last_message(store).startswith("echo: ")  # upstream's answer, read back by ours



def upstream_gateway_history(env: Env, port: int, key: str) -> list[dict[str, Any]]:
    """Start upstream's gateway on the state (its start migrates a store ours created), read `chat.history`."""
    assert UPSTREAM is not None
    log = env.root / "upstream-gateway.log"
    gateway = subprocess.Popen([UPSTREAM, "gateway", "run", "--port", str(port), "--allow-unconfigured"],
                               env=env.vars, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: not port_free(port) or gateway.poll() is not None, timeout=300, interval=1.0,
                 what="upstream's gateway to listen")
        assert gateway.poll() is None, log.read_text()[-3000:]
        params = json.dumps({"sessionKey": key})
        proc = upstream(env, "gateway", "call", "chat.history", "--json", "--params", params,
                        "--url", f"ws://127.0.0.1:{port}", "--token", env.token())
        messages: list[dict[str, Any]] = json.loads(proc.stdout[proc.stdout.index("{"):])["messages"]
        return messages
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        gateway.wait(120)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out.extend(str(part.get("text")) for part in content if isinstance(part, dict) and part.get("text"))
    return out


@pytest.mark.timeout(900)
def test_ours_creates_the_store_and_upstream_continues_it(tmp_path: Path, model: ModelStandin) -> None:
    env = make_env(tmp_path)
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])
    with running(env.gateway(), port):
        assert env.cli("agent", "--session-id", "ours1", "--message", "hello from ours").stdout.strip() == (
            "echo: hello from ours")
    store = env.state_dir() / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    assert header(store) == (0, ("agent", 0, "main"))
    assert UPSTREAM is not None
    refused = subprocess.run([UPSTREAM, "sessions", "--json"], env=env.vars, capture_output=True, text=True,
                             timeout=400)
    assert refused.returncode != 0 and "doctor --fix" in refused.stdout + refused.stderr  # its CLI alone: not yet
    history = upstream_gateway_history(env, port + 50, "agent:main:explicit:ours1")  # its gateway migrates it
    assert texts(history) == ["hello from ours", "echo: hello from ours"]
    assert header(store) == (23, ("agent", 23, "main"))
    listed = json.loads(upstream(env, "sessions", "--json").stdout)
    assert {s["key"]: s["sessionId"] for s in listed["sessions"]}["agent:main:explicit:ours1"] == "ours1"
    upstream(env, "agent", "--local", "--session-id", "ours1", "-m", "upstream goes on", "--json")
    sent = json.dumps(model.requests()[-1].body["messages"])
    assert "hello from ours" in sent and "echo: hello from ours" in sent and "upstream goes on" in sent
    with running(env.gateway(), port):  # ours again, on the store upstream completed
        assert env.cli("agent", "--session-id", "ours1", "--message", "ours again").stdout.strip() == (
            "echo: ours again")
        asked = [m for m in model.requests()[-1].body["messages"] if m["role"] in ("user", "assistant")]
        assert [m["role"] for m in asked] == ["user", "assistant"] * 2 + ["user"]
        assert asked[0]["content"] == "hello from ours" and "upstream goes on" in asked[2]["content"]
        assert asked[3]["content"].startswith("echo: ") and asked[4]["content"] == "ours again"


def header(store: Path) -> tuple[int, tuple[str, int, str]]:
    db = sqlite3.connect(store)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        meta = db.execute("SELECT role, schema_version, agent_id FROM schema_meta "
                          "WHERE meta_key = 'primary'").fetchone()
        return version, tuple(meta)
    finally:
        db.close()
