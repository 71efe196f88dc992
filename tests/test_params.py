"""Params of RPC methods and of `connect` as typed models: upstream's exact wording for every kind of
problem, strict values, closed objects, validators built on first use, work bounded on huge frames."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from openclaw.gateway.methods import load_methods
from openclaw.gateway.methods.registry import REGISTRY
from openclaw.gateway.params import adapter, check_params
from openclaw.gateway.protocol import INVALID_REQUEST, ConnectRejected, RpcError
from openclaw.gateway.transport.handshake import connect_params, connect_params_problem

METHODS = load_methods()


def problem(name: str, params: Any) -> str:
    with pytest.raises(RpcError) as caught:
        check_params(name, METHODS[name].model(), params)
    assert caught.value.code == INVALID_REQUEST
    return caught.value.message


def test_models_load_with_the_first_call_and_every_one_is_closed_and_builds() -> None:
    script = ("import sys; from openclaw.gateway.methods import load_methods; load_methods(); "
              "print('openclaw.gateway.methods.schemas' in sys.modules)")
    gateway = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert gateway.stdout.strip() == "False"  # registering the methods loads no model and builds no validator
    for name, m in REGISTRY.items():
        model = m.model()
        assert model is not None and vars(model)["__pydantic_config__"]["extra"] == "forbid", name
        adapter(model)  # every annotation resolves (a typo would otherwise surface on a first call)


def test_absent_params_are_an_empty_object_and_good_params_come_back_as_sent() -> None:
    assert check_params("health", METHODS["health"].model(), None) == {}
    sent = {"probe": True}
    assert check_params("health", METHODS["health"].model(), sent) is sent
    assert problem("health", ["probe"]) == "invalid health params: must be object"
    assert problem("config.get", {"x": 1}) == "invalid config.get params: unexpected property 'x'"


@pytest.mark.parametrize(("name", "params", "message"), [
    ("agent", {"idempotencyKey": "k"}, "must have required property 'message'"),
    ("agent", {"message": "", "idempotencyKey": "k"}, "message must not be empty"),
    ("agent", {"message": "hi", "idempotencyKey": "k", "timeout": -1}, "timeout must be >= 0"),
    ("agent", {"message": "hi", "idempotencyKey": "k", "to": {"any": ["thing"]}, "lane": None}, None),
    ("health", {"probe": 1}, "probe must be boolean"),
    ("health", {"probe": "true"}, "probe must be boolean"),
    ("logs.tail", {"limit": True}, "limit must be integer"),
    ("logs.tail", {"limit": 1.0}, "limit must be integer"),
    ("logs.tail", {"limit": "5"}, "limit must be integer"),
    ("logs.tail", {"limit": 0}, "limit must be >= 1"),
    ("usage.cost", {"days": 3651}, "days must be <= 3650"),
    ("usage.cost", {"days": 10**30}, "days must be <= 3650"),
    ("browser.request", {"method": "GET", "path": "/", "timeoutMs": 600_001}, "timeoutMs must be <= 600000"),
    ("browser.request", {"method": "GET", "path": "/", "body": []}, "body must be object"),
    ("sessions.preview", {"keys": "main"}, "keys must be array"),
    ("sessions.preview", {"keys": ["main", 2, None]}, "keys items must be string"),
    ("sessions.preview", {"keys": [], "maxChars": 19}, "maxChars must be >= 20"),
    ("sessions.reset", {"key": 5}, "key must be string"),
    ("chat.send", {"sessionKey": "s", "message": "", "idempotencyKey": "k"}, None),  # empty message: allowed
    ("chat.history", {"sessionKey": "s", "limit": 1001}, "limit must be <= 1000"),
    ("cron.add", {"name": "n", "schedule": "0 * * * *", "payload": {}}, "schedule must be object"),
    ("config.patch", {"raw": "{}", "replacePaths": [["a"]]}, "replacePaths items must be string"),
    ("config.apply", {"raw": "{}", "restartDelayMs": 600_001}, "restartDelayMs must be <= 600000"),
    ("channels.pairing.approve", {"channel": "telegram", "accountId": "a", "requestId": "r", "notify": "yes"},
     "notify must be boolean"),
    ("channels.pairing.dismiss", {"channel": "telegram", "accountId": "a"},
     "must have required property 'requestId'"),
    ("diagnostics.stability", {"limit": "25", "type": 3}, None),  # the handler checks these itself
])
def test_each_kind_of_problem_in_upstreams_words(name: str, params: dict[str, Any],
                                                  message: str | None) -> None:
    if message is None:
        assert check_params(name, METHODS[name].model(), params) is params
    else:
        assert problem(name, params) == f"invalid {name} params: {message}"


def test_unknown_keys_come_first_then_declared_keys_in_order_one_problem_each() -> None:
    sent = {"zeta": 1, "runId": 5, "alpha": 2, "timeoutMs": -3}
    assert problem("agent.wait", sent) == (
        "invalid agent.wait params: unexpected property 'zeta'; unexpected property 'alpha'; "
        "runId must be string; timeoutMs must be >= 0")
    assert problem("channels.pairing.approve", {}) == (
        "invalid channels.pairing.approve params: must have required property 'channel'; "
        "must have required property 'accountId'; must have required property 'requestId'")
    many = {f"u{i}": i for i in range(4)} | {"limit": "x", "cursor": -1, "maxBytes": 0}
    assert problem("logs.tail", many) == (
        "invalid logs.tail params: unexpected property 'u0'; unexpected property 'u1'; "
        "unexpected property 'u2'; unexpected property 'u3'; cursor must be >= 0 (+2 more)")


def test_huge_params_cost_work_bounded_by_what_is_declared() -> None:
    keys = {f"k{i}": 1 for i in range(100_000)}
    message = problem("health", {**keys, "probe": "no"})
    assert message.startswith("invalid health params: unexpected property 'k0'; unexpected property 'k1';")
    assert message.endswith("(+99996 more)")  # every unknown key and the bad probe counted
    bad_items = problem("sessions.preview", {"keys": [1] * 1_000_000})
    assert bad_items == "invalid sessions.preview params: keys items must be string"
    body = {f"k{i}": i for i in range(100_000)}
    assert check_params("browser.request", METHODS["browser.request"].model(),
                        {"method": "GET", "path": "/", "body": body})["body"] is body  # not copied


# -- connect ------------------------------------------------------------------------------------
GOOD: dict[str, Any] = {"minProtocol": 4, "maxProtocol": 4,
                       "client": {"id": "cli", "version": "1.0", "platform": "linux", "mode": "cli"}}
IDS = ("cli, fingerprint, gateway-client, node-host, openclaw-android, openclaw-browser-copilot, "
       "openclaw-control-ui, openclaw-ios, openclaw-linux, openclaw-macos, openclaw-probe, openclaw-tui, "
       "openclaw-watchos, openclaw-worker, test, webchat, webchat-ui")
MODES = "backend, cli, node, probe, test, ui, webchat, worker"


def with_(**changes: Any) -> dict[str, Any]:
    params = {**GOOD, "client": dict(GOOD["client"])}
    for key, value in changes.items():
        target = params["client"] if key.startswith("client_") else params
        name = key.removeprefix("client_")
        if value is KeyError:
            target.pop(name)
        else:
            target[name] = value
    return params


@pytest.mark.parametrize(("params", "message"), [
    ([], "params must be an object"),
    (with_(minProtocol=KeyError), "minProtocol must be an integer >= 1"),
    (with_(minProtocol=True), "minProtocol must be an integer >= 1"),
    (with_(maxProtocol=0), "maxProtocol must be an integer >= 1"),
    (with_(maxProtocol="4", client=None), "maxProtocol must be an integer >= 1"),
    (with_(client="cli"), "client must be an object"),
    (with_(client_version=""), "client.version must be a non-empty string"),
    (with_(client_platform=KeyError), "client.platform must be a non-empty string"),
    (with_(client_id=""), "client.id must be a non-empty string"),
    (with_(client_mode=7), "client.mode must be a non-empty string"),
    (with_(client_id="nope"), f"client.id must be one of {IDS}"),
    (with_(client_mode="robot"), f"client.mode must be one of {MODES}"),
    (with_(client_id="nope", client_version=1), "client.version must be a non-empty string"),  # types first
    (with_(client_id="nope", client_mode="robot"), f"client.id must be one of {IDS}"),
    (with_(scopes="operator.read"), "scopes must be an array of strings"),
    (with_(scopes=["operator.read", 1]), "scopes must be an array of strings"),
    (with_(auth="token"), "auth must be an object"),
    (with_(device=[], auth=[]), "auth must be an object"),
    (with_(device=1), "device must be an object"),
])
def test_connect_params_problems_in_upstreams_words(params: Any, message: str) -> None:
    assert connect_params_problem(params) == message
    with pytest.raises(ConnectRejected) as caught:
        connect_params(params)
    assert caught.value.message == f"invalid connect params: {message}"


def test_connect_params_ignore_what_newer_clients_add() -> None:
    newer = with_(client_buildId="abc", computerUse={"x": 1}, scopes=None, auth=None, device=None,
                  role="node")
    assert connect_params_problem(newer) is None and connect_params(newer) is newer
