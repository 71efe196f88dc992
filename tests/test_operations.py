"""Operations upstream's CLI and UI call, through our CLI's `gateway call`: diagnostics.stability,
usage.status, usage.cost (from the sessions' usage log), channels.logout, config.schema and
config.apply."""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from fake_telegram import FakeTelegram, new_bot, start_with_telegram
from helpers import Env, Gateway, free_base, make_env, running, wait_for
from model_standin import ModelStandin


def call(env: Env, method: str, params: dict[str, Any] | None = None, profile: str | None = None) -> Any:
    prefix = ["--profile", profile] if profile else []
    proc = env.cli(*prefix, "gateway", "call", method, "--params", json.dumps(params or {}), check=True)
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("operations"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "M1", "cost": {"input": 3.0, "output": 15.0}}])
    with running(env.gateway(), port):
        yield env, port


def _oversized_preauth_frame(port: int) -> None:
    """A WebSocket upgrade, then one frame header declaring 1 MiB before any handshake."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        sock.recv(4096)
        sock.sendall(bytes([0x81, 0xFF]) + struct.pack("!Q", 1 << 20) + b"\0\0\0\0")
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


def test_diagnostics_stability_records_what_happened(gw: tuple[Env, int]) -> None:
    env, port = gw
    _oversized_preauth_frame(port)
    snap = call(env, "diagnostics.stability", {"limit": 50})
    kinds = [e["type"] for e in snap["events"]]
    assert "gateway.start" in kinds and "payload.large" in kinds and kinds[-1] == "diagnostic.memory.sample"
    assert snap["summary"]["byType"]["payload.large"] >= 1 and snap["summary"]["memory"]["maxRssBytes"] > 10_000_000
    assert snap["capacity"] == 1000 and snap["lastSeq"] >= snap["firstSeq"]
    only = call(env, "diagnostics.stability", {"type": "gateway.start"})
    assert {e["type"] for e in only["events"]} == {"gateway.start"}
    later = call(env, "diagnostics.stability", {"sinceSeq": snap["lastSeq"]})
    assert all(e["seq"] > snap["lastSeq"] for e in later["events"])
    bad = env.cli("gateway", "call", "diagnostics.stability", "--params", '{"limit": 5000}')
    assert bad.returncode != 0 and "limit must be between 1 and 1000" in bad.stderr


def test_usage_cost_counts_tokens_by_day_and_prices_them(gw: tuple[Env, int]) -> None:
    env, _ = gw
    for text in ("one", "two"):
        env.cli("agent", "-m", text, "--json", check=True)
    cost = call(env, "usage.cost", {"days": 7})
    assert cost["totals"]["input"] >= 22 and cost["totals"]["output"] >= 14  # the stand-in's 11 in / 7 out per turn
    totals = cost["totals"]
    assert totals["totalCost"] == pytest.approx(totals["input"] * 3e-6 + totals["output"] * 15e-6)
    assert cost["totals"]["missingCostEntries"] == 0 and cost["daily"][-1]["totalTokens"] > 0
    assert call(env, "usage.status")["providers"] == []
    everyone = call(env, "usage.cost", {"agentScope": "all"})
    assert everyone["totals"]["totalTokens"] == cost["totals"]["totalTokens"]


def test_config_schema_and_apply(gw: tuple[Env, int]) -> None:
    env, _ = gw
    schema = call(env, "config.schema")
    assert {"gateway", "agents", "models", "channels"} <= set(schema["schema"]["properties"])
    current = call(env, "config.get")
    starts = len(call(env, "diagnostics.stability", {"type": "gateway.start"})["events"])
    data = json.loads(current["raw"])
    data.setdefault("logging", {})["level"] = "debug"
    applied = call(env, "config.apply", {"raw": json.dumps(data), "baseHash": current["hash"], "restartDelayMs": 0})
    assert applied["ok"] and applied["restart"]["scheduled"] is True
    assert env.config()["logging"]["level"] == "debug"
    assert env.config()["gateway"]["auth"]["token"] == env.token()  # the redacted secret was kept, not replaced

    def restarted() -> bool:
        try:
            events = call(env, "diagnostics.stability", {"type": "gateway.start"})["events"]
        except AssertionError:  # mid-restart
            return False
        return len(events) > starts and events[-1]["outcome"] == "restarted"

    wait_for(restarted, what="an in-process restart")
    stale = env.cli("gateway", "call", "config.apply", "--params",
                    json.dumps({"raw": "{}", "baseHash": current["hash"]}))
    assert stale.returncode != 0 and "config changed since last load" in stale.stderr
    wait_for(lambda: env.cli("health").returncode == 0, what="healthy after the restart")


def test_channels_logout_forgets_the_bot_token(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg, "logout_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    wait_for(lambda: call(env, "channels.status")["channels"]["telegram"]["connected"], what="telegram connected")
    out = call(env, "channels.logout", {"channel": "telegram"})
    assert out == {"channel": "telegram", "accountId": "default", "cleared": True, "loggedOut": True,
                   "envToken": False}
    assert "botToken" not in env.config()["channels"]["telegram"]
    assert call(env, "channels.status")["channels"]["telegram"]["running"] is False
    again = env.cli("channels", "logout", "telegram", check=True).stdout.strip()
    assert again == "telegram/default had no bot token in the config"
