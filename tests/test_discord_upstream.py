"""Upstream's CLI on an instance with ours' Discord channel: its config and pairing rows are upstream's own."""

from __future__ import annotations

import json
import subprocess

import pytest
from fake_discord import FakeDiscord, new_bot, replies, start_with_discord
from helpers import Env, Gateway, upstream_bin, wait_for

UPSTREAM = upstream_bin()
pytestmark = [pytest.mark.upstream, pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")]
STRANGER = "300000000000000002"


def upstream(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    assert UPSTREAM is not None
    proc = subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


def test_upstream_reads_and_approves_our_discord_pairing(env: Env, base: int, gateways: list[Gateway],
                                                         dc: FakeDiscord) -> None:
    token = new_bot(dc, "shared_bot")
    gw = start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root})
    wait_for(lambda: dc.connected(token), what="the gateway session")
    dc.user_message(token, STRANGER, "hello", username="newcomer")
    dm = dc.dm_channel(STRANGER)
    code = replies(dc, token, dm, 1)[0].split("pairing code is ")[1].split()[0]
    assert gw.stop() == 0
    env.cli("config", "unset", "channels.discord.apiRoot", check=True)  # ours only: upstream refuses it
    assert "Config valid" in upstream(env, "config", "validate").stdout
    listed = json.loads(upstream(env, "pairing", "list", "discord", "--json").stdout)
    assert [(r["id"], r["code"]) for r in listed["requests"]] == [(STRANGER, code)]
    upstream(env, "pairing", "approve", "discord", code)
    assert env.cli_json("pairing", "list", "discord")["requests"] == []
    env.cli("config", "set", "channels.discord.apiRoot", dc.api_root, check=True)
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    wait_for(lambda: dc.connected(token), what="the gateway session")
    dc.user_message(token, STRANGER, "/whoami")
    assert "access: operator" in replies(dc, token, dm, 2)[-1]  # upstream's approval counts here
