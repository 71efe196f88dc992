"""Devices, channel pairing, the Telegram offset and the gateway-owner lease in upstream's global store
`state/openclaw.sqlite`, with upstream 2026.9.6's rows: real gateways, the fake Bot API, and (when it is
installed) upstream's own gateway on a state dir ours made."""

from __future__ import annotations

import base64
import json
import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
import statedb
from fake_telegram import FakeTelegram, new_bot, replies, start_with_telegram
from helpers import Env, Gateway, RawWs, connect_params, handshake, upstream_bin, wait_for

from openclaw.client.identity import DeviceIdentity
from openclaw.stores import leases
from openclaw.stores.channelstate import fingerprint

PROXIED = {"X-Forwarded-For": "203.0.113.10"}  # a remote client, as a local proxy reports it
UPSTREAM = upstream_bin()


def _public_key(device: DeviceIdentity) -> str:
    return base64.urlsafe_b64encode(device.public_raw).decode().rstrip("=")


def _ask_for_pairing(port: int, token: str, device: DeviceIdentity, scopes: list[str]) -> str:
    ws = RawWs(port, headers=PROXIED)
    try:
        challenge = ws.challenge()
        params = connect_params(token, scopes=scopes)
        params["device"] = device.sign_connect(params, challenge["nonce"], challenge["ts"])
        res = ws.request("connect", params)
    finally:
        ws.close()
    assert not res["ok"] and res["error"]["details"]["code"] == "PAIRING_REQUIRED", res
    return str(res["error"]["details"]["requestId"])


def test_a_device_paired_through_ours_is_in_upstreams_tables(started: tuple[Env, int, Gateway]) -> None:
    env, port, _ = started
    device = DeviceIdentity.generate()
    request_id = _ask_for_pairing(port, env.token(), device, ["operator.read", "operator.write"])
    wait_for(lambda: request_id in statedb.devices(env.state_dir())[0], what="the pending row")
    row = statedb.devices(env.state_dir())[0][request_id]
    assert row["device_id"] == device.device_id and row["public_key"] == _public_key(device)
    assert json.loads(row["roles_json"]) == ["operator"] and row["role"] == "operator"
    assert json.loads(row["scopes_json"]) == ["operator.read", "operator.write"] and row["ts"] > 0
    admin, _ = handshake(port, env.token(), scopes=["operator.admin"])
    try:
        assert admin.request("device.pair.approve", {"requestId": request_id})["ok"]
    finally:
        admin.close()
    pending, paired = statedb.devices(env.state_dir())
    assert request_id not in pending
    mine = paired[device.device_id]
    assert json.loads(mine["roles_json"]) == ["operator"]
    assert json.loads(mine["approved_scopes_json"]) == ["operator.read", "operator.write"]
    assert mine["approved_at_ms"] >= mine["created_at_ms"] > 0 and mine["public_key"] == _public_key(device)
    # a store ours created says version 0, so upstream brings it forward instead of refusing it as incomplete
    assert statedb.rows(env.state_dir(), "PRAGMA user_version") == [(0,)]
    assert statedb.rows(env.state_dir(), "SELECT role, schema_version FROM schema_meta WHERE meta_key = 'primary'") \
        == [("global", 0)]


def test_telegram_pairing_lands_in_channel_pairing_rows(env: Env, base: int, gateways: list[Gateway],
                                                        tg: FakeTelegram) -> None:
    token = new_bot(tg, "store_pairing_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "pairing"})
    tg.send_user_message(token, 4242, "hello", username="stranger")
    code = replies(tg, token, 4242, 1)[0].split("pairing code is ")[1].split()[0]
    [request] = statedb.pairing_requests(env.state_dir())
    assert (request["accountId"], request["id"], request["code"]) == ("default", "4242", code)
    assert request["meta"]["accountId"] == "default"
    assert request["createdAt"].endswith("Z") and len(request["createdAt"]) == len("2026-12-02T05:22:35.452Z")
    env.cli("pairing", "approve", "telegram", code, check=True)
    assert statedb.pairing_requests(env.state_dir()) == []
    assert statedb.allow_entries(env.state_dir()) == ["4242"]
    tg.send_user_message(token, 4242, "/help")
    assert "Operator commands" in replies(tg, token, 4242, 2)[-1]


def test_the_offset_is_where_upstream_keeps_it_and_no_update_is_answered_twice(
        env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg, "store_offset_bot")
    settings = {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "allowlist", "allowFrom": ["961"]}
    gw = start_with_telegram(env, base, gateways, settings)
    handled = tg.send_user_message(token, 961, "/help")
    replies(tg, token, 961, 1)
    wait_for(lambda: (statedb.telegram_offset(env.state_dir()) or {}).get("lastUpdateId") == handled,
             what="the offset row")
    assert statedb.telegram_offset(env.state_dir()) == {
        "version": 3, "lastUpdateId": handled, "botId": token.split(":")[0], "tokenFingerprint": fingerprint(token)}
    assert gw.stop() == 0
    tg.bots[token].updates.insert(0, {"update_id": handled, "message": {  # Telegram offers it again
        "message_id": 1, "date": 0, "text": "/help", "chat": {"id": 961, "type": "private"},
        "from": {"id": 961, "is_bot": False, "first_name": "u"}}})
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    wait_for(lambda: any(p["offset"] == handled + 1 for p in tg.bots[token].polls), what="a poll past the offset")
    tg.send_user_message(token, 961, "/help")
    assert len(replies(tg, token, 961, 2)) == 2  # the re-offered update got no second answer


def _former_files(state: Path, token: str) -> DeviceIdentity:
    creds = state / "credentials"
    creds.mkdir(parents=True, exist_ok=True)
    (creds / "telegram-default-allowFrom.json").write_text(json.dumps({"version": 1, "allowFrom": ["971"]}))
    (creds / "telegram-allowFrom.json").write_text(json.dumps({"version": 1, "allowFrom": ["972", "971"]}))
    (creds / "telegram-allowFrom.json.migrated").write_text("{}")  # an archive of an earlier round trip
    (creds / "telegram-pairing.json").write_text(json.dumps({"version": 1, "requests": [
        {"id": "973", "code": "ABCDEFGH", "createdAt": "2099-01-01T00:00:00.000Z",
         "lastSeenAt": "2099-01-01T00:00:00.000Z", "meta": {"accountId": "default", "username": "later"}}]}))
    device = DeviceIdentity.generate()
    (state / "devices").mkdir(parents=True, exist_ok=True)
    (state / "devices/paired.json").write_text(json.dumps({device.device_id: {
        "deviceId": device.device_id, "publicKey": _public_key(device), "role": "operator",
        "scopes": ["operator.read"], "clientId": "cli", "approvedAtMs": 2, "createdAtMs": 1}}))
    (state / "devices/pending.json").write_text("{}")
    (state / "telegram").mkdir(parents=True, exist_ok=True)
    (state / "telegram/update-offset-default.json").write_text(json.dumps({"version": 1, "lastUpdateId": 5000}))
    return device


def test_former_files_are_imported_once_and_left_migrated(env: Env, base: int, gateways: list[Gateway],
                                                          tg: FakeTelegram) -> None:
    token = new_bot(tg, "store_import_bot")
    env.provision(None, base)
    state = env.state_dir()
    device = _former_files(state, token)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "pairing"})
    wait_for(lambda: any(p["offset"] == 5001 for p in tg.bots[token].polls), what="polling from the imported offset")
    tg.send_user_message(token, 972, "/help")  # approved in the unscoped file: no pairing code
    assert "Operator commands" in replies(tg, token, 972, 1)[-1]
    assert statedb.allow_entries(state) == ["972", "971"]
    assert [(r["id"], r["code"]) for r in statedb.pairing_requests(state)] == [("973", "ABCDEFGH")]
    assert statedb.devices(state)[1][device.device_id]["approved_scopes_json"] == '["operator.read"]'
    left = sorted(p.name for d in ("credentials", "devices", "telegram") for p in (state / d).iterdir()
                  if ".migrated" in p.name)
    assert left == ["paired.json.migrated", "pending.json.migrated", "telegram-allowFrom.json.migrated",
                    "telegram-allowFrom.json.migrated.2", "telegram-default-allowFrom.json.migrated",
                    "telegram-pairing.json.migrated", "update-offset-default.json.migrated"]
    sources = statedb.rows(state, "SELECT source_path, target_table, status, removed_source FROM migration_sources")
    assert {(Path(p).name, t) for p, t, _, _ in sources} >= {
        ("telegram-pairing.json", "channel_pairing_requests"), ("paired.json", "device_pairing_paired"),
        ("telegram-allowFrom.json", "channel_pairing_allow_entries"),
        ("update-offset-default.json", "plugin_state_entries")}
    # once: a file of the old layout written again later is imported again, never an archive
    (state / "credentials/telegram-default-allowFrom.json.migrated").write_text(
        json.dumps({"version": 1, "allowFrom": ["999"]}))
    assert env.cli_json("pairing", "list")["requests"][0]["senderId"] == "973"
    assert statedb.allow_entries(state) == ["972", "971"]


def _newer_store(state: Path) -> None:
    (state / "state").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state / "state/openclaw.sqlite") as db:
        db.execute("PRAGMA user_version = 19")


def test_a_newer_global_store_is_refused_in_one_line(env: Env, base: int) -> None:
    env.provision(None, base)
    _newer_store(env.state_dir())
    gw = env.gateway().start()
    assert gw.wait_exit(60) == 78
    lines = [line for line in gw.output().splitlines() if "schema version 19" in line]
    assert len(lines) == 1 and "newer than this openclaw understands (18)" in lines[0], gw.output()
    listed = env.cli("pairing", "list")
    assert listed.returncode == 78 and listed.stderr.count("\n") == 1 and "schema version 19" in listed.stderr


def _foreign_lease(state: Path, pid: int, ticks: int | None) -> None:
    env_db = state / "state/openclaw.sqlite"
    env_db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(env_db) as db:
        db.executescript(leases.DDL)
        payload = {"owner": {"pid": pid, "host": socket.gethostname(), "startedAt": ticks}, "port": 1,
                   "mode": "foreground", "supervisor": None}
        db.execute("INSERT OR REPLACE INTO state_leases VALUES ('gateway-owner', 'global', 'someone-else', ?, ?, ?,"
                   " ?, ?)", (4102444800000, 1, json.dumps(payload), 1, 1))


def test_the_gateway_owner_lease_refuses_a_second_gateway(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    state = env.state_dir()
    holder = subprocess.Popen(["sleep", "300"])  # a live process holds the lease, as upstream's gateway would
    try:
        _foreign_lease(state, holder.pid, leases.start_ticks(holder.pid))
        refused = env.gateway().start()
        assert refused.wait_exit(60) == 1
        out = refused.output()
        assert f"another OpenClaw gateway (pid {holder.pid}, port 1) owns this state dir" in out, out
    finally:
        holder.kill()
        holder.wait()
    gw = env.gateway().start()  # its holder is dead now: the lease is stale and taken over
    gateways.append(gw)
    gw.wait_healthy(base)
    held = statedb.lease(state)
    assert held is not None and held["payload"]["owner"]["pid"] == gw.pid and held["expiresAt"] is None
    assert held["payload"]["owner"]["startedAt"] == leases.start_ticks(gw.pid) and held["payload"]["port"] == base
    assert gw.stop() == 0
    assert statedb.lease(state) is None  # released at stop


@pytest.mark.upstream
@pytest.mark.timeout(900)  # upstream's gateway starts in tens of seconds to minutes on a loaded host
@pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")
def test_upstream_takes_over_a_state_dir_ours_made_and_each_refuses_the_other(
        env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg, "store_roundtrip_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "pairing"})
    tg.send_user_message(token, 981, "hello")
    code = replies(tg, token, 981, 1)[0].split("pairing code is ")[1].split()[0]
    env.cli("pairing", "approve", "telegram", code, check=True)
    tg.send_user_message(token, 982, "hi")
    replies(tg, token, 982, 1)
    offset = statedb.telegram_offset(env.state_dir())
    assert gateways[-1].stop() == 0
    assert statedb.rows(env.state_dir(), "PRAGMA user_version") == [(0,)]

    log = env.root / "upstream-gateway.log"
    upstream = subprocess.Popen([UPSTREAM, "gateway", "run", "--port", str(base + 50), "--allow-unconfigured"],
                                env={**os.environ, **env.vars, "OPENCLAW_STATE_DIR": str(env.state_dir()),
                                     "OPENCLAW_CONFIG_PATH": str(env.config_path())},
                                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: (statedb.lease(env.state_dir()) or {}).get("owner") is not None or upstream.poll() is not None,
                 timeout=300, interval=1.0, what="upstream's gateway to take the lease")
        assert upstream.poll() is None, log.read_text()
        assert statedb.rows(env.state_dir(), "PRAGMA user_version") == [(18,)]
        assert statedb.allow_entries(env.state_dir()) == ["981"]
        assert [r["id"] for r in statedb.pairing_requests(env.state_dir())] == ["982"]
        assert (statedb.telegram_offset(env.state_dir()) or {}).get("lastUpdateId", 0) >= offset["lastUpdateId"]
        held = statedb.lease(env.state_dir())
        assert held is not None
        node_pid = held["payload"]["owner"]["pid"]
        with sqlite3.connect(env.state_dir() / "state/openclaw.sqlite", isolation_level=None) as db:
            db.execute("BEGIN IMMEDIATE")
            owner, holder = leases.acquire(db, 1)  # our rule, on upstream's live row
            db.execute("ROLLBACK")
        assert owner is None and holder is not None and holder.pid == node_pid
        ours = env.gateway().start()  # refused: by the lock file upstream shares with ours, or the lease
        assert ours.wait_exit(60) == 1
        assert f"pid {node_pid}" in ours.output() and ours.output().count("\n") == 1, ours.output()
    finally:
        os.killpg(upstream.pid, 15)
        upstream.wait(120)
    assert statedb.lease(env.state_dir()) is None
    back = env.gateway().start()
    gateways.append(back)
    back.wait_healthy(base)
    tg.send_user_message(token, 981, "/help")  # still approved after the round trip, and answered once
    assert "Operator commands" in replies(tg, token, 981, 2)[-1]
    assert len(tg.messages_to(token, 981)) == 2 and len(tg.messages_to(token, 982)) == 1
    second = subprocess.run([UPSTREAM, "gateway", "run", "--port", str(base + 50), "--allow-unconfigured"],
                            env={**os.environ, **env.vars}, capture_output=True, text=True, timeout=300)
    assert second.returncode != 0  # ours holds the lease: upstream stays out, saying so
    assert "Another Gateway owner lease is still active" in second.stdout + second.stderr, second.stdout
    assert statedb.lease(env.state_dir())["payload"]["owner"]["pid"] == back.pid  # type: ignore[index]


def _upstream_rows(state: Path, device: DeviceIdentity, token: str) -> None:
    """Rows as upstream 2026.9.6 writes them (docs/upstream-state.md), in a store upstream made (version 18)."""
    from openclaw.stores import channelstate, devices, pairing

    (state / "state").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state / "state/openclaw.sqlite") as db:
        for ddl in (devices.DDL, pairing.DDL, channelstate.DDL):
            db.executescript(ddl)
        tokens = {"operator": {"token": "secret-device-token", "role": "operator", "scopes": ["operator.read"],
                               "createdAtMs": 1796189097665}}
        db.execute("INSERT INTO device_pairing_paired (device_id, public_key, platform, client_id, client_mode, role,"
                   " roles_json, scopes_json, approved_scopes_json, tokens_json, approved_via, created_at_ms,"
                   " approved_at_ms, last_seen_at_ms, last_seen_reason) VALUES (?, ?, 'linux', 'cli', 'cli',"
                   " 'operator', '[\"operator\"]', '[\"operator.read\"]', '[\"operator.read\"]', ?, 'silent', 1, 1, 1,"
                   " 'connect')", (device.device_id, _public_key(device), json.dumps(tokens)))
        db.execute("INSERT INTO channel_pairing_allow_entries VALUES ('telegram', 'default', '991', 0, 1)")
        db.execute("INSERT INTO plugin_state_entries VALUES ('telegram', 'telegram.update-offsets', 'default', ?, 1,"
                   " NULL)", (json.dumps(channelstate.offset_value(7000, token)),))
        db.execute("PRAGMA user_version = 18")


def test_rows_upstream_wrote_are_honoured_and_kept(env: Env, base: int, gateways: list[Gateway],
                                                   tg: FakeTelegram) -> None:
    token = new_bot(tg, "store_upstream_rows_bot")
    env.provision(None, base)
    device = DeviceIdentity.generate()
    _upstream_rows(env.state_dir(), device, token)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "pairing"})
    wait_for(lambda: any(p["offset"] == 7001 for p in tg.bots[token].polls), what="polling past upstream's offset")
    tg.send_user_message(token, 991, "/help")  # approved under upstream: no pairing code
    assert "Operator commands" in replies(tg, token, 991, 1)[-1]
    ws = RawWs(base, headers=PROXIED)  # the device upstream paired connects remotely with what it approved
    try:
        challenge = ws.challenge()
        params = connect_params(env.token(), scopes=["operator.read", "operator.admin"])
        params["device"] = device.sign_connect(params, challenge["nonce"], challenge["ts"])
        res = ws.request("connect", params)
    finally:
        ws.close()
    assert res["ok"] and res["payload"]["auth"]["scopes"] == ["operator.read"], res
    listed = env.cli_json("devices", "list")
    [shown] = [d for d in listed["paired"] if d["deviceId"] == device.device_id]
    assert "secret-device-token" not in json.dumps(listed) and shown["tokens"][0]["role"] == "operator"
    other = DeviceIdentity.generate()  # ours saves the tables: upstream's columns of the other device survive
    env.cli("devices", "approve", _ask_for_pairing(base, env.token(), other, ["operator.read"]), check=True)
    paired = statedb.devices(env.state_dir())[1]
    assert json.loads(paired[device.device_id]["tokens_json"])["operator"]["token"] == "secret-device-token"
    assert paired[device.device_id]["approved_via"] == "silent" and other.device_id in paired
    assert statedb.rows(env.state_dir(), "PRAGMA user_version") == [(18,)]
