"""A host that runs upstream's gateways beside ours: `gateways`, the planner and `doctor` see them
(their state dirs and state locks, which sit where ours do), and our client commands read an upstream
gateway fully (the real one when upstream is installed; its on-disk traces otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Env, free_base, make_env, tiny_site, upstream_bin, wait_for

from openclaw.ports.footprint import footprint_for
from openclaw.procutil import start_marker

UPSTREAM = upstream_bin()


def _upstream_lock(state: Path, port: int, pid: int) -> None:
    """The state lock upstream's gateway writes (JSON, then padding; `startTime` is the process's start
    in clock ticks), at the path ours uses."""
    lock = state / "tmp" / f"openclaw-{os.getuid()}" / "gateway.state.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "ownerId": "b990bc1f", "cronOwnerProjection": "dynamic-default-v1",
              "createdAt": "2026-11-30T07:57:34.678Z", "configPath": str(state / "openclaw.json"),
              "stateDir": str(state), "port": port, "startTime": int(start_marker(pid) or 1747009)}
    lock.write_text(json.dumps(record, indent=2) + "\n" + " \t" * 40 + "\n")


def test_an_upstream_gateway_on_disk_is_seen_and_planned_around(env: Env, base: int) -> None:
    state = env.home / ".openclaw"
    state.mkdir(mode=0o700)
    (state / "openclaw.json").write_text(json.dumps({"gateway": {"mode": "local", "port": base, "bind": "loopback"}}))
    with tiny_site(b'{"ok":true,"status":"live"}', "application/json", base):  # its port answers /healthz
        _upstream_lock(state, base, os.getpid())  # a live pid that owns the listening port
        rows = env.cli_json("gateways")["instances"]
        upstream = next(r for r in rows if r["profile"] == "default")
        assert upstream["running"] and upstream["healthy"] and upstream["implementation"] == "upstream"
        assert upstream["pid"] == os.getpid() and upstream["collisions"] == []
        assert "default (upstream)" in env.cli("gateways", check=True).stdout
        rescue = env.setup("rescue")["footprint"]
        assert not footprint_for(rescue["base"]).ports() & footprint_for(base).ports()
        findings = json.loads(env.cli("doctor", "--json").stdout)["findings"]
        assert not [f for f in findings if f["checkId"].startswith("ports/")], findings
    _upstream_lock(state, base, 2 ** 22 + 7)  # a dead pid's lock is ignored
    assert not next(r for r in env.cli_json("gateways")["instances"] if r["profile"] == "default")["running"]


@pytest.fixture(scope="module")
def upstream_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int]]:
    if not UPSTREAM:
        pytest.skip("upstream openclaw CLI not installed")
    env = make_env(tmp_path_factory.mktemp("upstreamgw"))
    port = free_base()
    subprocess.run([UPSTREAM, "onboard", "--non-interactive", "--accept-risk", "--skip-daemon", "--skip-health",
                    "--gateway-port", str(port)], env=env.vars, capture_output=True, text=True, timeout=180, check=True)
    proc = subprocess.Popen([UPSTREAM, "gateway", "run"], env=env.vars, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: env.cli("gateway", "status", "--require-rpc").returncode == 0, timeout=120,
                 interval=0.5, what="upstream's gateway ready")
        yield env, port
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_our_cli_reads_an_upstream_gateway_fully(upstream_gateway: tuple[Env, int]) -> None:
    env, port = upstream_gateway
    status = env.cli("gateway", "status", "--require-rpc", check=True).stdout
    assert "RPC probe:          ok" in status and "2026." in status
    assert "Runtime:            running (pid " in status and "upstream OpenClaw)" in status
    runtime = env.cli_json("gateway", "status")["runtime"]
    assert (runtime["status"], runtime["port"], runtime["implementation"]) == ("running", port, "upstream")
    probe = env.cli_json("gateway", "probe")
    target = probe["targets"][0]
    assert target["connect"]["rpcOk"] and target["readProbe"] == "ok" and probe["capability"] != "connect-only"
    health = env.cli("health", check=True).stdout
    assert health.startswith("Gateway:       ok · default · ws://127.0.0.1:")
    overview = env.cli("status", check=True).stdout
    assert f"gateway {port} · browser control {port + 2}" in overview and "up ?" not in overview
    row = next(r for r in env.cli_json("gateways")["instances"] if r["profile"] == "default")
    assert row["running"] and row["implementation"] == "upstream" and row["collisions"] == []
    logs = env.cli("logs", "--limit", "20", check=True).stdout
    assert "[gateway]" in logs and " ? " not in logs
