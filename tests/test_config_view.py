"""The typed view of the config: one reading of every key, whichever of upstream's shapes it comes in
(`agents.entries` or `agents.list`, a model as a string or `{primary, fallbacks}`)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import free_base, make_env, running
from model_standin import ModelStandin, Reply

from openclaw.config.view import Config, ModelChoice


def test_an_agent_reads_the_same_from_entries_and_from_the_list() -> None:
    body = {"name": "Ops", "workspace": "/srv/ops", "model": {"primary": "a/x", "fallbacks": ["b/y"]},
            "tools": {"allow": ["read", "exec"], "deny": ["exec"]}, "sandbox": {"mode": "all"}}
    by_entry = Config({"agents": {"entries": {"ops": body}}})
    by_list = Config({"agents": {"list": [{"id": "ops", **body}]}})
    for config, where in ((by_entry, "agents.entries.ops"), (by_list, "agents.list[0]")):
        agent = config.agent("ops")
        assert (agent.name, agent.workspace, agent.where, agent.default) == ("Ops", "/srv/ops", where, True)
        assert config.model_choice("ops") == ModelChoice("a/x", ("b/y",))
        assert config.tool_policy("ops").allow == {"read", "exec"} and config.tool_policy("ops").deny == {"exec"}
        assert config.agent("ops").sandbox == {"mode": "all"} and config.default_agent_id == "ops"


def test_odd_shapes_read_as_absent_and_never_raise() -> None:
    config = Config({"agents": {"defaults": {"model": 7, "maxConcurrent": "many", "timeoutSeconds": 0,
                                             "models": {"a/x": {"alias": "Fast"}, "b/y": "nope"}},
                                "entries": ["not", "an", "object"]},
                     "session": {"dmScope": 3}, "tools": {"allow": "read"}, "canvasHost": "off"})
    assert config.model_choice() == ModelChoice(None) and config.agent_defaults.max_concurrent is None
    assert config.agent_defaults.timeout_s is None  # 0: no limit
    assert config.agent_defaults.aliases == {"fast": "a/x"}
    assert [a.id for a in config.agents] == ["main"] and config.session.dm_scope == "main"
    assert config.tool_policy("main").allow is None and config.canvas.enabled
    assert Config({}).agent_defaults.timeout_s == 172_800.0  # upstream's 48 h when unset


def test_an_agent_declared_in_agents_list_gets_its_workspace_tools_and_model(
        tmp_path: Path, model: ModelStandin) -> None:
    """Through a real gateway: upstream's `agents.list` is read as `agents.entries` is."""
    env = make_env(tmp_path)
    port = free_base()
    env.setup(None, port)
    workspace = tmp_path / "ops-workspace"
    workspace.mkdir()
    (workspace / "SOUL.md").write_text("You are the ops agent from the list.")
    config = env.config()
    config["models"] = {"providers": {"stand": {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 10}}}
    config["agents"] = {"defaults": {**config["agents"]["defaults"], "model": "stand/m1"},
                        "list": [{"id": "ops", "default": True, "workspace": str(workspace), "model": "stand/m-ops",
                                  "tools": {"deny": ["exec", "web_fetch"]}}]}
    env.write_config(config)
    model.replies.clear()
    model.script(Reply(text="ops here"))
    with running(env.gateway(), port):
        out = env.cli("agent", "-m", "who are you?", "--json", check=True)
    body = model.requests()[-1].body
    assert body["model"] == "m-ops"
    assert "You are the ops agent from the list." in body["messages"][0]["content"]
    offered = {t["function"]["name"] for t in body.get("tools", [])}
    assert "read" in offered and not offered & {"exec", "web_fetch"}
    result = json.loads(out.stdout)["result"]
    assert [p["text"] for p in result["payloads"]] == ["ops here"]
    assert (result["meta"]["agentMeta"]["provider"], result["meta"]["agentMeta"]["model"]) == ("stand", "m-ops")


def test_health_and_status_read_the_model_an_upstream_gateway_reports() -> None:
    from openclaw.cli.health_cmd import model_line

    ours = {"configured": True, "model": "openai/gpt-x", "keyPresent": True, "keySource": "env:OPENAI_API_KEY"}
    assert model_line(ours) == "openai/gpt-x · env:OPENAI_API_KEY"
    assert model_line({"model": {"primary": "anthropic/claude", "fallbacks": ["openai/gpt"]}}) == \
        "anthropic/claude (fallbacks: openai/gpt)"
    assert model_line({}, {"sessions": {"defaults": {"model": "openai/gpt-y"}}}) == "openai/gpt-y"
    assert model_line({"primary": "x/y"}) == "x/y"
    assert model_line({}, {}).startswith("none")
