"""The assistant from the command line: `openclaw agent` (through the gateway and --local),
`openclaw sessions`, `openclaw models list|status|set`, the model in `status`/`health`, and doctor's
model checks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from helpers import Env, free_base, make_env
from model_standin import ModelStandin, Reply


def configure(env: Env, model: ModelStandin, profile: str | None = None) -> None:
    prefix = ["--profile", profile] if profile else []
    provider = {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 10,
                "models": [{"id": "m1", "name": "Model One", "contextWindow": 64000}]}
    env.cli(*prefix, "config", "set", "models.providers.stand", json.dumps(provider), check=True)
    env.cli(*prefix, "config", "set", "agents.defaults.model", "stand/m1", check=True)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("agentcli"))
    port = free_base()
    env.setup(None, port)
    configure(env, model)
    gateway = env.gateway().start()
    try:
        gateway.wait_healthy(port)
        yield env, port
    finally:
        gateway.stop()


def test_agent_through_the_gateway(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    proc = env.cli("agent", "--message", "good morning", check=True)
    assert proc.stdout.strip() == "echo: good morning"
    model.script(Reply(text="Second answer."))
    reply = env.cli_json("agent", "-m", "and again")
    assert reply["status"] == "ok" and reply["result"]["payloads"] == [{"text": "Second answer."}]
    meta = reply["result"]["meta"]["agentMeta"]
    assert meta["model"] == "stand/m1" and meta["usage"]["total"] == 18
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


def test_sessions_lists_what_the_gateway_wrote(gw: tuple[Env, int]) -> None:
    env, _ = gw
    env.cli("agent", "-m", "for the list", "--session-key", "agent:main:listed", check=True)
    listed = env.cli_json("sessions")
    keys = {s["key"]: s for s in listed["sessions"]}
    assert keys["agent:main:listed"]["entries"] == 2 and keys["agent:main:listed"]["agentId"] == "main"
    table = env.cli("sessions", check=True).stdout
    assert "agent:main:listed" in table and "KEY" in table
    assert env.cli_json("sessions", "--agent", "other")["count"] == 0


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
    env.setup(None, base)
    configure(env, model)
    model.script(Reply(text="Local reply."))
    proc = env.cli("agent", "--local", "-m", "offline?", check=True)
    assert proc.stdout.strip() == "Local reply."
    [session] = env.cli_json("sessions")["sessions"]
    assert session["key"] == "agent:main:main" and session["entries"] == 2 and session["totalTokens"] == 18
    assert (env.state_dir() / "agents/main/agent/sessions.sqlite").exists()


def test_models_list_status_and_set(env: Env, base: int, model: ModelStandin) -> None:
    env.setup(None, base)
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
    assert env.config()["agents"]["defaults"]["model"] == "anthropic/claude-x"


def doctor(env: Env, extra_env: dict[str, str] | None = None) -> dict:
    return json.loads(env.cli("doctor", "--json", extra_env=extra_env).stdout)


def test_doctor_checks_models_resolve_and_have_keys(env: Env, base: int, model: ModelStandin) -> None:
    env.setup(None, base)
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
