"""The same flags and payloads mean what they mean upstream: `agent --session-id`, `agent --json`,
the `chat`/`agent` events of a streamed and a stopped turn, `gateway.mode=remote`, and an upstream
gateway's runtime in `gateway status`.

Upstream's side is recorded in tests/fixtures/upstream-turns/agent-turns.json (its 2026.9.6 gateway with a
stand-in model); `gateway status` against upstream's running gateway is in tests/test_mixed_host.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, RawWs, free_base, handshake, make_env, running, wait_for
from model_standin import ModelStandin, Reply

UPSTREAM_TURNS = json.loads((Path(__file__).parent / "fixtures" / "upstream-turns" / "agent-turns.json").read_text())

# What upstream's `agent --json` has and ours leaves out, for want of the data: prices, context
# budgets, credential provenance, skills, per-file prompt sizes, harness and liveness internals.
OMITTED = {
    "result.meta.agentMeta.contextTokens", "result.meta.agentMeta.contextTokensSource",
    "result.meta.agentMeta.agentHarnessId", "result.meta.agentMeta.credentialSource",
    "result.meta.agentMeta.contextBudgetStatus", "result.meta.agentMeta.codeModeEngaged",
    "result.meta.agentMeta.bridgeCalls", "result.meta.agentMeta.terminalReceipt",
    "result.meta.systemPromptReport.bootstrapMaxChars", "result.meta.systemPromptReport.bootstrapTotalMaxChars",
    "result.meta.systemPromptReport.bootstrapTruncation", "result.meta.systemPromptReport.sandbox",
    "result.meta.systemPromptReport.systemPrompt.hash",
    "result.meta.systemPromptReport.systemPrompt.projectContextChars",
    "result.meta.systemPromptReport.systemPrompt.nonProjectContextChars",
    "result.meta.systemPromptReport.injectedWorkspaceFiles[].rawChars",
    "result.meta.systemPromptReport.injectedWorkspaceFiles[].truncated",
    "result.meta.systemPromptReport.tools.listChars", "result.meta.systemPromptReport.tools.schemaChars",
    "result.meta.systemPromptReport.tools.entries[].summaryChars",
    "result.meta.systemPromptReport.tools.entries[].summaryHash",
    "result.meta.systemPromptReport.tools.entries[].schemaChars",
    "result.meta.systemPromptReport.tools.entries[].schemaHash",
    "result.meta.systemPromptReport.tools.entries[].propertiesCount",
    "result.meta.systemPromptReport.currentTurn", "result.meta.finalAssistantRawText",
    "result.meta.replayInvalid", "result.meta.livenessState", "result.meta.requestShaping",
    "result.sourceReplyDeliveryState",
}


def paths_of(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value (`a.b`, list items as `a[]`), the containers' own included."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out |= {path} | paths_of(item, path)
    elif isinstance(value, list):
        for item in value:
            out |= paths_of(item, f"{prefix}[]")
    return out


def upstream_keys(event: str, kind: str, key: str = "stream") -> set[str]:
    """The payload keys upstream sends on `event` of this stream (agent) or state (chat)."""
    found = [e["payload"] for e in UPSTREAM_TURNS["chatSendEvents"] + UPSTREAM_TURNS["chatSendStoppedEvents"]
             if e["event"] == event and e["payload"].get(key) == kind]
    assert found, f"no upstream {event} {kind} recorded"
    return set().union(*(set(p) for p in found))


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("semantics"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])
    with running(env.gateway(), port):
        yield env, port


def sessions(env: Env) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in env.cli_json("sessions")["sessions"]}


def test_session_id_runs_on_an_explicit_session_as_upstream(gw: tuple[Env, int]) -> None:
    env, _ = gw
    first = env.cli_json("agent", "-m", "one", "--session-id", "Xone")
    assert first["result"]["meta"]["agentMeta"]["sessionId"] == "Xone"
    assert first["result"]["meta"]["agentMeta"]["sessionFile"] == "agent:main:explicit:xone"
    env.cli("agent", "-m", "two", "--session-id", "Xone", check=True)  # found again by its id
    assert sessions(env)["agent:main:explicit:xone"]["sessionId"] == "Xone"
    assert sessions(env)["agent:main:explicit:xone"]["entries"] == 4
    assert "agent:main:main" not in sessions(env)
    # an id that is a whole key is still just an id; with a key, the key wins and a new session takes the id
    full = env.cli_json("agent", "-m", "three", "--session-id", "agent:main:Foo")
    assert full["result"]["meta"]["agentMeta"]["sessionFile"] == "agent:main:explicit:agent:main:foo"
    both = env.cli_json("agent", "-m", "four", "--session-id", "Q9", "--session-key", "agent:main:kk")
    assert (both["result"]["meta"]["agentMeta"]["sessionFile"], sessions(env)["agent:main:kk"]["sessionId"]) == (
        "agent:main:kk", "Q9")
    # the existing session with that id, whatever its key
    again = env.cli_json("agent", "-m", "five", "--session-id", "Q9")
    assert again["result"]["meta"]["agentMeta"]["sessionFile"] == "agent:main:kk"
    for case in UPSTREAM_TURNS["sessionIdRouting"][:4:2]:  # the recorded rule, where it names no earlier session
        assert sessions(env)[case["sessionKey"]]["sessionId"] == case["sessionId"]


def test_session_id_through_the_gateway_method(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), scopes=["operator.write", "operator.read"])
    ws.send({"type": "req", "id": "a", "method": "agent",
             "params": {"message": "hi", "sessionId": "Viaws", "idempotencyKey": "sid-ws"}})
    accepted = ws.recv()
    while accepted.get("type") != "res":
        accepted = ws.recv()
    assert accepted["payload"]["sessionKey"] == "agent:main:explicit:viaws"
    final = ws.recv(timeout=30)  # the run's own answer: nothing of it reaches the model after this test
    while final.get("type") != "res" or final.get("id") != "a":
        final = ws.recv(timeout=30)
    assert final["ok"] and final["payload"]["status"] == "ok", final
    ws.close()


def test_session_id_with_local(tmp_path: Path, model: ModelStandin) -> None:
    env = make_env(tmp_path)
    env.provision(None, free_base())
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])
    out = env.cli_json("agent", "--local", "-m", "offline", "--session-id", "Loc1")
    assert out["result"]["meta"]["agentMeta"]["sessionFile"] == "agent:main:explicit:loc1"
    assert sessions(env)["agent:main:explicit:loc1"]["sessionId"] == "Loc1"


def test_agent_json_has_upstreams_fields(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    model.script(Reply(text="Fields."))
    ours = env.cli_json("agent", "-m", "fields please", "--session-key", "agent:main:fields")
    theirs = paths_of(UPSTREAM_TURNS["agentJson"])
    mine = paths_of(ours)
    missing = {p for p in theirs - mine if not any(p == o or p.startswith((o + ".", o + "[]")) for o in OMITTED)}
    assert not missing, f"upstream fields we do not fill: {sorted(missing)}"
    assert not {p for p in OMITTED if p in mine}, "a field listed as omitted is filled now: update OMITTED"
    meta = ours["result"]["meta"]
    assert (meta["agentMeta"]["provider"], meta["agentMeta"]["model"]) == ("stand", "m1")
    assert meta["stopReason"] == "stop" and meta["aborted"] is False and meta["durationMs"] >= 0
    assert meta["agentMeta"]["usage"] == {"input": 11, "output": 7, "cacheRead": 0, "cacheWrite": 0, "total": 18,
                                          "cost": {"total": 0}}
    assert meta["finalPromptText"] == "fields please" and meta["finalAssistantVisibleText"] == "Fields."
    assert meta["executionTrace"]["winnerModel"] == "m1" and meta["completion"]["stopReason"] == "stop"
    assert ours["result"]["payloads"] == [{"text": "Fields.", "mediaUrl": None}]
    assert len(theirs & mine) >= 60


def turn_events(ws: RawWs, until: tuple[str, ...] = ("final", "error", "aborted")) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    def done() -> bool:
        msg = ws.recv(timeout=20)
        if msg.get("type") == "event" and msg["event"] in ("agent", "chat"):
            events.append(msg)
        return msg.get("event") == "chat" and msg["payload"].get("state") in until

    wait_for(done, timeout=30, what="the turn's last chat event")
    return events


def test_chat_and_agent_events_of_a_streamed_turn(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    ui, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui",
                      scopes=["operator.write", "operator.read"])
    watcher, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui", scopes=["operator.read"])
    model.script(Reply(text="Hello there, this is a streamed reply.", chunk=6, delay_s=0.02))
    ui.send({"type": "req", "id": "s", "method": "chat.send",  # every frame read: events may precede the answer
             "params": {"sessionKey": "agent:main:events", "message": "stream", "idempotencyKey": "ev-1"}})
    events = turn_events(ui)
    agent = [e["payload"] for e in events if e["event"] == "agent"]
    chat = [e["payload"] for e in events if e["event"] == "chat"]
    streams = [a["stream"] for a in agent]
    assert {"run_status", "lifecycle", "assistant", "usage"} <= set(streams)
    assert [a["data"]["phase"] for a in agent if a["stream"] == "run_status"] == [
        "preparing_workspace", "preparing_context", "starting_model"]
    assert [a["data"]["phase"] for a in agent if a["stream"] == "lifecycle"] == ["start", "model", "finishing", "end"]
    assert [a["seq"] for a in agent] == list(range(1, len(agent) + 1))
    for payload in agent:  # upstream's keys, each one: sessionId on lifecycle events only
        assert set(payload) == upstream_keys("agent", payload["stream"]) - {"lane"}, payload
        assert payload["isHeartbeat"] is False and payload["agentId"] == "main"
    assert agent[-1]["data"]["stopReason"] == "stop" and agent[-1]["data"]["aborted"] is False
    assert next(a for a in agent if a["stream"] == "usage")["data"] == {"outputTokens": 7}
    status = [c for c in chat if c["state"] == "status"]
    assert [c["phase"] for c in status] == ["preparing_workspace", "preparing_context", "starting_model"]
    for payload in chat:
        assert set(payload) - {"usage"} == upstream_keys("chat", payload["state"], "state") - {"replace"}, payload
    assert chat[-1]["state"] == "final" and chat[-1]["stopReason"] == "stop"
    assert chat[-1]["message"]["content"][0]["text"] == "Hello there, this is a streamed reply."
    # chat seq follows the agent event it comes from, as upstream's
    assert all(c["seq"] in {a["seq"] for a in agent} for c in chat)
    # another (long-lived) operator connection sees the same run's events
    seen = turn_events(watcher)
    assert [e["payload"]["seq"] for e in seen if e["event"] == "agent"] == [a["seq"] for a in agent]
    ui.close()
    watcher.close()


def test_events_of_a_stopped_turn(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    ui, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui",
                      scopes=["operator.write", "operator.read"])
    model.script(Reply(text="z" * 400, chunk=4, delay_s=0.05))
    ui.request("chat.send", {"sessionKey": "agent:main:stopped", "message": "ramble", "idempotencyKey": "ev-2"})
    turn_events(ui, until=("delta",))
    ui.send({"type": "req", "id": "x", "method": "chat.abort", "params": {"sessionKey": "agent:main:stopped"}})
    events = turn_events(ui)
    chat = [e["payload"] for e in events if e["event"] == "chat"]
    end = [e["payload"] for e in events if e["event"] == "agent" and e["payload"]["stream"] == "lifecycle"][-1]
    recorded = UPSTREAM_TURNS["chatSendStoppedEvents"]
    theirs = next(e["payload"] for e in recorded if e["payload"].get("state") == "aborted")
    assert set(chat[-1]) == set(theirs) and chat[-1]["state"] == "aborted" and chat[-1]["stopReason"] == "rpc"
    assert chat[-1]["message"]["content"][0]["text"].startswith("zzzz")
    assert (end["data"]["phase"], end["data"]["status"], end["data"]["aborted"], end["data"]["stopReason"]) == (
        "end", "cancelled", True, "rpc")
    ui.close()


def test_cli_honours_remote_mode(gw: tuple[Env, int], tmp_path: Path) -> None:
    server, port = gw
    client = make_env(tmp_path)  # another host's config: only the remote gateway's URL and token
    client.write_config({"gateway": {"mode": "remote", "remote": {"url": f"ws://127.0.0.1:{port}",
                                                                   "token": server.token()}}})
    health = client.cli_json("health")
    assert health["ok"] is True
    status = client.cli("status", check=True)
    assert f"remote · ws://127.0.0.1:{port} (remote)" in status.stdout
    reply = client.cli_json("agent", "-m", "from afar", "--session-key", "agent:main:remote")
    assert reply["status"] == "ok" and reply["result"]["payloads"][0]["text"] == "echo: from afar"
    assert "agent:main:remote" in sessions(server)
    wrong = make_env(tmp_path / "wrong")
    wrong.write_config({"gateway": {"mode": "remote", "remote": {"url": f"ws://127.0.0.1:{port}", "token": "nope"}}})
    refused = wrong.cli("health")
    assert refused.returncode != 0 and f"ws://127.0.0.1:{port}" in refused.stderr and "Traceback" not in refused.stderr
    bad = make_env(tmp_path / "bad")
    bad.write_config({"gateway": {"mode": "remote", "remote": {"url": "http://example.invalid"}}})
    out = bad.cli("health")
    assert out.returncode == 2 and "gateway.remote.url must start with ws://" in out.stderr


def test_gateway_status_sees_a_foreign_gateways_lock(tmp_path: Path) -> None:
    """A gateway that registers nowhere but in its state-dir lock, written as upstream writes it."""
    env = make_env(tmp_path)
    port = free_base()
    env.provision(None, port)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = Path(f"/proc/{holder.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        lock_dir = env.state_dir() / "tmp" / f"openclaw-{os.getuid()}"
        lock_dir.mkdir(parents=True)
        record = {"pid": holder.pid, "ownerId": "x", "createdAt": "2026-12-02T05:17:24.843Z",
                  "configPath": str(env.config_path()), "stateDir": str(env.state_dir()), "port": port,
                  "startTime": int(start)}
        (lock_dir / "gateway.state.lock").write_text(json.dumps(record, indent=2) + "\n\t\t \t")
        report = json.loads(env.cli("gateway", "status", "--json").stdout)
        assert report["runtime"] == {"status": "running", "pid": holder.pid, "port": port,
                                     "implementation": "upstream"}
        record["startTime"] += 1  # another process that once had this pid: not running
        (lock_dir / "gateway.state.lock").write_text(json.dumps(record))
        assert json.loads(env.cli("gateway", "status", "--json").stdout)["runtime"]["status"] == "stopped"
    finally:
        holder.kill()
        holder.wait()
