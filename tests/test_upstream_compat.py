"""Upstream OpenClaw's own CLI against our gateway (skipped when the Node CLI is absent).

Point OPENCLAW_UPSTREAM_BIN at an `openclaw` from npm (Node 24), or put
`openclaw-upstream` on PATH.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Env, free_base, make_env, running, upstream_bin

UPSTREAM = upstream_bin()
pytestmark = [pytest.mark.upstream, pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, dict[str, int]]]:
    env = make_env(tmp_path_factory.mktemp("upstream"))
    ports = {"main": free_base(), "rescue": 0}
    ports["rescue"] = ports["main"] + 200
    gateways = []
    for profile, port in ports.items():
        env.provision(profile, port)
        gateways.append(env.gateway(profile).start())
    try:
        for gw, port in zip(gateways, ports.values(), strict=True):
            gw.wait_healthy(port)
        yield env, ports
    finally:
        for gw in gateways:
            gw.stop()


def upstream(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=120)


def upstream_doctor(env: Env) -> None:
    """Upstream's `doctor --fix` until it completes: when ours made the global store too, the first run
    migrates that one and holds the agent store, asking to be run again."""
    out = ""
    for _ in range(2):
        proc = subprocess.run([UPSTREAM or "", "doctor", "--fix", "--non-interactive"], env=env.vars,
                              capture_output=True, text=True, timeout=400)
        out += proc.stdout + proc.stderr
        if proc.returncode == 0:
            return
    raise AssertionError(f"upstream's doctor did not complete: {out[-3000:]}")


def _json(text: str) -> dict:
    return json.loads(text[text.index("{"):])


@pytest.mark.parametrize("profile", ["main", "rescue"])
def test_upstream_probe_reads_each_instance(pair: tuple[Env, dict[str, int]], profile: str) -> None:
    env, ports = pair
    proc = upstream(env, "--profile", profile, "gateway", "probe", "--json")
    assert proc.returncode == 0, proc.stderr
    data = _json(proc.stdout)
    local = next(t for t in data["targets"] if t["url"] == f"ws://127.0.0.1:{ports[profile]}")
    assert local["connect"]["ok"] is True and local["connect"]["rpcOk"] is True
    assert local["auth"]["capability"] in ("read_only", "admin_capable")


def test_upstream_health_and_status(pair: tuple[Env, dict[str, int]]) -> None:
    env, _ = pair
    health = upstream(env, "--profile", "rescue", "health", "--json")
    assert health.returncode == 0, health.stderr
    assert _json(health.stdout)["ok"] is True
    status = upstream(env, "--profile", "main", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert _json(status.stdout)["sessions"]["count"] == 0
    text = upstream(env, "--profile", "main", "gateway", "status", "--require-rpc")
    assert text.returncode == 0, text.stderr
    assert "Read probe: ok" in text.stdout


def test_upstream_gateway_call(pair: tuple[Env, dict[str, int]]) -> None:
    env, _ = pair
    proc = upstream(env, "--profile", "main", "gateway", "call", "system-presence", "--json")
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout[proc.stdout.index("["):])
    assert any(e.get("reason") == "self" for e in entries)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, model: Any) -> Iterator[tuple[Env, int]]:
    """Our gateway with a model (the stand-in) configured the way upstream's schema accepts too."""
    env = make_env(tmp_path_factory.mktemp("upstream-agent"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])
    with running(env.gateway(), port):
        yield env, port


@pytest.mark.timeout(900)
def test_upstream_agent_turns_through_our_gateway(assistant: tuple[Env, int]) -> None:
    env, _ = assistant
    proc = upstream(env, "agent", "--agent", "main", "--message", "hello from upstream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("echo: hello from upstream")
    reply = upstream(env, "agent", "--session-key", "agent:main:compat", "--message", "as json", "--json")
    assert reply.returncode == 0, reply.stderr
    data = _json(reply.stdout)
    assert data["status"] == "ok" and [p["text"] for p in data["result"]["payloads"]] == ["echo: as json"]
    session_id = data["result"]["meta"]["agentMeta"]["sessionId"]
    # finding a session by its id reads the local agent store, which ours created at schema 0: upstream's
    # CLI asks for its doctor first (which migrates it to 23 beside our running gateway, keeping our rows)
    refused = upstream(env, "agent", "--session-id", session_id, "--message", "same session")
    assert refused.returncode != 0 and "doctor --fix" in refused.stdout + refused.stderr
    upstream_doctor(env)
    again = upstream(env, "agent", "--session-id", session_id, "--message", "same session")  # found by its id
    assert again.returncode == 0, again.stderr
    ours = {s["key"]: s for s in env.cli_json("sessions")["sessions"]}
    assert ours["agent:main:compat"]["entries"] == 4 and not any(":explicit:" in k for k in ours)
    unknown = upstream(env, "agent", "--agent", "nobody", "--message", "hi")
    assert unknown.returncode != 0


@pytest.mark.parametrize("profile", ["main", "rescue"])
def test_upstream_dashboard_opens_our_control_ui(pair: tuple[Env, dict[str, int]], profile: str) -> None:
    env, ports = pair
    proc = upstream(env, "--profile", profile, "dashboard", "--no-open")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Dashboard URL: http://127.0.0.1:{ports[profile]}/" in proc.stdout
    assert "dashboard is unavailable" not in proc.stdout + proc.stderr


def test_upstream_stability_usage_cost_and_status_all(pair: tuple[Env, dict[str, int]]) -> None:
    env, _ = pair
    stability = upstream(env, "--profile", "main", "gateway", "stability")
    assert stability.returncode == 0, stability.stdout + stability.stderr
    assert "gateway.start" in stability.stdout and "Memory: rss=" in stability.stdout
    cost = upstream(env, "--profile", "main", "gateway", "usage-cost", "--days", "7")
    assert cost.returncode == 0 and "Usage cost (7 days)" in cost.stdout, cost.stdout + cost.stderr
    status = upstream(env, "--profile", "main", "status", "--all")
    assert status.returncode == 0, status.stderr
    assert "unknown method" not in status.stdout + status.stderr


def test_upstream_devices_list(pair: tuple[Env, dict[str, int]]) -> None:
    env, _ = pair
    proc = upstream(env, "--profile", "main", "devices", "list")
    assert proc.returncode == 0 and "unknown method" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_upstream_cron_against_ours(pair: tuple[Env, dict[str, int]]) -> None:
    env, _ = pair
    env.cli("--profile", "main", "cron", "add", "--name", "daily-brief", "--cron", "0 9 * * *", "--message", "brief",
            check=True)
    listed = upstream(env, "--profile", "main", "cron", "list")
    assert listed.returncode == 0 and "daily-brief" in listed.stdout, listed.stdout + listed.stderr
    status = upstream(env, "--profile", "main", "cron", "status")
    assert status.returncode == 0 and '"jobs": 1' in status.stdout, status.stdout + status.stderr
    env.cli("--profile", "main", "cron", "rm", "daily-brief", check=True)
