"""Nothing acknowledged is lost: device decisions are on disk when answered, every service stops on
every way out, and a Telegram message whose turn was cut by `kill -9` is answered once after restart."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import Env, Gateway, RawWs, connect_params, handshake

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
    devices = state / "devices"
    return (json.loads((devices / "pending.json").read_text()), json.loads((devices / "paired.json").read_text()))


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
            assert request_id not in pending and paired[device.device_id]["scopes"] == ["operator.read"], i
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
