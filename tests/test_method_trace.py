"""Upstream's recorded method calls replayed against our gateway, and what hello-ok advertises.

tests/fixtures/upstream-trace/*.json hold the calls upstream's clients made to upstream's own
gateway (scripts/upstream_trace.py): each is sent to ours as recorded, and must answer `ok` with
the top-level keys upstream's answer had (values may differ). Every advertised method is listed in
docs/compatibility.md; the upstream CLI commands the coverage work is about run against ours too
(skipped without upstream's CLI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, Gateway, free_base, make_env, running, wait_for
from test_upstream_compat import UPSTREAM, upstream

from openclaw.client.identity import DeviceIdentity
from openclaw.client.rpc import GatewayCallError, GatewayClient

ROOT = Path(__file__).resolve().parents[1]
TRACES = sorted((ROOT / "tests/fixtures/upstream-trace").glob("*.json"))
UPSTREAM_METHODS = {line.strip() for line in (ROOT / "tests/fixtures/upstream-methods.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")}
DOC = ROOT / "docs/compatibility.md"
STATUSES = ("full", "partial", "empty")


def _calls() -> list[tuple[str, dict[str, Any]]]:
    """Each recorded (method, params, answer) that upstream answered `ok`, once per distinct call."""
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in TRACES:
        for call in json.loads(path.read_text())["calls"]:
            if call["ok"]:
                key = json.dumps([call["method"], call["params"]], sort_keys=True)
                seen.setdefault(key, (f"{path.stem}:{call['method']}", call))
    return list(seen.values())


CALLS = _calls()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int, Gateway]]:
    env = make_env(tmp_path_factory.mktemp("trace"))
    port = free_base()
    env.provision(None, port)
    with running(env.gateway(), port) as gw:
        yield env, port, gw


@pytest.fixture(scope="module")
def client(gateway: tuple[Env, int, Gateway]) -> Iterator[GatewayClient]:
    env, port, _ = gateway
    with GatewayClient(f"ws://127.0.0.1:{port}", env.token(), identity=DeviceIdentity.generate(),
                       timeout=30) as rpc:
        yield rpc


def test_traces_are_recorded() -> None:
    assert {p.name for p in TRACES} >= {"cli.json"}
    assert len(CALLS) >= 40


@pytest.mark.parametrize("call", [c for _, c in CALLS], ids=[name for name, _ in CALLS])
def test_recorded_call_answers_with_upstreams_keys(client: GatewayClient, call: dict[str, Any]) -> None:
    params = call["params"]
    try:
        answer = client.call(call["method"], params if params is not None else {})
    except GatewayCallError as exc:
        pytest.fail(f"{call['method']} {json.dumps(params)} -> {exc}")
    expected = call["response"]
    if isinstance(expected, dict):
        assert isinstance(answer, dict), answer
        missing = sorted(set(expected) - set(answer))
        assert not missing, f"{call['method']}: missing {missing}"
    elif isinstance(expected, list):
        assert isinstance(answer, list), answer


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|", DOC.read_text(), re.M)
    return dict(rows)


def test_hello_advertises_methods_capabilities_and_events(client: GatewayClient) -> None:
    hello = client.hello
    assert hello is not None
    methods = set(hello["features"]["methods"])
    assert len(methods & UPSTREAM_METHODS) >= 150, len(methods & UPSTREAM_METHODS)
    documented = _documented()
    assert not sorted(methods - set(documented)), "advertised but not in docs/compatibility.md"
    assert not sorted(set(documented) - methods), "in docs/compatibility.md but not advertised"
    assert set(documented.values()) <= set(STATUSES)
    recorded = json.loads((ROOT / "tests/fixtures/upstream-trace/cli.json").read_text())["hello"]
    capabilities = set(hello["features"]["capabilities"])
    assert "published-model-catalog" in capabilities
    assert capabilities <= set(recorded["capabilities"])
    events = set(hello["features"]["events"])
    assert {"exec.approval.requested", "exec.approval.resolved", "voicewake.changed"} <= events
    assert events - {"config.changed"} <= set(recorded["events"])  # config.changed: ours (hot reload)
    assert not sorted(set(recorded["snapshot"]) - set(hello["snapshot"]))


def test_later_hellos_carry_the_health_snapshot(gateway: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gateway

    def health() -> dict[str, Any]:
        with GatewayClient(f"ws://127.0.0.1:{port}", env.token(), identity=DeviceIdentity.generate()) as rpc:
            assert rpc.hello is not None
            snapshot: dict[str, Any] = rpc.hello["snapshot"]["health"]
            return snapshot

    filled = wait_for(health, timeout=20, what="a health snapshot in hello-ok")
    assert filled["ok"] is True and "eventLoop" in filled and filled["defaultAgentId"] == "main"


def test_every_method_unknown_to_us_errors_plainly(client: GatewayClient) -> None:
    with pytest.raises(GatewayCallError, match="unknown method"):
        client.call("no.such.method", {})


# -- upstream's own CLI against ours ------------------------------------------------------------
needs_upstream = pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")

COMMANDS = [
    (["models", "list"], None), (["system", "heartbeat", "last"], None),
    (["system", "event", "--text", "from upstream"], None), (["nodes", "list"], None), (["nodes", "status"], None),
    (["skills", "list"], None), (["approvals", "pending"], None), (["approvals", "get"], None),
    (["plugins", "list"], None), (["cron", "list"], None),
]


@needs_upstream
@pytest.mark.upstream
@pytest.mark.parametrize("args", [a for a, _ in COMMANDS], ids=[" ".join(a) for a, _ in COMMANDS])
def test_upstream_cli_command_against_ours(gateway: tuple[Env, int, Gateway], args: list[str]) -> None:
    env, _, _ = gateway
    proc = upstream(env, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "unknown method" not in out and "missing capability" not in out.lower(), out
