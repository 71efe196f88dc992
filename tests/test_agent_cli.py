"""The assistant from the command line: `openclaw agent` (through the gateway and --local),
`openclaw sessions`, `openclaw models list|status|set`, the model in `status`/`health`, and doctor's
model checks."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator

import pytest
from helpers import PY, Env, free_base, handshake, make_env, running, wait_for
from model_standin import ModelStandin, Reply


def configure(env: Env, model: ModelStandin, profile: str | None = None) -> None:
    env.use_model(model.openai_url, profile=profile,
                  models=[{"id": "m1", "name": "Model One", "contextWindow": 64000}])


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("agentcli"))
    port = free_base()
    env.provision(None, port)
    configure(env, model)
    with running(env.gateway(), port):
        yield env, port


def test_agent_through_the_gateway(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    proc = env.cli("agent", "--message", "good morning", check=True)
    assert proc.stdout.strip() == "echo: good morning"
    model.script(Reply(text="Second answer."))
    reply = env.cli_json("agent", "-m", "and again")
    assert reply["status"] == "ok" and reply["result"]["payloads"] == [{"text": "Second answer.", "mediaUrl": None}]
    meta = reply["result"]["meta"]["agentMeta"]
    assert (meta["provider"], meta["model"], meta["usage"]["total"]) == ("stand", "m1", 18)
    # the same session continues by id: the model sees the earlier turns
    env.cli("agent", "-m", "third", "--session-id", meta["sessionId"], check=True)
    texts = [m["content"] for m in model.requests("openai")[-1].body["messages"] if m["role"] == "user"]
    assert texts[-3:] == ["good morning", "and again", "third"]
    # a fresh session key starts empty
    env.cli("agent", "-m", "alone", "--session-key", "agent:main:cli-other", check=True)
    assert [m["content"] for m in model.requests("openai")[-1].body["messages"] if m["role"] == "user"] == ["alone"]


def test_agent_errors_are_one_clear_line(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    unknown = env.cli("agent", "-m", "hi", "--agent", "nobody")
    assert unknown.returncode != 0 and "nobody" in unknown.stderr and "Traceback" not in unknown.stderr
    model.script(Reply(status=400))
    failed = env.cli("agent", "-m", "hi")
    assert failed.returncode == 1 and "the agent run ended error" in failed.stderr
    down = env.cli("agent", "-m", "hi", "--url", f"ws://127.0.0.1:{port + 7}", "--token", "x")
    assert down.returncode != 0 and "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()) <= 2
    assert env.cli("agent").returncode == 2  # --message is required


def test_agent_selectors_and_message_file(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    env.cli("agent", "-m", "scoped", "--session-key", "incident-42", check=True)  # a bare key: the agent's
    assert "agent:main:incident-42" in {s["key"] for s in env.cli_json("sessions")["sessions"]}
    for args, message in ((["-m", "x", "--to", "  "], "--to is blank"),
                          (["-m", "x", "--agent", "main", "--session-key", "agent:ops:a"], "does not match"),
                          (["-m", "x", "--message-file", "f"], "exactly one of --message or --message-file")):
        proc = env.cli("agent", *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    note = env.root / "task.md"
    note.write_bytes("\ufeffline one\nline two".encode())
    assert env.cli("agent", "--message-file", str(note), check=True).stdout == "echo: line one\nline two\n"
    note.write_bytes(b"\xff\xfe bad")
    assert "not UTF-8" in env.cli("agent", "--message-file", str(note)).stderr


def test_agent_timeout_and_ctrl_c(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    model.script(Reply(text="never finishes", stall_after=1))
    slow = env.cli("agent", "-m", "slow", "--timeout", "1", "--json", "--session-key", "slow")
    assert slow.returncode == 1 and json.loads(slow.stdout)["status"] == "timeout"
    model.script(Reply(text="never finishes", stall_after=1))
    seen = len(model.requests())
    proc = subprocess.Popen([PY, "-m", "openclaw", "agent", "-m", "stop me", "--session-key", "stopped"],
                            env=env.vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(model.requests()) > seen, what="the turn reached the model")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "aborted run" in err
    ws, _ = handshake(gw[1], env.token(), scopes=["operator.write", "operator.read"])
    history = ws.request("chat.history", {"sessionKey": "agent:main:stopped"})["payload"]["messages"]
    assert [m["role"] for m in history] == ["user"]  # stopped before any answer
    ws.close()


def test_sessions_lists_what_the_gateway_wrote(gw: tuple[Env, int]) -> None:
    env, _ = gw
    env.cli("agent", "-m", "for the list", "--session-key", "agent:main:listed", check=True)
    listed = env.cli_json("sessions")
    keys = {s["key"]: s for s in listed["sessions"]}
    assert keys["agent:main:listed"]["entries"] == 2 and keys["agent:main:listed"]["agentId"] == "main"
    table = env.cli("sessions", check=True).stdout
    assert "agent:main:listed" in table and "KEY" in table
    assert env.cli_json("sessions", "--agent", "other")["count"] == 0


def test_agent_local_refuses_beside_a_running_gateway(gw: tuple[Env, int]) -> None:
    env, _ = gw
    proc = env.cli("agent", "--local", "-m", "hi")
    assert proc.returncode == 1 and "owns" in proc.stderr and "run without --local" in proc.stderr


def test_status_and_health_show_the_model(gw: tuple[Env, int]) -> None:
    env, _ = gw
    status = env.cli("status", check=True).stdout
    assert "stand/m1 · config" in status
    health = env.cli("health", check=True).stdout
    assert "Model:" in health and "stand/m1" in health
    runtime = env.cli_json("health")["modelRuntime"]
    assert runtime == {"configured": True, "model": "stand/m1", "fallbacks": [], "keyPresent": True,
                       "keySource": "config"}


def test_agent_local_runs_without_a_gateway(env: Env, base: int, model: ModelStandin) -> None:
    env.provision(None, base)
    configure(env, model)
    model.script(Reply(text="Local reply."))
    proc = env.cli("agent", "--local", "-m", "offline?", check=True)
    assert proc.stdout.strip() == "Local reply."
    [session] = env.cli_json("sessions")["sessions"]
    assert session["key"] == "agent:main:main" and session["entries"] == 2 and session["totalTokens"] == 18
    assert session["model"] == "stand/m1" and session["modelOverride"] is None  # the model that answered
    [row] = [line for line in env.cli("sessions", check=True).stdout.splitlines() if "agent:main:main" in line]
    assert row.split()[:5] == ["agent:main:main", "main", "2", "18", "stand/m1"]
    assert (env.state_dir() / "agents/main/agent/sessions.sqlite").exists()
    asked = len(model.requests())  # chat commands are answered here too, never by the model
    whoami = env.cli("agent", "--local", "-m", "/whoami", check=True).stdout.strip()
    assert whoami == "You are cli on cli (--local); access: operator; session: agent:main:main"
    fresh = env.cli_json("agent", "--local", "-m", "/new")
    assert fresh["result"]["payloads"][0]["text"] == "New session started."
    assert fresh["result"]["meta"]["agentMeta"]["sessionId"] != session["sessionId"]
    assert len(model.requests()) == asked


def test_models_list_status_and_set(env: Env, base: int, model: ModelStandin) -> None:
    env.provision(None, base)
    empty = env.cli_json("models", "status")
    assert empty["default"] == {"configured": False, "model": None, "keyPresent": False}
    assert "Pick one: openclaw models set" in env.cli("models", "status", check=True).stdout
    configure(env, model)
    listed = env.cli_json("models", "list")
    assert listed["models"] == [{"id": "stand/m1", "name": "Model One", "provider": "stand", "available": True,
                                 "contextWindow": 64000, "tags": ["default"]}]
    changed = env.cli_json("models", "set", "anthropic/claude-x")
    assert changed["changed"] and env.config()["agents"]["defaults"]["model"] == "anthropic/claude-x"
    status = env.cli_json("models", "status")
    assert status["default"]["model"] == "anthropic/claude-x" and not status["default"]["keyPresent"]
    anthropic = next(p for p in status["providers"] if p["id"] == "anthropic")
    assert anthropic["keySource"] == "missing (set ANTHROPIC_API_KEY)"
    with_key = env.cli_json("models", "status", extra_env={"ANTHROPIC_API_KEY": "sk-test"})
    assert with_key["default"]["keyPresent"] and with_key["default"]["keySource"] == "env:ANTHROPIC_API_KEY"
    assert "sk-test" not in json.dumps(with_key)
    bad = env.cli("models", "set", "nowhere")
    assert bad.returncode == 2 and "write it as provider/model" in bad.stderr
    before = env.config_path().read_bytes()
    unknown = env.cli("models", "set", "nosuch/model")
    assert unknown.returncode == 2 and unknown.stdout == "" and len(unknown.stderr.strip().splitlines()) == 1
    assert "unknown provider 'nosuch'" in unknown.stderr and "anthropic, ollama, openai, openrouter" in unknown.stderr
    assert env.config_path().read_bytes() == before  # nothing written


def doctor(env: Env, extra_env: dict[str, str] | None = None) -> dict:
    return json.loads(env.cli("doctor", "--json", extra_env=extra_env).stdout)


def test_doctor_checks_models_resolve_and_have_keys(env: Env, base: int, model: ModelStandin) -> None:
    env.provision(None, base)
    configure(env, model)
    assert not [f for f in doctor(env)["findings"] if f["checkId"].startswith("models/")]
    env.cli("config", "set", "agents.defaults.model",
            '{"primary": "openai/gpt-5", "fallbacks": ["zz/nothing", "stand/m1"]}', check=True)
    found = {f["checkId"]: f for f in doctor(env)["findings"]
             if f["checkId"].startswith("models/")}
    assert found["models/no-key"]["severity"] == "error" and "OPENAI_API_KEY" in found["models/no-key"]["fix"]
    assert "'zz/nothing'" in found["models/unresolved"]["message"]
    fixed = doctor(env, {"OPENAI_API_KEY": "sk-x"})
    assert [f["checkId"] for f in fixed["findings"] if f["checkId"].startswith("models/")] == ["models/unresolved"]
