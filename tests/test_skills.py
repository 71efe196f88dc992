"""Skills end to end: a real gateway, the model stand-in, `openclaw skills`, and upstream's CLI.

A skill gated off by a missing binary is reported so and kept out of the prompt; one offered is
listed in the system prompt the stand-in receives and read by the stand-in through the read tool
(from the state dir, outside the workspace). Precedence, `skills.update` (enable and env through
the config), the env reaching exec, and a reload after an edit are seen through the gateway.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, free_base, make_env, running, upstream_bin, wait_for
from model_standin import ModelStandin, Reply

from openclaw.client.rpc import GatewayCallError, GatewayClient

UPSTREAM = upstream_bin()


def write_skill(root: Path, folder: str, front: str, body: str) -> Path:
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}\n---\n\n{body}\n")
    return path


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("skills"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])  # as upstream's schema wants
    state, workspace = env.state_dir(), env.state_dir() / "workspace"
    write_skill(state / "skills", "tide-tables", "name: tide-tables\ndescription: Look up high and low tide times",
                "Tide tables live at https://tides.example/{place}. Answer with the next two tides.")
    write_skill(workspace / "skills", "gated",
                'name: gated\ndescription: Needs a tool this host lacks\n'
                'metadata: {"openclaw": {"requires": {"bins": ["no-such-tool-7f3"]}}}', "never offered")
    write_skill(state / "skills", "shadowed", "name: shadowed\ndescription: the state dir copy", "state")
    write_skill(workspace / "skills", "shadowed", "name: shadowed\ndescription: the workspace copy", "workspace")
    with running(env.gateway(), port):
        yield env, port


def rpc(env: Env, port: int, method: str, params: dict[str, Any]) -> Any:
    with GatewayClient(f"ws://127.0.0.1:{port}", env.token(), scopes=["operator.admin", "operator.read"]) as client:
        return client.call(method, params)


def system_prompt(model: ModelStandin, index: int = -1) -> str:
    content = model.requests("openai")[index].body["messages"][0]["content"]
    assert isinstance(content, str)
    return content


def turn(env: Env, text: str) -> None:
    env.cli("agent", "-m", text, "--session-key", "agent:main:skills-test", check=True)


def test_a_gated_skill_is_reported_and_an_offered_one_is_read(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    skills = {s["name"]: s for s in rpc(env, port, "skills.status", {})["skills"]}
    assert skills["gated"]["missing"]["bins"] == ["no-such-tool-7f3"] and not skills["gated"]["eligible"]
    tide = skills["tide-tables"]
    assert tide["eligible"] and tide["modelVisible"] and tide["source"] == "openclaw-managed"
    location = tide["filePath"]
    assert location == str(env.state_dir() / "skills" / "tide-tables" / "SKILL.md")
    model.script(Reply(tool_calls=[("read", {"path": location})]), Reply(text="High tide at noon."))
    turn(env, "when is high tide?")
    prompt = system_prompt(model, -2)
    assert "<available_skills>" in prompt and f"<location>{location}</location>" in prompt
    assert "<name>tide-tables</name>" in prompt and "gated" not in prompt
    tool_message = model.requests("openai")[-1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "Tide tables live at" in tool_message["content"]


def test_precedence_over_the_gateway(gw: tuple[Env, int]) -> None:
    env, port = gw
    report = rpc(env, port, "skills.status", {"agentId": "main"})
    shadowed = next(s for s in report["skills"] if s["name"] == "shadowed")
    assert shadowed["source"] == "openclaw-workspace" and shadowed["description"] == "the workspace copy"
    assert any("takes precedence" in p["message"] for p in report["problems"])
    assert {"workspaceDir", "managedSkillsDir", "agentId", "skills"} <= set(report)
    assert "no-such-tool-7f3" in rpc(env, port, "skills.bins", {})["bins"]
    with pytest.raises(GatewayCallError, match="unknown agent id"):
        rpc(env, port, "skills.status", {"agentId": "nobody"})
    with GatewayClient(f"ws://127.0.0.1:{port}", env.token(), scopes=["operator.read"]) as reader:
        seen = reader.call("skills.status", {})
        assert seen["workspaceDir"] == "[redacted]" and {s["filePath"] for s in seen["skills"]} == {"[redacted]"}
        with pytest.raises(GatewayCallError, match="scope"):
            reader.call("skills.update", {"skillKey": "shadowed", "enabled": False})
        with pytest.raises(GatewayCallError, match="ClawHub"):
            rpc(env, port, "skills.update", {"source": "clawhub", "all": True})


def test_entries_disable_and_give_env_to_commands(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    write_skill(env.state_dir() / "workspace" / "skills", "ledger",
                'name: ledger\ndescription: Keep the household ledger\n'
                'metadata: {"openclaw": {"requires": {"env": ["LEDGER_TOKEN"]}, "primaryEnv": "LEDGER_TOKEN"}}',
                "Run the ledger tool.")

    def ledger() -> dict[str, Any]:
        found = [s for s in rpc(env, port, "skills.status", {})["skills"] if s["name"] == "ledger"]
        return found[0] if found else {"missing": {}}

    wait_for(lambda: ledger()["missing"].get("env") == ["LEDGER_TOKEN"], what="the new skill, needing env")
    answer = rpc(env, port, "skills.update", {"skillKey": "ledger", "apiKey": "tok-991", "env": {"LEDGER_MODE": "x"}})
    assert answer["ok"] and answer["config"]["apiKey"] == "__OPENCLAW_REDACTED__"
    assert env.config()["skills"]["entries"]["ledger"] == {"apiKey": "tok-991", "env": {"LEDGER_MODE": "x"}}
    wait_for(lambda: ledger().get("eligible"), what="the skill eligible once its key is configured")
    model.script(Reply(tool_calls=[("exec", {"command": 'echo "key=$LEDGER_TOKEN mode=$LEDGER_MODE"'})]),
                 Reply(text="ok"))
    turn(env, "what does the ledger say?")
    assert "<name>ledger</name>" in system_prompt(model, -2)
    assert "key=tok-991 mode=x" in model.requests("openai")[-1].body["messages"][-1]["content"]
    rpc(env, port, "skills.update", {"skillKey": "ledger", "enabled": False})
    wait_for(lambda: ledger().get("disabled"), what="the skill disabled")
    turn(env, "and now?")
    assert "<name>ledger</name>" not in system_prompt(model) and "<name>tide-tables</name>" in system_prompt(model)


def test_an_edited_skill_reaches_the_next_turn(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    path = env.state_dir() / "skills" / "tide-tables" / "SKILL.md"
    path.write_text("---\nname: tide-tables\ndescription: Tides for the whole coast, revised\n---\nNew body.\n")

    def revised() -> bool:
        turn(env, "tides?")
        return "Tides for the whole coast, revised" in system_prompt(model)

    wait_for(revised, timeout=20, interval=0.2, what="the revised description in the prompt")


def test_skills_cli_against_the_gateway_and_without_one(gw: tuple[Env, int], tmp_path: Path) -> None:
    env, _ = gw
    listed = env.cli("skills", "list", check=True).stdout
    assert listed.startswith("Skills (") and "△ needs setup" in listed and "✓ ready" in listed
    assert "gated" in listed and "openclaw-managed" in listed
    verbose = env.cli("skills", "list", "--verbose", check=True).stdout
    assert "bins: no-such-tool-7f3" in verbose
    data = env.cli_json("skills", "list", "--eligible")
    assert "gated" not in [s["name"] for s in data["skills"]] and "tide-tables" in [s["name"] for s in data["skills"]]
    info = env.cli("skills", "info", "gated", check=True).stdout
    assert info.startswith("📦 gated △ Needs setup") and "Binaries: ✗ no-such-tool-7f3" in info
    assert env.cli_json("skills", "info", "tide-tables")["source"] == "openclaw-managed"
    missing = env.cli("skills", "info", "nothing-here")
    assert missing.returncode == 1 and "not found" in missing.stderr
    check = env.cli("skills", "check", check=True).stdout
    assert check.startswith("Skills Status Check") and "gated (bins: no-such-tool-7f3)" in check
    summary = env.cli_json("skills", "check")
    assert "gated" in [m["name"] for m in summary["missingRequirements"]] and summary["summary"]["total"] >= 4
    # no gateway on this profile: the same report, computed locally
    other = make_env(tmp_path)
    other.provision(None, free_base())
    write_skill(other.state_dir() / "skills", "local-only", "name: local-only\ndescription: found locally", "x")
    assert "local-only" in [s["name"] for s in other.cli_json("skills", "list")["skills"]]
    down = env.cli("skills", "list", "--url", "ws://127.0.0.1:9", "--token", "x")
    assert down.returncode != 0 and "not reachable" in down.stderr


@pytest.mark.upstream
@pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")
@pytest.mark.timeout(600)
def test_upstream_skills_list_against_ours(gw: tuple[Env, int]) -> None:
    env, _ = gw
    assert UPSTREAM is not None

    def upstream(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=300)

    text = upstream("skills", "list")
    assert text.returncode == 0, text.stdout + text.stderr
    assert "Skills (" in text.stdout and "gated" in text.stdout and "tide-tables" in text.stdout
    proc = upstream("skills", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    gated = next(s for s in data["skills"] if s["name"] == "gated")
    assert gated["eligible"] is False and gated["missing"]["bins"] == ["no-such-tool-7f3"]
    info = upstream("skills", "info", "gated")
    assert info.returncode == 0 and "no-such-tool-7f3" in info.stdout, info.stdout + info.stderr
    check = upstream("skills", "check")
    assert check.returncode == 0 and "Skills Status Check" in check.stdout, check.stdout + check.stderr
