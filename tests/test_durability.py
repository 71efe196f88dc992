"""Nothing acknowledged is lost: device decisions are on disk when answered, every service stops on
every way out, and a Telegram message whose turn was cut by `kill -9` is answered once after restart."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
import statedb
from fake_telegram import FakeTelegram, new_bot, start_with_telegram
from helpers import Env, Gateway, RawWs, connect_params, handshake, port_free, wait_for
from model_standin import ModelStandin, Reply, last_user_text

from openclaw.client.identity import DeviceIdentity

PROXIED = {"X-Forwarded-For": "203.0.113.10"}  # a remote client, as a local proxy reports it


def _ask_for_pairing(port: int, token: str, device: DeviceIdentity) -> str:
    """A remote device connects; its request id (it waits for approval)."""
    ws = RawWs(port, headers=PROXIED)
    try:
        challenge = ws.challenge()
        params = connect_params(token, scopes=["operator.read"])
        params["device"] = device.sign_connect(params, challenge["nonce"], challenge["ts"])
        res = ws.request("connect", params)
    finally:
        ws.close()
    assert not res["ok"] and res["error"]["details"]["code"] == "PAIRING_REQUIRED", res
    return res["error"]["details"]["requestId"]


def _on_disk(state: Path) -> tuple[dict, dict]:
    return statedb.devices(state)


def test_device_decisions_are_on_disk_when_answered(started: tuple[Env, int, Gateway]) -> None:
    """Read the files the moment each answer arrives (over RPC, then through the CLI): they hold it."""
    env, port, _ = started
    admin, _ = handshake(port, env.token(), scopes=["operator.admin"])
    try:
        for i in range(15):
            device = DeviceIdentity.generate()
            request_id = _ask_for_pairing(port, env.token(), device)
            res = admin.request("device.pair.approve", {"requestId": request_id}, req_id=f"a{i}")
            assert res["ok"], res
            pending, paired = _on_disk(env.state_dir())
            assert request_id not in pending, i
            assert paired[device.device_id]["approved_scopes_json"] == '["operator.read"]', i
            assert admin.request("device.pair.remove", {"deviceId": device.device_id}, req_id=f"r{i}")["ok"]
            assert device.device_id not in _on_disk(env.state_dir())[1], i
            request_id = _ask_for_pairing(port, env.token(), device)
            assert admin.request("device.pair.reject", {"requestId": request_id}, req_id=f"j{i}")["ok"]
            assert request_id not in _on_disk(env.state_dir())[0], i
    finally:
        admin.close()
    device = DeviceIdentity.generate()
    request_id = _ask_for_pairing(port, env.token(), device)
    env.cli("devices", "approve", request_id, check=True)
    assert device.device_id in _on_disk(env.state_dir())[1]
    env.cli("devices", "remove", device.device_id, check=True)
    assert device.device_id not in _on_disk(env.state_dir())[1]


def _telegram_gateway(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram, model: ModelStandin,
                      user: int) -> tuple[Gateway, str]:
    token = new_bot(tg, f"durable_{user}")
    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root,
                                                   "dmPolicy": "allowlist", "allowFrom": [str(user)]})
    return gw, token


def _turn_running(env: Env, tg: FakeTelegram, token: str, model: ModelStandin, user: int, text: str) -> dict:
    """`text` sent; returns its update once its turn is waiting on a model that never answers."""
    model.script(Reply(text="this answer never ends", stall_after=0))
    seen = len(model.requests())
    update_id = tg.send_user_message(token, user, text)
    wait_for(lambda: any(last_user_text(s.api, s.body) == text for s in model.requests()[seen:]),
             what="the turn to reach the model")
    pending = json.loads((env.state_dir() / "telegram" / "pending-default.json").read_text())["pending"]
    assert list(pending) == [str(update_id)]  # stored before Telegram was told it was received
    wait_for(lambda: tg.bots[token].polls[-1]["offset"] > update_id, what="the update acknowledged")
    return pending[str(update_id)]


def _answered_once(tg: FakeTelegram, token: str, user: int, text: str) -> None:
    wait_for(lambda: f"echo: {text}" in tg.messages_to(token, user), timeout=30, what="the answer after restart")
    tg.send_user_message(token, user, "and now?")  # one more round trip: a second answer would be here by then
    wait_for(lambda: "echo: and now?" in tg.messages_to(token, user), timeout=30, what="a later answer")
    assert tg.messages_to(token, user) == [f"echo: {text}", "echo: and now?"]


def test_a_turn_cut_by_kill_9_is_answered_once_after_restart(env: Env, base: int, gateways: list[Gateway],
                                                             tg: FakeTelegram, model: ModelStandin) -> None:
    gw, token = _telegram_gateway(env, base, gateways, tg, model, 4101)
    update = _turn_running(env, tg, token, model, 4101, "what did I miss?")
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    tg.bots[token].updates.append(update)  # and Telegram sends it again, as after an unsaved offset
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    _answered_once(tg, token, 4101, "what did I miss?")
    wait_for(lambda: json.loads((env.state_dir() / "telegram" / "pending-default.json").read_text())["pending"] == {},
             what="nothing left pending")
    db = sqlite3.connect(env.state_dir() / "agents/main/agent/sessions.sqlite")
    asked = [r[0] for r in db.execute("SELECT content FROM entries WHERE role = 'user' ORDER BY seq")]
    assert asked == ["what did I miss?", "and now?"]  # the resumed turn did not store its message twice


def test_a_turn_cut_by_a_stop_is_answered_once_after_restart(env: Env, base: int, gateways: list[Gateway],
                                                             tg: FakeTelegram, model: ModelStandin) -> None:
    """SIGTERM while the turn runs: the dispatcher stops before the agents, so the cut turn is not
    taken for answered; the gateway (no cron jobs) says what it stopped and exits at once."""
    gw, token = _telegram_gateway(env, base, gateways, tg, model, 4102)
    _turn_running(env, tg, token, model, 4102, "still there?")
    assert gw.stop() == 0
    log = (env.state_dir() / "logs" / "gateway.log").read_text()
    stopped = next((line for line in log.splitlines() if "stopped: " in line), "")
    assert "channels" in stopped and "message dispatcher" in stopped and "agent runtime" in stopped
    assert "cron" not in stopped  # no jobs: no scheduler, and the dispatcher stopped all the same
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    _answered_once(tg, token, 4102, "still there?")


def _log(env: Env) -> str:
    return (env.state_dir() / "logs" / "gateway.log").read_text()


def test_sigusr1_keeps_the_dispatcher_and_sigint_stops_it(env: Env, base: int, gateways: list[Gateway],
                                                          tg: FakeTelegram, model: ModelStandin) -> None:
    gw, token = _telegram_gateway(env, base, gateways, tg, model, 4103)
    gw.signal(signal.SIGUSR1)
    wait_for(lambda: _log(env).count("listening on ws://") == 2, what="the in-process restart")
    assert "stopped: " not in _log(env)  # a restart keeps the channels and their dispatcher
    tg.send_user_message(token, 4103, "after the restart")
    wait_for(lambda: tg.messages_to(token, 4103) == ["echo: after the restart"], what="an answer after SIGUSR1")
    gw.signal(signal.SIGINT)
    assert gw.wait_exit(timeout=15) == 0
    stopped = [line for line in _log(env).splitlines() if "stopped: " in line]
    assert len(stopped) == 1 and "message dispatcher" in stopped[0] and "channels" in stopped[0], stopped


def test_a_start_that_fails_half_way_stops_what_it_started(env: Env, base: int, gateways: list[Gateway],
                                                          tg: FakeTelegram, model: ModelStandin) -> None:
    """The cron store cannot be written (a folder where jobs.json goes): the gateway was already serving,
    its channels and dispatcher running; all of it stops, the ports are free, and it says why."""
    token = new_bot(tg, "half_way")
    env.provision(None, base)
    env.cli("config", "set", "channels.telegram", json.dumps({"botToken": token, "apiRoot": tg.api_root}), check=True)
    (env.state_dir() / "cron" / "jobs.json").mkdir(parents=True)
    gw = env.gateway().start()
    gateways.append(gw)
    assert gw.wait_exit(timeout=30) == 1
    out = gw.output()
    assert "IsADirectoryError" in out.strip().splitlines()[-1] and "Traceback (most recent" not in out
    log = _log(env)
    assert "gateway failed: IsADirectoryError" in log
    stopped = next((line for line in log.splitlines() if "stopped: " in line), "")
    assert all(name in stopped for name in ("server", "channels", "message dispatcher")), stopped
    assert all(port_free(p) for p in (base, base + 2, base + 4))


def test_nothing_is_acknowledged_while_the_pending_store_cannot_be_written(
        env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram, model: ModelStandin) -> None:
    blocker = env.state_dir() / "telegram" / "pending-default.json"
    blocker.mkdir(parents=True)  # a folder where the file goes: every write fails
    _, token = _telegram_gateway(env, base, gateways, tg, model, 4104)
    update_id = tg.send_user_message(token, 4104, "are you writing this down?")
    wait_for(lambda: "could not write" in (env.cli_json("channels", "status")["channels"]["telegram"]["accounts"]
                                           ["default"].get("lastError") or ""), what="the write error reported")
    assert all(p["offset"] <= update_id for p in tg.bots[token].polls)  # not acknowledged
    assert tg.messages_to(token, 4104) == []
    blocker.rmdir()
    wait_for(lambda: tg.messages_to(token, 4104) == ["echo: are you writing this down?"], timeout=40,
             what="the answer once the store can be written")


def test_a_stop_during_start_closes_what_was_bound(env: Env, base: int, gateways: list[Gateway]) -> None:
    """SIGTERM while the side ports are still being retried (both are taken): the gateway port, already
    bound and serving, is closed with the rest, and the start counts as clean."""
    import socket

    env.provision(None, base)
    taken = []
    for port in (base + 2, base + 4):  # each retried for a second before the start goes on without it
        sock = socket.socket()
        sock.bind(("127.0.0.1", port))
        sock.listen()
        taken.append(sock)
    try:
        gw = env.gateway().start()
        gateways.append(gw)
        wait_for(lambda: "listening on ws://" in gw.output(), what="the gateway port bound")
        gw.signal(signal.SIGTERM)
        assert gw.wait_exit(timeout=15) == 0
    finally:
        for sock in taken:
            sock.close()
    log = _log(env)
    assert "stop requested during startup" in log
    stopped = next((line for line in log.splitlines() if "stopped: " in line), "")
    assert "server" in stopped, stopped
    assert port_free(base) and not list((env.state_dir() / "tmp").glob("openclaw-*/gateway.running"))


def test_bodies_are_read_to_their_end_within_their_bound() -> None:
    """A body that arrives in many small pieces is read whole; one past its bound is refused."""
    import asyncio

    from openclaw.httpbody import BodyTooLarge, read_body, read_prefix

    class Trickle:
        def __init__(self, body: bytes, piece: int = 5) -> None:
            self.body, self.piece, self.at = body, piece, 0

        async def read(self, n: int = -1) -> bytes:
            await asyncio.sleep(0)
            out = self.body[self.at:self.at + min(n, self.piece)]
            self.at += len(out)
            return out

        def at_eof(self) -> bool:
            return self.at >= len(self.body)

    body = b"0123456789" * 100_000  # 1 MB in 5-byte pieces
    assert asyncio.run(read_body(Trickle(body, 4096), len(body))) == body
    assert asyncio.run(read_body(Trickle(b"x" * 1000), 1000)) == b"x" * 1000
    with pytest.raises(BodyTooLarge, match=r"^the body is larger than 1000 bytes$"):
        asyncio.run(read_body(Trickle(b"x" * 1001), 1000))
    assert asyncio.run(read_prefix(Trickle(b"y" * 500), 123)) == (b"y" * 123, False)
    assert asyncio.run(read_prefix(Trickle(b"short"), 123)) == (b"short", True)
