"""A turn's path through a real gateway and the model stand-in: a long
reply streamed in 8-character deltas reaches the client whole, a context-overflow retry asks
with the compacted history, and a long session compacts again and again with summaries that
arrive in small pieces."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Env, Gateway, RawWs, handshake
from model_standin import ANTHROPIC_OVERFLOW, OPENAI_OVERFLOW, ModelStandin, Reply, last_user_text

SUMMARY = "[Summary of the earlier conversation]"


def start(env: Env, port: int, gateways: list[Gateway], url: str, **provider: Any) -> Gateway:
    env.provision(None, port)
    env.use_model(url, **provider)
    gw = env.gateway().start()
    gateways.append(gw)
    return gw.wait_healthy(port)


def operator(env: Env, port: int) -> RawWs:
    return handshake(port, env.token(), scopes=["operator.write", "operator.read"])[0]


def turn(ws: RawWs, req_id: str, session: str, text: str, timeout: float = 60) -> tuple[dict, list[dict]]:
    """One `agent` turn: (the final answer's payload, the events that came with it)."""
    ws.send({"type": "req", "id": req_id, "method": "agent",
             "params": {"message": text, "idempotencyKey": f"{session}:{req_id}", "sessionKey": session}})
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = ws.recv(timeout=timeout)
        if msg.get("type") == "event":
            events.append(msg)
        elif msg.get("id") == req_id and not (msg.get("ok") and msg["payload"].get("status") == "accepted"):
            assert msg.get("ok"), msg
            return msg["payload"], events
    raise AssertionError(f"no final answer to {req_id}")


def reply_text(payload: dict) -> str:
    return "".join(p.get("text", "") for p in payload["result"]["payloads"])


def message_texts(api: str, body: dict) -> list[str]:
    """The conversation a provider was sent (no system prompt), as texts."""
    out = []
    for m in body["messages"]:
        if m.get("role") == "system":
            continue
        content = m.get("content")
        out.append(content if isinstance(content, str) else
                   "".join(b.get("text", "") for b in content or [] if isinstance(b, dict)))
    return out


def test_a_long_streamed_reply_reaches_the_client_whole(env: Env, base: int, gateways: list[Gateway],
                                                        model: ModelStandin) -> None:
    start(env, base, gateways, model.openai_url)
    unit = 'Each "delta" is eight characters; naïve code copies the reply again per delta 😀\n'
    text = (unit * 8000)[:600_000]
    model.replies.clear()
    model.script(Reply(text=text, chunk=8))
    ws = operator(env, base)
    final, events = turn(ws, "long", "agent:main:long", "a long one, please")
    assert final["status"] == "ok", final
    assert reply_text(final) == text
    assistant = [e["payload"]["data"]["delta"] for e in events
                 if e["event"] == "agent" and e["payload"]["stream"] == "assistant"]
    chat = [e["payload"] for e in events if e["event"] == "chat"]
    deltas = [c for c in chat if c["state"] == "delta"]
    assert "".join(assistant) == text and "".join(d["deltaText"] for d in deltas) == text
    assert deltas[-1]["message"]["content"][0]["text"] == text  # each delta carries the whole text so far
    assert chat[-1]["state"] == "final" and chat[-1]["message"]["content"][0]["text"] == text
    # a lone surrogate half (JSON can carry one; UTF-8 and SQLite cannot) becomes U+FFFD everywhere
    model.script(Reply(text="half of a pair: \ud83d, a whole one: 😀", chunk=3))
    final, events = turn(ws, "half", "agent:main:long", "and now?")
    assert final["status"] == "ok" and reply_text(final) == "half of a pair: \ufffd, a whole one: 😀"
    assert "".join(e["payload"]["data"]["delta"] for e in events
                   if e["event"] == "agent" and e["payload"]["stream"] == "assistant") == reply_text(final)
    ws.close()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_context_overflow_is_retried_with_the_compacted_history(env: Env, base: int, gateways: list[Gateway],
                                                                  model: ModelStandin, api: str) -> None:
    if api == "openai":
        start(env, base, gateways, model.openai_url)
        overflow = OPENAI_OVERFLOW
    else:
        start(env, base, gateways, model.anthropic_url, api="anthropic-messages")
        overflow = ANTHROPIC_OVERFLOW
    model.replies.clear()
    ws = operator(env, base)
    key = f"agent:main:overflow-{api}"
    for i in range(10):
        assert turn(ws, f"f{i}", key, f"fact {i}: the fern needs water")[0]["status"] == "ok"
    before = len(model.requests())
    model.script(Reply(status=400, error=overflow, trickle=32),  # the error body arrives in pieces too
                 Reply(text="notes: ten facts about the fern", trickle=8),
                 Reply(text="I still know about the fern."))
    final, _ = turn(ws, "ask", key, "what do you remember?")
    assert final["status"] == "ok" and reply_text(final) == "I still know about the fern."
    first, summary, retry = [r.body for r in model.requests()[before:]]
    asked, again = message_texts(api, first), message_texts(api, retry)
    assert len(asked) == 21 and asked[-1] == "what do you remember?"
    assert summary.get("stream") is False and "fact 0" in message_texts(api, summary)[0]
    assert again[0].startswith(f"{SUMMARY}\nnotes: ten facts about the fern")  # the retry is the compacted history
    assert again[-1] == "what do you remember?" and len(again) < 10
    # a turn that alone does not fit: nothing older to summarise, one clear error, no loop
    model.script(Reply(status=400, error=overflow))
    final, _ = turn(ws, "alone", f"agent:main:fresh-{api}", "x" * 1000)
    assert final["status"] == "error" and "the current turn alone is too long" in final["summary"]
    ws.close()


@pytest.fixture
def summarising_model() -> Iterator[ModelStandin]:
    """Echoes turns (streamed); answers every summary request (not streamed) with 16 KB of notes
    written 256 bytes at a time, so no summary fits in one network read."""

    def default(api: str, body: dict[str, Any]) -> Reply:
        if body.get("stream"):
            return Reply(text=f"echo: {last_user_text(api, body)[:4000]}")
        return Reply(text="notes " + "n" * 16_000, trickle=256, delay_s=0.0005)

    server = ModelStandin(default=default).start()
    yield server
    server.stop()


def test_a_long_session_compacts_again_and_again_with_summaries_in_pieces(
        env: Env, base: int, gateways: list[Gateway], summarising_model: ModelStandin) -> None:
    start(env, base, gateways, summarising_model.openai_url, models=[{"id": "m1", "contextWindow": 20_000}])
    ws = operator(env, base)
    key = "agent:main:long-session"
    for i in range(30):
        final, _ = turn(ws, f"t{i}", key, f"turn {i}: " + "w" * 4000)
        assert final["status"] == "ok", final
    ws.close()
    summaries = [r for r in summarising_model.requests() if not r.body.get("stream")]
    db = env.state_dir() / "agents/main/agent/openclaw-agent.sqlite"
    count = sqlite3.connect(db).execute("SELECT json_extract(entry_json, '$.compactionCount') FROM session_nodes "
                                        "WHERE session_key = ?", (key,)).fetchone()[0]
    assert len(summaries) >= 3 and count == len(summaries)
