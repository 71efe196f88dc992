"""Sessions shared with upstream OpenClaw through its agent store, both ways (skipped without upstream).

Upstream makes the store and runs a turn; ours continues that session (with a tool call) and starts
another; upstream's CLI lists both and continues the first with ours' turn in the model's context;
ours then reads upstream's reply.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import Env, make_env
from model_standin import ModelStandin

from openclaw.agents.sessions import SessionStore
from openclaw.agents.transcript import Tokens
from openclaw.models.types import Message, ToolCall

UPSTREAM = os.environ.get("OPENCLAW_UPSTREAM_BIN") or shutil.which("openclaw-upstream") or (
    "/opt/upstream/bin/openclaw-upstream" if os.path.exists("/opt/upstream/bin/openclaw-upstream") else None
)
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
