"""The methods upstream's clients call beyond chat and sessions, on a real gateway: exec approvals
honoured by the exec tool, system events, workspace files, the agent roster, voice wake words."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, Gateway, free_base, make_env, running, wait_for

from openclaw.client.identity import DeviceIdentity
from openclaw.client.rpc import GatewayCallError, GatewayClient


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int, Gateway]]:
    env = make_env(tmp_path_factory.mktemp("features"))
    port = free_base()
    env.provision(None, port)
    with running(env.gateway(), port) as gw:
        yield env, port, gw


def connect(gateway: tuple[Env, int, Gateway], scopes: list[str] | None = None) -> GatewayClient:
    env, port, _ = gateway
    client = GatewayClient(f"ws://127.0.0.1:{port}", env.token(), identity=DeviceIdentity.generate(), timeout=60,
                           scopes=scopes)
    client.connect()
    return client


@pytest.fixture
def admin(gateway: tuple[Env, int, Gateway]) -> Iterator[GatewayClient]:
    client = connect(gateway)
    yield client
    client.close()


def set_policy(client: GatewayClient, file: dict[str, Any]) -> dict[str, Any]:
    current = client.call("exec.approvals.get")
    return client.call("exec.approvals.set", {"file": file, "baseHash": current["hash"]})


def invoke_in_thread(client: GatewayClient, command: str) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["answer"] = client.call("tools.invoke", {"name": "exec", "args": {"command": command}}, timeout=60)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def pending(reviewer: GatewayClient) -> list[dict[str, Any]]:
    return reviewer.call("exec.approval.list")


@pytest.mark.parametrize("decision", ["allow-once", "deny"])
def test_exec_waits_for_an_operator_decision(gateway: tuple[Env, int, Gateway], admin: GatewayClient,
                                             decision: str) -> None:
    env, _, _ = gateway
    set_policy(admin, {"version": 1, "defaults": {"security": "full", "ask": "always", "askFallback": "deny"}})
    stored = sqlite3.connect(env.state_dir() / "state" / "openclaw.sqlite").execute(
        "SELECT default_ask, agent_count FROM exec_approvals_config WHERE config_key='current'").fetchone()
    assert stored == ("always", 0)  # upstream's row, where upstream's CLI reads it
    reviewer = connect(gateway, ["operator.approvals"])
    marker = Path(admin.call("agents.files.list", {"agentId": "main"})["workspace"]) / f"ran-{decision}"
    thread, out = invoke_in_thread(connect(gateway), f"touch {marker.name} && echo done")
    try:
        waiting = wait_for(lambda: pending(reviewer), timeout=30, what="a pending exec approval")
        assert waiting[0]["request"]["command"].startswith("touch ") and waiting[0]["approvalKind"] == "exec"
        assert not marker.exists()  # nothing runs before the decision
        shown = reviewer.call("exec.approval.get", {"id": waiting[0]["id"][:8]})
        assert shown["allowedDecisions"] == ["allow-once", "allow-always", "deny"]
        assert reviewer.call("exec.approval.resolve", {"id": waiting[0]["id"], "decision": decision}) == {"ok": True}
        thread.join(30)
    finally:
        thread.join(30)
        reviewer.close()
    answer = out["answer"]
    events = [e["event"] for e in reviewer.events]
    assert "exec.approval.requested" in events
    if decision == "allow-once":
        assert answer["ok"] is True and "done" in answer["output"] and marker.exists()
    else:
        assert answer == {"ok": False, "toolName": "exec",
                          "error": {"code": "validation_error", "message": "exec denied by an operator"}}
        assert not marker.exists()
    assert pending(admin) == []


def test_exec_policy_deny_and_allowlist_decide_without_asking(gateway: tuple[Env, int, Gateway],
                                                              admin: GatewayClient) -> None:
    set_policy(admin, {"version": 1, "defaults": {"security": "deny"}})
    refused = admin.call("tools.invoke", {"name": "exec", "args": {"command": "echo hi"}})
    assert refused["ok"] is False and "security=deny" in refused["error"]["message"]
    set_policy(admin, {"version": 1, "defaults": {"security": "allowlist", "ask": "off"},
                       "agents": {"main": {"allowlist": [{"pattern": "echo"}]}}})
    assert admin.call("tools.invoke", {"name": "exec", "args": {"command": "echo listed"}})["ok"] is True
    unlisted = admin.call("tools.invoke", {"name": "exec", "args": {"command": "printf x"}})
    assert unlisted["ok"] is False and "allowlist" in unlisted["error"]["message"]
    with pytest.raises(GatewayCallError, match="changed since"):
        admin.call("exec.approvals.set", {"file": {"version": 1}, "baseHash": "stale"})
    set_policy(admin, {"version": 1, "defaults": {"security": "full", "ask": "off"}})


def test_system_event_is_queued_for_the_main_session(admin: GatewayClient) -> None:
    assert admin.call("system-event", {"text": "deploy finished"}) == {"ok": True}
    assert admin.call("wake", {"mode": "now", "text": "look at the deploy"}) == {"ok": True}
    assert admin.call("status")["queuedSystemEvents"][-2:] == ["deploy finished", "look at the deploy"]
    assert admin.call("set-heartbeats", {"enabled": False}) == {"ok": True, "enabled": False}
    assert admin.call("last-heartbeat") is None
    with pytest.raises(GatewayCallError, match="text required"):
        admin.call("system-event", {"text": "  "})


def test_workspace_files_stay_inside_the_workspace(admin: GatewayClient) -> None:
    listed = admin.call("agents.files.list", {"agentId": "main"})
    assert "AGENTS.md" in {f["name"] for f in listed["files"]}
    written = admin.call("agents.files.set", {"agentId": "main", "name": "NOTES.md", "content": "hello"})
    assert written["file"]["content"] == "hello"
    assert (Path(listed["workspace"]) / "NOTES.md").read_text() == "hello"
    got = admin.call("agents.workspace.get", {"agentId": "main", "path": "NOTES.md"})
    assert got["file"]["encoding"] == "utf8" and got["file"]["content"] == "hello"
    for bad in ("../openclaw.json", "/etc/passwd"):
        with pytest.raises(GatewayCallError, match=r"outside the agent workspace|not a file"):
            admin.call("agents.workspace.get", {"agentId": "main", "path": bad})
    with pytest.raises(GatewayCallError, match="file name"):
        admin.call("agents.files.get", {"agentId": "main", "name": "../openclaw.json"})
    entries = admin.call("agents.workspace.list", {"agentId": "main"})["entries"]
    assert "NOTES.md" in {e["name"] for e in entries}


def test_agents_create_update_delete_write_the_roster(gateway: tuple[Env, int, Gateway], admin: GatewayClient) -> None:
    env, _, _ = gateway
    made = admin.call("agents.create", {"name": "Research Desk"})
    assert made["ok"] and made["agentId"] == "research-desk" and Path(made["workspace"], "AGENTS.md").exists()
    ids = [a["id"] for a in env.config()["agents"]["list"]]
    assert ids == ["main", "research-desk"]
    with pytest.raises(GatewayCallError, match="already exists"):
        admin.call("agents.create", {"name": "research desk"})
    assert admin.call("agents.update", {"agentId": "research-desk", "name": "Desk"}) == {"ok": True,
                                                                                      "agentId": "research-desk"}
    assert env.config()["agents"]["list"][1]["name"] == "Desk"
    wait_for(lambda: "research-desk" in {a["id"] for a in admin.call("agents.list")["agents"]}, timeout=20,
             what="the reloaded roster")
    with pytest.raises(GatewayCallError, match="default agent"):
        admin.call("agents.delete", {"agentId": "main"})
    assert admin.call("agents.delete", {"agentId": "research-desk"})["ok"] is True
    assert [a["id"] for a in env.config()["agents"]["list"]] == ["main"]


def test_voice_wake_words_are_kept(gateway: tuple[Env, int, Gateway], admin: GatewayClient) -> None:
    env, _, _ = gateway
    assert admin.call("voicewake.set", {"triggers": ["hey claw", " "]}) == {"triggers": ["hey claw"]}
    assert admin.call("voicewake.get") == {"triggers": ["hey claw"]}
    assert json.loads((env.state_dir() / "settings" / "voicewake.json").read_text())["triggers"] == ["hey claw"]


def test_read_only_callers_get_no_admin_methods(gateway: tuple[Env, int, Gateway]) -> None:
    reader = connect(gateway, ["operator.read"])
    try:
        assert reader.call("node.list")["nodes"] == []
        for name, params in (("exec.approvals.get", {}), ("fs.listDir", {}), ("agents.files.set",
                             {"agentId": "main", "name": "X.md", "content": ""})):
            with pytest.raises(GatewayCallError, match="missing scope"):
                reader.call(name, params)
    finally:
        reader.close()
    writer = connect(gateway, ["operator.write"])
    try:
        exec_call = writer.call("tools.invoke", {"name": "exec", "args": {"command": "id"}})
        assert exec_call == {"ok": False, "toolName": "exec", "error": {
            "code": "forbidden", "message": "tool 'exec' changes the host: it needs operator.admin"}}
    finally:
        writer.close()
