"""The assistant over protocol v4: agent (two-stage, streamed events), agent.wait, chat.*, sessions.*,
agents.list, models.list, agent.identity.get, as upstream's clients call them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from helpers import Env, Gateway, RawWs, free_base, handshake, make_env, running, wait_for
from model_standin import ModelStandin, Reply


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("agentproto"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, '{"primary": "stand/m1", "fallbacks": ["stand/m2"]}',
                  models=[{"id": "m1", "name": "Model One", "contextWindow": 64000}])
    with running(env.gateway(), port):
        yield env, port


def collect(ws: RawWs, req_id: str, timeout: float = 20) -> tuple[list[dict], list[dict]]:
    """Every frame until the final `res` of `req_id` (the first may be the `accepted` one): (responses, events)."""
    responses, events = [], []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = ws.recv(timeout=timeout)
        if msg.get("type") == "event":
            events.append(msg)
        elif msg.get("id") == req_id:
            responses.append(msg)
            if not (msg.get("ok") and msg["payload"].get("status") == "accepted"):
                return responses, events
    raise AssertionError("no final response")


def test_agent_is_two_stage_and_streams(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    model.script(Reply(text="Hello from the stand-in model.", chunk=5))
    ws, hello = handshake(port, env.token(), scopes=["operator.write", "operator.read"])
    assert hello["snapshot"]["sessionDefaults"]["modelConfigured"] is True
    ws.send({"type": "req", "id": "a1", "method": "agent",
             "params": {"message": "hi", "idempotencyKey": "run-1", "sessionKey": "agent:main:main", "deliver": False}})
    responses, events = collect(ws, "a1")
    accepted, final = responses
    assert accepted["payload"]["status"] == "accepted" and accepted["payload"]["runId"] == "run-1"
    assert final["payload"]["status"] == "ok" and final["payload"]["summary"] == "completed"
    assert final["payload"]["result"]["payloads"] == [{"text": "Hello from the stand-in model.", "mediaUrl": None}]
    agent_events = [e["payload"] for e in events if e["event"] == "agent"]
    assert agent_events[0]["stream"] == "lifecycle" and agent_events[0]["data"]["phase"] == "start"
    assert agent_events[-1]["data"]["phase"] == "end"
    assert [e["seq"] for e in agent_events] == list(range(1, len(agent_events) + 1))
    chat = [e["payload"] for e in events if e["event"] == "chat"]
    deltas = [c for c in chat if c["state"] == "delta"]
    assert "".join(c["deltaText"] for c in deltas) == "Hello from the stand-in model."
    assert deltas[-1]["message"]["content"][0]["text"] == "Hello from the stand-in model."
    assert chat[-1]["state"] == "final"
    assert chat[-1]["message"]["content"][0]["text"] == "Hello from the stand-in model."
    waited = ws.request("agent.wait", {"runId": "run-1", "timeoutMs": 1000}, req_id="w")
    assert waited["payload"]["status"] == "ok"
    ws.close()


def test_chat_deltas_are_paced_agent_events_are_not(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    text = "one two three four five six seven eight nine ten"
    model.script(Reply(text=text, chunk=2, delay_s=0.01))  # 24 pieces over ~250 ms
    ws, _ = handshake(port, env.token(), scopes=["operator.write", "operator.read"])
    ws.send({"type": "req", "id": "p1", "method": "agent",
             "params": {"message": "count", "idempotencyKey": "run-paced", "sessionKey": "agent:main:paced"}})
    _, events = collect(ws, "p1")
    assistant = [e for e in events if e["event"] == "agent" and e["payload"]["stream"] == "assistant"]
    deltas = [e["payload"] for e in events if e["event"] == "chat" and e["payload"]["state"] == "delta"]
    # agent events relay what each read from the provider brought (a piece, or several that arrived
    # together), unpaced; chat deltas come one per 75 ms at most, the rest flushed at the end
    assert "".join(e["payload"]["data"]["delta"] for e in assistant) == text
    assert len(deltas) <= len(assistant) <= (len(text) + 1) // 2 and 2 <= len(deltas) <= 8
    assert "".join(d["deltaText"] for d in deltas) == text and deltas[-1]["message"]["content"][0]["text"] == text
    ws.close()


def test_chat_send_history_and_abort(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui",
                      scopes=["operator.write", "operator.read"])
    model.script(Reply(text="noted"))
    sent = ws.request("chat.send", {"sessionKey": "agent:main:chat-test", "message": "remember tea",
                                    "idempotencyKey": "c-1"}, req_id="s1")
    assert sent["payload"]["status"] == "accepted" and sent["payload"]["sessionKey"] == "agent:main:chat-test"
    wait_for(lambda: ws.recv().get("payload", {}).get("state") == "final", what="chat final")
    history = ws.request("chat.history", {"sessionKey": "agent:main:chat-test"}, req_id="h")["payload"]
    assert [(m["role"], m["content"][0]["text"]) for m in history["messages"]] == [("user", "remember tea"),
                                                                                   ("assistant", "noted")]
    model.script(Reply(text="z" * 500, delay_s=0.05, chunk=2))
    ws.request("chat.send", {"sessionKey": "agent:main:chat-test", "message": "ramble", "idempotencyKey": "c-2"},
               req_id="s2")
    wait_for(lambda: ws.recv().get("payload", {}).get("state") == "delta", what="streaming")
    aborted = ws.request("chat.abort", {"sessionKey": "agent:main:chat-test"}, req_id="x")
    assert aborted["payload"]["aborted"] is True and aborted["payload"]["runIds"] == ["c-2"]
    wait_for(lambda: ws.recv().get("payload", {}).get("state") == "aborted", what="aborted event")
    ws.close()


def test_sessions_methods(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), scopes=["operator.admin"])
    for n in range(2):
        ws.send({"type": "req", "id": f"r{n}", "method": "agent",
                 "params": {"message": f"turn {n}", "idempotencyKey": f"sess-{n}", "sessionKey": "agent:main:ops"}})
        collect(ws, f"r{n}")
    listed = ws.request("sessions.list", {}, req_id="l")["payload"]
    ops = next(s for s in listed["sessions"] if s["key"] == "agent:main:ops")
    assert ops["entries"] == 4 and ops["inputTokens"] > 0 and listed["path"].endswith("sessions.sqlite")
    preview = ws.request("sessions.preview", {"keys": ["agent:main:ops", "agent:main:nope"], "limit": 2}, req_id="p")
    previews = {p["key"]: p for p in preview["payload"]["previews"]}
    assert [i["text"] for i in previews["agent:main:ops"]["items"]] == ["turn 1", "echo: turn 1"]
    assert previews["agent:main:nope"]["status"] == "missing"
    old_id = ops["sessionId"]
    reset = ws.request("sessions.reset", {"key": "agent:main:ops"}, req_id="rs")["payload"]
    assert reset["ok"] and reset["sessionId"] != old_id
    compacted = ws.request("sessions.compact", {"key": "agent:main:ops"}, req_id="c")["payload"]
    assert compacted["ok"] is True
    assert ws.request("sessions.delete", {"key": "agent:main:ops"}, req_id="d")["payload"]["deleted"] is True
    ws.close()


def test_agents_models_and_identity(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    agents = ws.request("agents.list", {}, req_id="a")["payload"]
    assert agents["defaultId"] == "main" and agents["mainKey"] == "main" and agents["scope"] == "per-sender"
    assert agents["agents"][0]["model"] == {"primary": "stand/m1", "fallbacks": ["stand/m2"]}
    models = {m["id"]: m for m in ws.request("models.list", {}, req_id="m")["payload"]["models"]}
    assert models["stand/m1"]["tags"] == ["default"] and models["stand/m1"]["name"] == "Model One"
    assert models["stand/m1"]["contextWindow"] == 64000 and models["stand/m2"]["tags"] == ["fallback"]
    identity = ws.request("agent.identity.get", {}, req_id="i")["payload"]
    assert identity == {"agentId": "main", "name": "OpenClaw", "nameSource": "workspace"}
    health = ws.request("health", req_id="h")["payload"]
    assert health["modelRuntime"]["model"] == "stand/m1" and health["modelRuntime"]["keyPresent"] is True
    denied = ws.request("agent", {"message": "/new", "idempotencyKey": "n"}, req_id="n")
    assert denied["error"]["details"]["code"] == "MISSING_SCOPE"
    ws.close()


def test_without_a_model_the_agent_method_says_so(started: tuple[Env, int, Gateway]) -> None:
    env, port, _ = started
    ws, _ = handshake(port, env.token(), scopes=["operator.write"])
    res = ws.request("agent", {"message": "hi", "idempotencyKey": "x"}, req_id="x")
    assert res["error"]["code"] == "UNAVAILABLE" and "no model is configured" in res["error"]["message"]
    ws.close()
