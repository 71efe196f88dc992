"""Client commands: health, status, gateway status/probe/call, logs; what happens when the gateway is down."""

from __future__ import annotations

import json

import pytest
from helpers import Env


def test_health_status_and_gateway_status(module_gateway: tuple) -> None:
    env, port, gw = module_gateway
    text = env.cli("health", check=True).stdout
    assert f"ws://127.0.0.1:{port}" in text and "Agents:" in text and "main (default)" in text
    health = env.cli_json("health")
    assert health["ok"] is True and health["gateway"]["port"] == port
    assert env.cli_json("health", "--verbose")["ok"] is True

    status = env.cli("status", check=True).stdout
    assert "OpenClaw status (profile default)" in status
    assert f"ws://127.0.0.1:{port} (config)" in status and "admin-capable" in status
    assert f"gateway {port} · browser control {port + 2} · canvas {port + 4} · CDP {port + 11}-{port + 110}" in status
    data = env.cli_json("status")
    assert data["gateway"]["reachable"] is True and data["self"]["reason"] == "self"
    assert data["status"]["pid"] == gw.pid

    gs = env.cli("gateway", "status", check=True).stdout
    assert "Connectivity probe: ok" in gs and "Capability:         admin-capable" in gs  # as `status` says
    assert env.cli_json("gateway", "status")["rpc"]["capability"] == data["gateway"]["capability"] == "admin-capable"
    assert f"Runtime:            running (pid {gw.pid})" in gs
    gsj = env.cli_json("gateway", "status", "--require-rpc")
    assert gsj["rpc"]["ok"] and gsj["rpc"]["status"]["ok"] and gsj["runtime"]["pid"] == gw.pid


def test_gateway_probe(module_gateway: tuple) -> None:
    env, port, _ = module_gateway
    text = env.cli("gateway", "probe", check=True).stdout
    assert f"Local loopback ws://127.0.0.1:{port}" in text
    assert "Reachable: yes" in text and "Read probe: ok" in text and "Capability: read-only" in text
    data = env.cli_json("gateway", "probe")
    assert data["ok"] is True and data["degraded"] is False and data["capability"] == "read-only"
    target = data["targets"][0]
    assert target["connect"] == {"ok": True, "rpcOk": True, "scopeLimited": False,
                                 "latencyMs": target["connect"]["latencyMs"]}
    assert target["self"]["mode"] == "gateway"


def test_gateway_call(module_gateway: tuple) -> None:
    env, port, _ = module_gateway
    out = json.loads(env.cli("gateway", "call", "health", check=True).stdout)
    assert out["ok"] is True
    tail = json.loads(env.cli("gateway", "call", "logs.tail", "--params", '{"limit": 1}', check=True).stdout)
    assert len(tail["lines"]) == 1
    unknown = env.cli("gateway", "call", "nope.method")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "nope.method failed: INVALID_REQUEST: unknown method: nope.method"
    bad = env.cli("gateway", "call", "health", "--params", "{oops")
    assert bad.returncode == 1 and "--params is not valid JSON" in bad.stderr
    wrong = env.cli("gateway", "call", "health", "--url", f"ws://127.0.0.1:{port}", "--token", "nope")
    assert wrong.returncode == 1 and "refused the connection: unauthorized: gateway token mismatch" in wrong.stderr
    explicit = env.cli("gateway", "call", "health", "--url", f"ws://127.0.0.1:{port}", "--token", env.token(),
                       check=True)
    assert json.loads(explicit.stdout)["ok"] is True


@pytest.mark.parametrize(
    "args",
    [["health"], ["status"], ["gateway", "status"], ["gateway", "probe"], ["gateway", "call", "health"], ["logs"]],
)
def test_down_gateway_gets_one_line(env: Env, base: int, args: list[str]) -> None:
    env.provision("rescue", base)
    proc = env.cli("--profile", "rescue", *args)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"gateway not reachable at ws://127.0.0.1:{base} (connection refused); "
        "start it with: openclaw --profile rescue gateway"
    ]
    assert proc.stdout == ""


def test_down_gateway_json_envelope(env: Env, base: int) -> None:
    env.provision(None, base)
    proc = env.cli("health", "--json")
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["ok"] is False and payload["error"]["type"] == "cli_error"
    assert f"ws://127.0.0.1:{base}" in payload["error"]["message"]


def test_explicit_url_down(env: Env, base: int) -> None:
    proc = env.cli("health", "--url", f"ws://127.0.0.1:{base}")
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"gateway not reachable at ws://127.0.0.1:{base} (connection refused); is it running?"
    bad = env.cli("health", "--url", "http://x")
    assert bad.returncode == 2 and "--url must start with ws://" in bad.stderr


def test_status_for_dev_profile_uses_19001(env: Env) -> None:
    proc = env.cli("--dev", "status")
    assert proc.returncode == 1 and "ws://127.0.0.1:19001" in proc.stderr and "openclaw --dev gateway" in proc.stderr


def test_hints_for_a_hand_isolated_instance_carry_its_environment(env: Env, base: int) -> None:
    state = env.root / "iso"
    isolated = {"OPENCLAW_STATE_DIR": str(state), "OPENCLAW_CONFIG_PATH": str(state / "rescue.json")}
    setup = env.cli("setup", "--port", str(base), extra_env=isolated, check=True)
    hint = f"OPENCLAW_STATE_DIR={state} OPENCLAW_CONFIG_PATH={state / 'rescue.json'} openclaw gateway"
    assert hint in setup.stdout
    proc = env.cli("status", extra_env=isolated)
    assert proc.returncode == 1 and proc.stderr.strip().endswith(hint)


def test_version_and_help(env: Env) -> None:
    assert env.cli("--version", check=True).stdout.startswith("openclaw ")
    assert "gateways" in env.cli("--help", check=True).stdout
    bad = env.cli("gateway", "--bogus")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--bogus" in bad.stderr


def test_upstreams_log_lines_render_like_ours() -> None:
    from openclaw.logtail import format_log_line

    line = json.dumps({"0": '{"module":"cron","storeKey":"/x/jobs.json"}', "1": {"jobId": "j1", "timerArmed": True},
                       "2": "cron: job added", "_meta": {"logLevelName": "INFO", "date": "2026-11-30T07:56:47.904Z",
                                                         "name": '{"module":"cron","storeKey":"/x/jobs.json"}'},
                       "time": "2026-11-30T07:56:47.904+00:00"})
    assert format_log_line(line) == "07:56:47 info  [cron] cron: job added jobId=j1 timerArmed=True"
    plain = json.dumps({"0": '{"subsystem":"gateway"}', "1": "starting channels", "message": "starting channels",
                        "_meta": {"logLevelName": "WARN", "name": '{"subsystem":"gateway"}'},
                        "time": "2026-11-30T07:56:46.351+00:00"})
    assert format_log_line(plain) == "07:56:46 warn  [gateway] starting channels"
