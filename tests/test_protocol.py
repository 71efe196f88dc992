"""Protocol v4 on the wire: handshake rules, auth, device identity, scopes, methods, HTTP probes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from helpers import Env, Gateway, RawWs, connect_params, free_base, handshake, http_get, make_env, wait_for

from openclaw.client.identity import DeviceIdentity


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int]]:
    """One gateway for the whole module (these tests do not change its state)."""
    env = make_env(tmp_path_factory.mktemp("proto"))
    port = free_base()
    env.provision(None, port)
    gateway = env.gateway(extra_env={"OPENCLAW_TICK_INTERVAL_MS": "300", "OPENCLAW_HANDSHAKE_TIMEOUT_MS": "400"})
    gateway.start()
    try:
        gateway.wait_healthy(port)
        yield env, port
    finally:
        gateway.stop()


def open_ws(port: int, **kw: object) -> RawWs:
    ws = RawWs(port, **kw)  # type: ignore[arg-type]
    return ws


def test_challenge_arrives_first(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    msg = ws.recv()
    assert msg["type"] == "event" and msg["event"] == "connect.challenge" and "seq" not in msg
    assert len(msg["payload"]["nonce"]) == 36 and isinstance(msg["payload"]["ts"], int)
    ws.close()


def test_hello_ok_has_every_required_field(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, payload = handshake(port, env.token(), scopes=["operator.admin"])
    assert payload["type"] == "hello-ok" and payload["protocol"] == 4
    assert {"version", "connId", "bootId"} <= set(payload["server"])
    assert {"health", "status", "system-presence", "config.get", "config.set", "config.patch", "logs.tail"} <= set(
        payload["features"]["methods"]
    )
    assert "tick" in payload["features"]["events"] and "shutdown" in payload["features"]["events"]
    snap = payload["snapshot"]
    assert {"presence", "health", "stateVersion", "uptimeMs"} <= set(snap)
    assert snap["presence"][0]["mode"] == "gateway" and snap["presence"][0]["reason"] == "self"
    assert snap["stateDir"] == str(env.state_dir())  # admin callers see paths
    assert payload["auth"] == {"method": "token", "role": "operator", "scopes": ["operator.admin"]}
    assert payload["policy"]["maxPayload"] == 26214400 and payload["policy"]["maxBufferedBytes"] == 52428800
    assert payload["policy"]["tickIntervalMs"] == 300
    ws.close()


def test_first_frame_not_connect(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    res = ws.request("health")
    assert res["ok"] is False
    assert res["error"] == {"code": "INVALID_REQUEST", "message": "invalid handshake: first request must be connect"}
    assert ws.close_code() == (1008, "invalid handshake: first request must be connect")


def test_first_frame_not_a_request(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    ws.send({"type": "event", "event": "hi"})
    assert ws.close_code() == (1008, "invalid request frame")
    ws = open_ws(port)
    ws.challenge()
    ws.send("not json")
    assert ws.close_code() == (1008, "invalid request frame")


def test_invalid_connect_params(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    res = ws.request("connect", {"minProtocol": 4, "maxProtocol": 4, "client": {"id": "nobody", "version": "1",
                                                                                "platform": "x", "mode": "cli"}})
    assert res["error"]["message"].startswith("invalid connect params: client.id must be one of")
    assert ws.close_code()[0] == 1008


@pytest.mark.parametrize(
    ("token", "message", "code", "reason"),
    [
        ("wrong", "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
         "AUTH_TOKEN_MISMATCH", "token_mismatch"),
        (None, "unauthorized: gateway token missing (use this gateway's gateway.auth.token or pair the device)",
         "AUTH_TOKEN_MISSING", "token_missing"),
    ],
)
def test_shared_token_failures(gw: tuple[Env, int], token: str | None, message: str, code: str, reason: str) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    res = ws.request("connect", connect_params(token))
    assert res["ok"] is False
    err = res["error"]
    assert err["code"] == "INVALID_REQUEST" and err["message"] == message
    assert err["details"]["code"] == code and err["details"]["authReason"] == reason
    assert "recommendedNextStep" in err["details"]
    close_code, close_reason = ws.close_code()
    assert close_code == 1008 and message.startswith(close_reason) and len(close_reason.encode()) <= 120


def test_non_cli_clients_get_the_generic_hint(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    res = ws.request("connect", connect_params("wrong", client_id="gateway-client", mode="backend"))
    assert res["error"]["message"] == "unauthorized: gateway token mismatch (provide gateway auth token)"


def test_protocol_mismatch(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws = open_ws(port)
    ws.challenge()
    res = ws.request("connect", connect_params(env.token(), min_protocol=2, max_protocol=3))
    assert res["error"]["message"] == "protocol mismatch"
    assert res["error"]["details"] == {"code": "PROTOCOL_MISMATCH", "clientMinProtocol": 2, "clientMaxProtocol": 3,
                                       "expectedProtocol": 4, "minimumProbeProtocol": 3}
    assert ws.close_code() == (1002, "protocol mismatch")


def test_probe_clients_may_offer_protocol_3(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, payload = handshake(port, env.token(), mode="probe", min_protocol=3, max_protocol=3)
    assert payload["protocol"] == 4
    ws.close()


def test_oversized_preauth_frame(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws = open_ws(port)
    ws.challenge()
    params = connect_params(env.token())
    params["pad"] = "x" * 70_000
    ws.send({"type": "req", "id": "1", "method": "connect", "params": params})
    assert ws.close_code() == (1009, "preauth payload too large")


def test_large_frames_are_fine_after_auth(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token())
    res = ws.request("health", {"probe": False, "pad": "x" * 100_000})
    assert res["error"]["message"].startswith("invalid health params: unexpected property 'pad'")
    ws.close()


def test_handshake_timeout_closes(gw: tuple[Env, int]) -> None:
    _, port = gw
    ws = open_ws(port)
    ws.challenge()
    started = time.monotonic()
    assert ws.close_code(timeout=5)[0] == 1000
    assert time.monotonic() - started < 3


def device_connect(ws: RawWs, ident: DeviceIdentity, token: str, mutate=None, version: str = "v3") -> dict:  # type: ignore[no-untyped-def]
    challenge = ws.challenge()
    params = connect_params(token, scopes=["operator.read", "operator.write"])
    params["device"] = ident.sign_connect(params, challenge["nonce"], challenge["ts"], version=version)
    if mutate:
        mutate(params)
    return ws.request("connect", params)


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_device_identity_accepted(gw: tuple[Env, int], version: str) -> None:
    env, port = gw
    ws = open_ws(port)
    res = device_connect(ws, DeviceIdentity.generate(), env.token(), version=version)
    assert res["ok"], res
    assert res["payload"]["auth"]["scopes"] == ["operator.read", "operator.write"]
    ws.close()


def _bad_signature(params: dict) -> None:
    params["device"]["signature"] = params["device"]["signature"][:-4] + "AAAA"


def _expired(params: dict) -> None:
    params["device"]["signedAt"] -= 200_000


def _wrong_nonce(params: dict) -> None:
    params["device"]["nonce"] = "not-the-challenge"


def _no_nonce(params: dict) -> None:
    params["device"]["nonce"] = ""


def _wrong_id(params: dict) -> None:
    params["device"]["id"] = "0" * 64


def _bad_key(params: dict) -> None:
    params["device"]["publicKey"] = "abc"


def _scopes_changed(params: dict) -> None:
    params["scopes"] = ["operator.admin"]  # signed payload no longer matches


@pytest.mark.parametrize(
    ("mutate", "message", "code"),
    [
        (_bad_signature, "device signature invalid", "DEVICE_AUTH_SIGNATURE_INVALID"),
        (_scopes_changed, "device signature invalid", "DEVICE_AUTH_SIGNATURE_INVALID"),
        (_expired, "device signature expired", "DEVICE_AUTH_SIGNATURE_EXPIRED"),
        (_wrong_nonce, "device nonce mismatch", "DEVICE_AUTH_NONCE_MISMATCH"),
        (_no_nonce, "device nonce required", "DEVICE_AUTH_NONCE_REQUIRED"),
        (_wrong_id, "device identity mismatch", "DEVICE_AUTH_DEVICE_ID_MISMATCH"),
        (_bad_key, "device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID"),
    ],
)
def test_device_identity_rejections(gw: tuple[Env, int], mutate, message: str, code: str) -> None:  # type: ignore[no-untyped-def]
    env, port = gw
    ws = open_ws(port)
    res = device_connect(ws, DeviceIdentity.generate(), env.token(), mutate)
    assert res["ok"] is False
    assert res["error"]["message"] == message and res["error"]["details"]["code"] == code
    assert ws.close_code() == (1008, message)


def test_missing_scope_and_exempt_health(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, payload = handshake(port, env.token(), scopes=[])
    assert payload["auth"]["scopes"] == []
    assert ws.request("health", req_id="h")["ok"] is True  # health is exempt
    res = ws.request("status", req_id="s")
    assert res["error"] == {"code": "FORBIDDEN", "message": "missing scope: operator.read",
                            "details": {"code": "MISSING_SCOPE", "missingScope": "operator.read",
                                        "requiredScopes": ["operator.read"]}}
    ws.close()
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    res = ws.request("config.set", {"raw": "{}"}, req_id="c")
    assert res["error"]["message"] == "missing scope: operator.admin"
    unknown = ws.request("foo.bar", req_id="u")
    assert unknown["error"] == {"code": "INVALID_REQUEST", "message": "unknown method: foo.bar"}
    ws.close()


def test_write_scope_satisfies_read(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), scopes=["operator.write"])
    assert ws.request("status")["ok"] is True
    ws.close()


def test_invalid_frames_after_auth(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token())
    ws.send({"type": "req", "id": "x1"})
    res = ws.recv_res()
    assert res == {"type": "res", "id": "x1", "ok": False,
                   "error": {"code": "INVALID_REQUEST",
                             "message": "invalid request frame: method must be a non-empty string"}}
    ws.send("{nope")
    res = ws.recv_res()
    assert res["id"] == "invalid" and res["error"]["message"].startswith("invalid request frame: invalid JSON")
    ws.close()


def test_method_payload_shapes(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    health = ws.request("health", req_id="1")["payload"]
    assert health["ok"] is True and health["defaultAgentId"] == "main"
    assert health["agents"][0]["agentId"] == "main" and set(health["sessions"]) == {"path", "count", "recent"}
    status = ws.request("status", {"includeChannelSummary": False, "includeCliProjection": True}, req_id="2")["payload"]
    assert status["channelSummary"] == [] and status["sessions"]["count"] == 0
    assert status["sessions"]["byAgent"][0]["path"] == "[redacted]"  # not admin
    assert status["cliProjection"]["agents"]["defaultId"] == "main"
    presence = ws.request("system-presence", req_id="3")["payload"]
    me = next(p for p in presence if p["reason"] == "self")
    assert me["mode"] == "gateway" and me["text"].startswith("Gateway: ")
    cfg = ws.request("config.get", {}, req_id="4")["payload"]
    assert cfg["path"] == str(env.config_path()) and cfg["exists"] and cfg["valid"]
    assert cfg["config"]["gateway"]["auth"]["token"] == "__OPENCLAW_REDACTED__"
    assert cfg["hash"] and cfg["issues"] == []
    bad = ws.request("config.get", {"x": 1}, req_id="5")
    assert bad["error"]["message"] == "invalid config.get params: unexpected property 'x'"
    tail = ws.request("logs.tail", {"limit": 2}, req_id="6")["payload"]
    assert tail["file"].endswith("gateway.log") and len(tail["lines"]) <= 2 and tail["cursor"] > 0
    more = ws.request("logs.tail", {"cursor": tail["cursor"]}, req_id="7")["payload"]
    assert more["cursor"] >= tail["cursor"] and more["reset"] is False
    ws.close()


def test_ticks_and_per_connection_seq(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws, _ = handshake(port, env.token())
    ticks = [m for m in (ws.recv(timeout=5) for _ in range(3)) if m.get("event") == "tick"]
    seqs = [t["seq"] for t in ticks]
    assert len(ticks) == 3 and seqs == list(range(seqs[0], seqs[0] + 3))
    assert all(isinstance(t["payload"]["ts"], int) for t in ticks)
    ws.close()


def test_ui_clients_appear_in_presence(gw: tuple[Env, int]) -> None:
    env, port = gw
    ui, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui")
    reader, _ = handshake(port, env.token())
    presence = reader.request("system-presence")["payload"]
    assert any(p.get("clientId") == "openclaw-control-ui" for p in presence)
    ui.close()
    wait_for(lambda: not any(p.get("clientId") == "openclaw-control-ui"
                             for p in reader.request("system-presence", req_id=f"p{time.monotonic_ns()}")["payload"]),
             what="presence cleared")
    reader.close()


def test_origin_check(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws = open_ws(port, headers={"Origin": "https://evil.example"})
    ws.challenge()
    res = ws.request("connect", connect_params(env.token()))
    assert res["error"]["details"]["code"] == "CONTROL_UI_ORIGIN_NOT_ALLOWED"
    ok = open_ws(port, headers={"Origin": f"http://127.0.0.1:{port}"})
    ok.challenge()
    assert ok.request("connect", connect_params(env.token()))["ok"]
    ok.close()


def test_http_probes(gw: tuple[Env, int]) -> None:
    _, port = gw
    for path in ("/health", "/healthz"):
        status, headers, body = http_get(port, path)
        assert status == 200 and json.loads(body) == {"ok": True, "status": "live"}
        assert headers["Content-Type"] == "application/json; charset=utf-8" and headers["Cache-Control"] == "no-store"
    status, _, body = http_get(port, "/readyz")
    assert status == 200 and json.loads(body)["ready"] is True and json.loads(body)["failing"] == []
    status, _, body = http_get(port, "/startupz")
    data = json.loads(body)
    assert status == 200 and data["ok"] and data["status"] == "started" and "version" in data
    status, headers, _ = http_get(port, "/healthz", method="HEAD")
    assert status == 200
    status, headers, body = http_get(port, "/healthz", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD" and body == b"Method Not Allowed"
    assert http_get(port, "/healthz/x")[0] == 404
    status, headers, body = http_get(port, "/")  # the Control UI's page; upgrades still reach the protocol
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"assets/app.js" in body


def test_config_set_and_patch_over_rpc(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = make_env(tmp_path_factory.mktemp("cfgrpc"))
    port = free_base()
    env.provision(None, port)
    gateway = env.gateway().start()
    try:
        gateway.wait_healthy(port)
        ws, _ = handshake(port, env.token(), scopes=["operator.admin"])
        current = ws.request("config.get", {}, req_id="g")["payload"]
        no_hash = ws.request("config.patch", {"raw": '{logging: {level: "debug"}}'}, req_id="p0")
        assert no_hash["error"]["message"] == "config base hash required; re-run config.get and retry"
        stale = ws.request("config.patch", {"raw": "{}", "baseHash": "abc"}, req_id="p1")
        assert stale["error"]["message"] == "config changed since last load; re-run config.get and retry"
        patched = ws.request("config.patch", {"raw": '{logging: {level: "debug"}}', "baseHash": current["hash"]},
                             req_id="p2")["payload"]
        assert patched["ok"] and patched["changedPaths"] == ["logging.level"]
        assert patched["restart"]["required"] is False
        on_disk = env.config()
        assert on_disk["logging"]["level"] == "debug"
        assert on_disk["gateway"]["auth"]["token"] == env.token()  # the redacted secret survived
        invalid = ws.request("config.patch", {"raw": '{gateway: {bind: "moon"}}', "baseHash": patched["hash"]},
                             req_id="p3")
        assert invalid["error"]["message"].startswith("invalid config: gateway.bind")
        assert env.config() == on_disk
        # config.set replaces the whole file; the echoed redaction sentinel keeps the real token
        fresh = ws.request("config.get", {}, req_id="g2")["payload"]
        full = dict(fresh["parsed"])
        full["logging"] = {"level": "info"}
        done = ws.request("config.set", {"raw": json.dumps(full), "baseHash": fresh["hash"]}, req_id="s1")["payload"]
        assert done["ok"] and env.config()["logging"]["level"] == "info"
        assert env.config()["gateway"]["auth"]["token"] == env.token()
        log = env.state_dir() / "logs" / "gateway.log"
        wait_for(lambda: "config.set by cli/cli" in log.read_text(), what="write logged")
        ws.close()
    finally:
        gateway.stop()


def test_remote_style_connection_without_device_is_connect_only(gw: tuple[Env, int]) -> None:
    env, port = gw
    ws = open_ws(port, headers={"X-Forwarded-For": "203.0.113.9"})
    ws.challenge()
    res = ws.request("connect", connect_params(env.token(), scopes=["operator.admin"]))
    assert res["ok"] and res["payload"]["auth"]["scopes"] == []
    ws.close()


def test_rate_limit_does_not_apply_to_loopback(gw: tuple[Env, int]) -> None:
    env, port = gw
    for _ in range(12):
        ws = open_ws(port)
        ws.challenge()
        assert ws.request("connect", connect_params("wrong"))["error"]["details"]["code"] == "AUTH_TOKEN_MISMATCH"
        ws.close()
    ws, _ = handshake(port, env.token())
    ws.close()


def test_password_mode(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = make_env(tmp_path_factory.mktemp("pw"))
    port = free_base()
    env.write_config({"gateway": {"mode": "local", "port": port, "auth": {"mode": "password", "password": "hunter2"}}})
    gateway: Gateway = env.gateway().start()
    try:
        gateway.wait_healthy(port)
        ws = open_ws(port)
        ws.challenge()
        res = ws.request("connect", connect_params(None, auth={"password": "nope"}))
        assert res["error"]["message"] == (
            "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)")
        ok = open_ws(port)
        ok.challenge()
        res = ok.request("connect", connect_params(None, auth={"password": "hunter2"}))
        assert res["ok"] and res["payload"]["auth"]["method"] == "password"
        ok.close()
        assert env.cli_json("health")["ok"] is True  # the CLI picks the password from config
    finally:
        gateway.stop()
