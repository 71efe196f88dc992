"""What strangers send: forged origins and hosts, device keys nobody approved, malformed frames and paths."""

from __future__ import annotations

import asyncio
import http.client
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import statedb
from helpers import Env, Gateway, RawWs, connect_params, free_base, handshake, make_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import attacks

from openclaw.client.identity import DeviceIdentity


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int, Gateway]]:
    env = make_env(tmp_path_factory.mktemp("hostile"))
    port = free_base()
    env.provision(None, port)
    gateway = env.gateway().start()
    try:
        gateway.wait_healthy(port)
        yield env, port, gateway
    finally:
        gateway.stop()


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def raw_connect(port: int, params: dict, headers: dict[str, str] | None = None, host: str | None = None) -> dict:
    async def run() -> dict:
        ws = await attacks.RawWs.open(port, headers, host=host)
        await ws.recv_json()
        try:
            return await ws.request("connect", params, req_id="c")
        finally:
            ws.abort()

    return asyncio.run(run())


# -- scopes come from auth, never from a device key ----------------------------------------------
def test_an_unpaired_device_key_never_raises_scopes(gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gw
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    without = raw_connect(port, connect_params(env.token(), scopes=["operator.admin"]), proxied)
    assert without["ok"] and without["payload"]["auth"]["scopes"] == []

    ws = RawWs(port, headers=proxied)
    challenge = ws.challenge()
    params = connect_params(env.token(), scopes=["operator.admin"])
    params["device"] = DeviceIdentity.generate().sign_connect(params, challenge["nonce"], challenge["ts"])
    res = ws.request("connect", params)
    assert not res["ok"]
    assert res["error"]["code"] == "NOT_PAIRED" and res["error"]["details"]["code"] == "PAIRING_REQUIRED"
    assert ws.close_code()[0] == 1008
    ws.close()


def test_a_local_device_gets_what_the_same_local_request_gets(gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gw
    ws = RawWs(port)
    challenge = ws.challenge()
    params = connect_params(env.token(), scopes=["operator.read"])
    params["device"] = DeviceIdentity.generate().sign_connect(params, challenge["nonce"], challenge["ts"])
    res = ws.request("connect", params)
    assert res["ok"] and res["payload"]["auth"]["scopes"] == ["operator.read"]
    ws.close()


# -- origins and hosts -----------------------------------------------------------------------
def test_origin_and_host_are_parsed_exactly(gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gw
    params = connect_params(env.token())
    cases = [
        ({"Origin": f"http://127.0.0.1.evil.example:{port}"}, None, False),
        ({"Origin": "null"}, None, False),
        ({"Origin": f"http://localhost:{port}"}, f"localhost:{port}", True),
        ({"Origin": f"http://[::1]:{port}"}, None, True),
        # the gateway's own origin under a LAN name, when a token guards it
        ({"Origin": f"http://gateway.lan:{port}"}, f"gateway.lan:{port}", True),
        ({"Origin": f"http://gateway.lan:{port + 1}"}, f"gateway.lan:{port}", False),
    ]
    for headers, host, allowed in cases:
        res = raw_connect(port, params, headers, host)
        assert res["ok"] is allowed, (headers, res)
        if not allowed:
            assert res["error"]["details"]["code"] == "CONTROL_UI_ORIGIN_NOT_ALLOWED"


def test_without_auth_only_loopback_hosts_or_allowed_origins(tmp_path: Path, base: int,
                                                             gateways: list[Gateway]) -> None:
    env = make_env(tmp_path)
    env.write_config({"gateway": {"mode": "local", "port": base, "auth": {"mode": "none"},
                                  "controlUi": {"allowedOrigins": ["https://ui.example"]}}})
    gateways.append(env.gateway().start().wait_healthy(base))
    params = connect_params(None)
    rebinding = raw_connect(base, params, {"Origin": f"http://evil.example:{base}"}, f"evil.example:{base}")
    assert not rebinding["ok"] and rebinding["error"]["details"]["code"] == "CONTROL_UI_ORIGIN_NOT_ALLOWED"
    assert raw_connect(base, params, {"Origin": f"http://localhost:{base}"}, f"localhost:{base}")["ok"]
    assert raw_connect(base, params, {"Origin": "https://ui.example"}, f"localhost:{base}")["ok"]
    # a rebinding page's plain HTTP requests are refused by the same rules (tests/test_http_rules.py has more)
    assert request(base, "GET", "/readyz", {"Host": f"evil.example:{base}"})[0] == 403
    assert "uptimeMs" in json.loads(request(base, "GET", "/readyz")[1])


def test_browser_control_and_canvas_ports_answer_loopback_hosts_only(gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gw
    control, canvas = port + 2, port + 4
    auth = {"Authorization": f"Bearer {env.token()}"}
    assert request(control, "GET", "/profiles", {**auth, "Host": f"evil.example:{control}"})[0] == 403
    status, body = request(control, "POST", "/stop", {**auth, "Origin": "http://127.0.0.1.evil.example",
                                                      "Content-Type": "application/json"}, b"{}")
    assert status == 403 and json.loads(body)["error"] == "cross-site request refused"
    assert request(control, "GET", "/profiles", auth)[0] == 200
    assert request(canvas, "GET", "/", {"Host": f"evil.example:{canvas}"})[0] == 403
    assert request(canvas, "GET", "/")[0] == 200


# -- malformed input gets a protocol error -----------------------------------------------------
def test_malformed_frames_get_errors_and_the_connection_survives(gw: tuple[Env, int, Gateway]) -> None:
    env, port, gateway = gw
    ws, _ = handshake(port, env.token())
    ws.send("[" * 5000 + "]" * 5000)
    assert ws.recv()["error"]["message"] == "invalid request frame: nesting deeper than 64 levels"
    ws.send('{"type":"req","id":"\\ud800","method":"health"}')
    reply = ws.recv()
    assert reply["id"] == "\ud800"  # echoed back as an escape, as JSON.stringify would
    assert reply["error"]["message"] == "invalid request frame: invalid Unicode (lone surrogate)"
    ws.send('{"type":"req","id":"n","method":"health","params":{"x":NaN}}')
    nan = ws.recv()
    assert nan["id"] == "invalid" and nan["error"]["message"].startswith("invalid request frame: invalid JSON")
    keys = {f"k{i}": 1 for i in range(100_000)}
    res = ws.request("health", keys, req_id="many")
    message = res["error"]["message"]
    assert len(message) < 2000 and message.endswith("(+99995 more)")
    assert ws.request("health", req_id="still")["ok"]
    ws.close()
    assert "Traceback" not in gateway.output()


def test_a_deeply_nested_first_frame_closes_cleanly(gw: tuple[Env, int, Gateway]) -> None:
    _, port, gateway = gw
    ws = RawWs(port)
    ws.challenge()
    ws.send("[" * 30_000 + "]" * 30_000)
    assert ws.close_code() == (1008, "invalid request frame")
    ws.close()
    assert "Traceback" not in gateway.output()


def test_nul_bytes_and_odd_paths_are_refused_without_errors(gw: tuple[Env, int, Gateway]) -> None:
    env, port, gateway = gw
    auth = {"Authorization": f"Bearer {env.token()}"}
    for target, prefix in ((port, "/__openclaw__/canvas"), (port + 4, "")):
        for path in ("/%00", "/index.html%00.png", "/%2e%2e/openclaw.json", "/a/%00/b"):
            assert request(target, "GET", prefix + path, auth)[0] == 404, (target, path)
    assert request(port + 2, "GET", "/tabs%00", auth)[0] in (400, 404)
    log = (env.state_dir() / "logs" / "gateway.log").read_text()
    assert "Traceback" not in gateway.output() and "Traceback" not in log


def test_a_remote_device_waits_for_approval_then_gets_what_was_approved(gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = gw
    proxied = {"X-Forwarded-For": "203.0.113.10"}
    device = DeviceIdentity.generate()

    def connect(scopes: list[str]) -> dict:
        ws = RawWs(port, headers=proxied)
        challenge = ws.challenge()
        params = connect_params(env.token(), scopes=scopes)
        params["device"] = device.sign_connect(params, challenge["nonce"], challenge["ts"])
        res = ws.request("connect", params)
        ws.close()
        return res

    refused = connect(["operator.read", "operator.write"])
    request_id = refused["error"]["details"]["requestId"]
    listed = json.loads(env.cli("devices", "list", "--json", check=True).stdout)
    mine = next(r for r in listed["pending"] if r["requestId"] == request_id)
    assert mine["deviceId"] == device.device_id and mine["remoteIp"]
    assert mine["scopes"] == ["operator.read", "operator.write"]
    again = connect(["operator.read"])  # one request per device; it asks for what the latest attempt asked
    assert again["error"]["details"]["requestId"] == request_id
    assert env.cli("devices", "approve", request_id, check=True).stdout.strip() == f"approved: {device.device_id}"
    ok = connect(["operator.read", "operator.admin"])
    assert ok["ok"] and ok["payload"]["auth"]["scopes"] == ["operator.read"]  # never more than approved
    paired = statedb.devices(env.state_dir())[1]
    assert paired[device.device_id]["approved_scopes_json"] == '["operator.read"]'
    assert env.cli("devices", "remove", device.device_id, check=True).stdout.strip() == f"removed: {device.device_id}"
    assert connect(["operator.read"])["error"]["details"]["code"] == "PAIRING_REQUIRED"
    other = connect(["operator.read"])["error"]["details"]["requestId"]
    assert env.cli("devices", "reject", other, check=True).returncode == 0
    left = json.loads(env.cli("devices", "list", "--json", check=True).stdout)["pending"]
    assert device.device_id not in [r["deviceId"] for r in left]
