"""The gateway's HTTP surface under attack, against real gateway processes: the browser rules
(cross-site posts, rebinding hosts) on every route and the WebSocket alike, `/tools/invoke`'s
deny list by tool kind, the auth limiter on HTTP (loopback exempt, keyed on the client a trusted
proxy reports), bad JSON and bad Unicode, clients that leave or read too slowly, and bodies
held within the process-wide budget."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Env, Gateway, free_base, make_env, wait_for
from model_standin import ModelStandin, Reply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import attacks

from openclaw.agents.tools import Tool
from openclaw.config.view import Config
from openclaw.gateway.httpapi.tools import denied_over_http
from openclaw.models.types import ToolSpec

JSON = {"Content-Type": "application/json"}


def call(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None,
         host: str | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request with exactly the headers we choose (`Host` included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in {"Host": host or f"127.0.0.1:{port}", **(headers or {})}.items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def post_json(port: int, path: str, payload: object, token: str | None = None, **kw: object) -> tuple[int, dict]:
    headers = {**JSON, **({"Authorization": f"Bearer {token}"} if token else {}), **kw.pop("headers", {})}
    status, _, body = call(port, "POST", path, headers, json.dumps(payload).encode(), **kw)
    return status, json.loads(body) if body else {}


def start_gateway(env: Env, port: int, model: ModelStandin, *settings: tuple[str, str],
                  extra_env: dict[str, str] | None = None) -> Gateway:
    env.provision(None, port)
    env.use_model(model.openai_url)
    env.set_config(("gateway.http.endpoints.chatCompletions.enabled", "true"),
                   ("gateway.http.endpoints.responses.enabled", "true"), *settings)
    return env.gateway(extra_env=extra_env).start().wait_healthy(port)


@pytest.fixture(scope="module")
def open_gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int, Gateway]]:
    """`gateway.auth.mode none`, with `write` allowed over HTTP: only the browser rules stand in the way."""
    env = make_env(tmp_path_factory.mktemp("openhttp"))
    port = free_base()
    gw = start_gateway(env, port, model, ("gateway.auth.mode", "none"), ("gateway.tools.allow", '["write"]'))
    try:
        yield env, port, gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def token_gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int, Gateway]]:
    env = make_env(tmp_path_factory.mktemp("tokenhttp"))
    port = free_base()
    gw = start_gateway(env, port, model, extra_env={"OPENCLAW_HTTP_IDLE_TIMEOUT_MS": "3000",
                                                     "OPENCLAW_HTTP_MAX_BUFFERED_BYTES": str(256 * 1024)})
    try:
        yield env, port, gw
    finally:
        gw.stop()


def workspace(env: Env) -> Path:
    return env.state_dir() / "workspace"


# -- browser rules ----------------------------------------------------------------------------------
def test_a_cross_site_form_post_never_reaches_a_tool(open_gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = open_gw
    form = json.dumps({"tool": "write", "args": {"path": "pwned.txt", "content": "x"}}).encode()
    status, _, body = call(port, "POST", "/tools/invoke", {"Origin": "https://evil.example",
                                                           "Content-Type": "text/plain"}, form)
    assert status == 403 and json.loads(body)["error"]["type"] == "forbidden"
    # without an Origin (a client that hides it) the body type alone refuses it
    status, _, body = call(port, "POST", "/tools/invoke", {"Content-Type": "text/plain"}, form)
    assert status == 415 and json.loads(body)["error"]["message"] == "Content-Type must be application/json"
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        assert call(port, "POST", "/tools/invoke", {"Content-Type": kind}, form)[0] == 415
    assert not (workspace(env) / "pwned.txt").exists()
    # the same request as JSON from the gateway's host is what the switch allows
    status, reply = post_json(port, "/tools/invoke", {"tool": "write", "args": {"path": "ok.txt", "content": "y"}})
    assert status == 200 and reply["ok"], reply
    assert (workspace(env) / "ok.txt").read_text() == "y"


def test_a_rebinding_host_is_refused_on_every_route(open_gw: tuple[Env, int, Gateway], model: ModelStandin) -> None:
    _, port, gw = open_gw
    seen = len(model.requests())
    chat = {"model": "openclaw", "messages": [{"role": "user", "content": "run exec for me"}]}
    status, reply = post_json(port, "/v1/chat/completions", chat, host=f"evil.example:{port}")
    assert status == 403 and "host not allowed" in reply["error"]["message"]
    for method, path in (("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/"), ("GET", "/chat"),
                         ("GET", "/v1/models"), ("GET", "/__openclaw__/canvas/"), ("GET", "/no-such-page")):
        assert call(port, method, path, host=f"evil.example:{port}")[0] == 403, path
        assert call(port, method, path, host="127.0.0.1.evil.example")[0] == 403, path
    # a cross-site page on a loopback host is refused by its Origin
    assert call(port, "GET", "/v1/models", {"Origin": "https://evil.example"})[0] == 403
    assert len(model.requests()) == seen  # nothing reached the model
    # the WebSocket applies the same function: a rebinding host without any Origin is refused too
    res = asyncio.run(_connect(port, host=f"evil.example:{port}"))
    assert not res["ok"] and "host not allowed" in res["error"]["message"]
    assert asyncio.run(_connect(port, host=f"localhost:{port}"))["ok"]
    assert call(port, "GET", "/healthz", host=f"localhost:{port}")[0] == 200
    assert "Traceback" not in gw.output()


async def _connect(port: int, host: str, headers: dict[str, str] | None = None) -> dict:
    ws = await attacks.RawWs.open(port, headers, host=host)
    try:
        await ws.recv_json()
        return await ws.request("connect", attacks.connect_params(None), req_id="c")
    finally:
        ws.abort()


def test_probes_answer_callers_that_are_not_browsers(token_gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = token_gw
    pod = f"10.244.1.7:{port}"  # a kubelet names the pod IP and sends no Origin
    assert call(port, "GET", "/healthz", host=pod)[0] == 200
    status, _, body = call(port, "GET", "/readyz", host=pod)
    assert status == 200 and json.loads(body) == {"ready": True}  # no details without the secret
    status, _, body = call(port, "GET", "/readyz", {"Authorization": f"Bearer {env.token()}"}, host=pod)
    assert status == 200 and "uptimeMs" in json.loads(body)
    # with a secret, the gateway's own origin under another name is fine; a foreign one is not
    assert call(port, "GET", "/healthz", {"Origin": f"http://gw.lan:{port}"}, host=f"gw.lan:{port}")[0] == 200
    assert call(port, "GET", "/healthz", {"Origin": "https://evil.example"}, host=pod)[0] == 403


# -- /tools/invoke ------------------------------------------------------------------------------------
def test_tools_that_change_the_host_are_refused_over_http_unless_allowed(env: Env, base: int, model: ModelStandin,
                                                                        gateways: list[Gateway]) -> None:
    gateways.append(start_gateway(env, base, model))
    token = env.token()
    (workspace(env) / "notes.txt").write_text("alpha\n")
    calls = {"write": {"path": "new.txt", "content": "hi"},
             "edit": {"path": "notes.txt", "old_text": "alpha", "new_text": "beta"},
             "exec": {"command": "echo ran > ran.txt"}}
    for tool, args in calls.items():
        status, reply = post_json(base, "/tools/invoke", {"tool": tool, "args": args}, token)
        assert status == 404 and reply["error"]["type"] == "not_found", (tool, reply)
    assert not (workspace(env) / "new.txt").exists() and not (workspace(env) / "ran.txt").exists()
    assert (workspace(env) / "notes.txt").read_text() == "alpha\n"
    status, reply = post_json(base, "/tools/invoke", {"tool": "read", "args": {"path": "notes.txt"}}, token)
    assert status == 200 and "alpha" in reply["result"]

    env.cli("config", "set", "gateway.tools.allow", '["write", "edit", "exec"]', check=True)
    env.cli("config", "set", "gateway.tools.deny", '["read"]', check=True)

    def applied() -> bool:
        try:
            return post_json(base, "/tools/invoke", {"tool": "read", "args": {"path": "notes.txt"}}, token)[0] == 404
        except OSError:  # restarting in-process
            return False

    wait_for(applied, timeout=20, what="gateway.tools.allow and deny applied")
    for tool in ("write", "edit", "exec"):
        status, reply = post_json(base, "/tools/invoke", {"tool": tool, "args": calls[tool]}, token)
        assert status == 200 and reply["ok"], (tool, reply)
    assert (workspace(env) / "new.txt").read_text() == "hi"
    assert (workspace(env) / "notes.txt").read_text() == "beta\n"
    assert (workspace(env) / "ran.txt").read_text().strip() == "ran"


def test_the_deny_list_follows_each_tools_kind() -> None:
    async def noop(args: dict, ctx: object) -> str:
        return ""

    tools = [Tool(ToolSpec(name, "", {"type": "object"}), noop, kind=kind)  # type: ignore[arg-type]
             for name, kind in (("look", "read"), ("browse", "act"), ("patch", "write"), ("spawn_job", "exec"),
                                ("restart_b", "control"))]
    assert denied_over_http(tools, Config({})) == {"patch", "spawn_job", "restart_b"}
    config = {"gateway": {"tools": {"allow": ["patch"], "deny": ["look"]}}}
    assert denied_over_http(tools, Config(config)) == {"spawn_job", "restart_b", "look"}


def test_reserved_session_keys_are_refused(token_gw: tuple[Env, int, Gateway]) -> None:
    env, port, _ = token_gw
    for key in ("cron:nightly", "subagent:x", "acp:y", "agent:main:cron:nightly", "SUBAGENT:z"):
        status, reply = post_json(port, "/tools/invoke", {"tool": "read", "args": {"path": "x"}, "sessionKey": key},
                                  env.token())
        assert status == 400 and "reserved" in reply["error"]["message"], (key, reply)
    (workspace(env) / "plain.txt").write_text("ok\n")
    for key in ("team-room", "agent:main:team-room", "main"):  # ordinary keys pass
        status, reply = post_json(port, "/tools/invoke", {"tool": "read", "args": {"path": "plain.txt"},
                                                          "sessionKey": key}, env.token())
        assert status == 200 and "ok" in reply["result"], (key, reply)


# -- the auth limiter on HTTP -------------------------------------------------------------------------
def test_loopback_is_exempt_from_the_http_lockout_and_others_are_not(env: Env, base: int, model: ModelStandin,
                                                                     gateways: list[Gateway]) -> None:
    gateways.append(start_gateway(env, base, model))
    for _ in range(10):
        assert call(base, "GET", "/v1/models", {"Authorization": "Bearer wrong"})[0] == 401
    assert call(base, "GET", "/v1/models", {"Authorization": f"Bearer {env.token()}"})[0] == 200
    # through a proxy nobody trusts the request is not local: its peer (the proxy) is locked out
    proxied = {"X-Forwarded-For": "203.0.113.5"}
    for _ in range(10):
        assert call(base, "GET", "/v1/models", {**proxied, "Authorization": "Bearer wrong"})[0] == 401
    status, headers, _ = call(base, "GET", "/v1/models", {**proxied, "Authorization": f"Bearer {env.token()}"})
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert call(base, "GET", "/v1/models", {"Authorization": f"Bearer {env.token()}"})[0] == 200  # local still


def test_the_lockout_keys_on_the_client_a_trusted_proxy_reports(env: Env, base: int, model: ModelStandin,
                                                                gateways: list[Gateway]) -> None:
    gateways.append(start_gateway(env, base, model, ("gateway.trustedProxies", '["127.0.0.1"]')))
    good = {"Authorization": f"Bearer {env.token()}"}
    for _ in range(10):
        status, _, _ = call(base, "GET", "/v1/models", {"X-Forwarded-For": "203.0.113.5",
                                                        "Authorization": "Bearer wrong"})
        assert status == 401
    assert call(base, "GET", "/v1/models", {**good, "X-Forwarded-For": "203.0.113.5"})[0] == 429
    # a client that writes its own hop in front is still the address the proxy appended
    assert call(base, "GET", "/v1/models", {**good, "X-Forwarded-For": "198.51.100.1, 203.0.113.5"})[0] == 429
    # another client behind the same proxy is not locked out with it
    assert call(base, "GET", "/v1/models", {**good, "X-Forwarded-For": "203.0.113.6"})[0] == 200
    # the WebSocket keys on the same client
    params = attacks.connect_params(env.token())

    async def ws_connect(forwarded: str) -> dict:
        ws = await attacks.RawWs.open(base, {"X-Forwarded-For": forwarded})
        try:
            await ws.recv_json()
            return await ws.request("connect", params, req_id="c")
        finally:
            ws.abort()

    assert asyncio.run(ws_connect("203.0.113.5"))["error"]["details"]["code"] == "AUTH_RATE_LIMITED"
    assert asyncio.run(ws_connect("203.0.113.6"))["ok"]


def test_trusted_proxies_must_be_addresses(env: Env) -> None:
    env.provision(None, free_base())
    proc = env.cli("config", "set", "gateway.trustedProxies", '["10.0.0.0/8", "proxy.example"]')
    assert proc.returncode != 0 and "proxy.example" in proc.stderr + proc.stdout


# -- bad input ---------------------------------------------------------------------------------------
def test_bad_json_and_bad_unicode_get_short_400s(token_gw: tuple[Env, int, Gateway], model: ModelStandin) -> None:
    env, port, gw = token_gw
    auth = {**JSON, "Authorization": f"Bearer {env.token()}"}
    seen = len(model.requests())
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/tools/invoke", "/v1/chat/completions", "/v1/responses"):
        status, _, body = call(port, "POST", path, auth, deep)
        assert status == 400 and b"nesting deeper than 64 levels" in body, (path, body)
        status, _, body = call(port, "POST", path, auth, b'{"model": "openclaw", "input": "x", "messages": [')
        assert status == 400 and b"not valid JSON" in body
    lone = b'{"model": "openclaw", "messages": [{"role": "user", "content": "hi \\ud800 there"}]}'
    status, _, body = call(port, "POST", "/v1/chat/completions", auth, lone)
    assert status == 400 and json.loads(body)["error"]["message"].endswith("invalid Unicode (lone surrogate)")
    status, _, body = call(port, "POST", "/v1/responses", auth, b'{"model": "openclaw", "input": "\\udfff"}')
    assert status == 400 and b"lone surrogate" in body
    bad_header = {**auth, "x-openclaw-session-key": "room-\udcff".encode("utf-8", "surrogateescape").decode("latin-1")}
    status, _, body = call(port, "POST", "/v1/chat/completions", bad_header,
                           b'{"model": "openclaw", "messages": [{"role": "user", "content": "hi"}]}')
    assert status == 400 and b"not valid UTF-8" in body
    assert len(model.requests()) == seen
    output = gw.output() + (env.state_dir() / "logs" / "gateway.log").read_text()
    for internal in ("Traceback", "RecursionError", "UnicodeEncodeError", "UnicodeDecodeError"):
        assert internal not in output


def test_a_failing_run_is_a_short_error(token_gw: tuple[Env, int, Gateway], model: ModelStandin) -> None:
    env, port, _ = token_gw
    model.script(*[Reply(status=400, text="upstream said no")] * 3)
    status, reply = post_json(port, "/v1/chat/completions",
                              {"model": "openclaw", "messages": [{"role": "user", "content": "x"}]}, env.token())
    assert status == 502 and reply["error"]["type"] == "api_error"
    assert "scripted" not in reply["error"]["message"] and "Error:" not in reply["error"]["message"]
    with model._lock:
        model.replies.clear()


# -- clients that leave or do not read ----------------------------------------------------------------
def _http_request(port: int, token: str, payload: dict, path: str = "/v1/chat/completions") -> bytes:
    body = json.dumps(payload).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def _reader_that_reads_nothing(port: int, token: str, fields: dict) -> socket.socket:
    """A chat completion asked for a long reply over a socket with a tiny receive buffer, never read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(_http_request(port, token, {"model": "openclaw", **fields,
                                             "messages": [{"role": "user", "content": "a lot please"}]}))
    return sock


def _active_runs(env: Env, port: int) -> int:
    from helpers import handshake

    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    try:
        rows = ws.request("sessions.list", {"limit": 500})["payload"]["sessions"]
    finally:
        ws.close()
    return sum(1 for r in rows if r.get("active"))


def test_clients_that_leave_mid_turn_stop_it_and_log_one_line_each(token_gw: tuple[Env, int, Gateway],
                                                                   model: ModelStandin) -> None:
    env, port, gw = token_gw
    before = gw.output().count("HTTP client left")
    clients = 6
    model.script(*[Reply(text="words that stall after the first", chunk=6, stall_after=1)] * clients)
    socks = []
    for i in range(clients):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        streamed = i % 2 == 0  # half streamed, half waiting for the whole reply
        sock.sendall(_http_request(port, env.token(), {"model": "openclaw", "user": f"leaver-{i}", "stream": streamed,
                                                       "messages": [{"role": "user", "content": "talk"}]}))
        socks.append((sock, streamed))
    for sock, streamed in socks:
        if streamed:
            got = b""
            while b"words" not in got:
                got += sock.recv(65536)
    wait_for(lambda: _active_runs(env, port) >= clients, timeout=20, what="every turn running")
    for sock, _ in socks:
        sock.close()
    wait_for(lambda: _active_runs(env, port) == 0, timeout=20, what="every turn stopped after its client left")
    wait_for(lambda: gw.output().count("HTTP client left") - before == clients, timeout=10,
             what="one log line per client")
    assert gw.output().count("HTTP client left") - before == clients
    assert "Traceback" not in gw.output()


def test_a_reader_that_falls_behind_a_stream_is_cut_off(token_gw: tuple[Env, int, Gateway],
                                                        model: ModelStandin) -> None:
    env, port, gw = token_gw
    model.script(Reply(text="x" * (3 * 1024 * 1024), chunk=64 * 1024))
    sock = _reader_that_reads_nothing(port, env.token(), {"user": "slow-reader", "stream": True})
    wait_for(lambda: "slow consumer" in gw.output(), timeout=30, what="the slow reader cut off")
    wait_for(lambda: _active_runs(env, port) == 0, timeout=20, what="its turn stopped")
    sock.close()


def test_a_reader_that_takes_nothing_of_its_reply_is_let_go(token_gw: tuple[Env, int, Gateway],
                                                            model: ModelStandin) -> None:
    env, port, gw = token_gw
    model.script(Reply(text="y" * (3 * 1024 * 1024), chunk=64 * 1024))
    sock = _reader_that_reads_nothing(port, env.token(), {"user": "stalled-reader"})
    wait_for(lambda: "read nothing for" in gw.output(), timeout=30, what="the stalled reader let go")
    sock.close()


def test_a_slow_reader_that_keeps_reading_gets_its_whole_reply(token_gw: tuple[Env, int, Gateway],
                                                              model: ModelStandin) -> None:
    env, port, _ = token_gw
    size = 1024 * 1024
    model.script(Reply(text="z" * size, chunk=64 * 1024))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(30)
    sock.sendall(_http_request(port, env.token(), {"model": "openclaw", "user": "patient-reader",
                                                   "messages": [{"role": "user", "content": "a lot please"}]}))
    reader = sock.makefile("rb", buffering=0)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += reader.read(1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    body = b""
    pause = threading.Event()
    while len(body) < length and not pause.wait(0.02):  # 16 KiB at a time, with pauses
        piece = reader.read(min(16 * 1024, length - len(body)))
        assert piece, "the gateway let go of a reader that kept reading"
        body += piece
    sock.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["choices"][0]["message"]["content"] == "z" * size


# -- request bodies ------------------------------------------------------------------------------------
def test_large_bodies_at_once_are_held_within_the_budget(env: Env, base: int, model: ModelStandin,
                                                         gateways: list[Gateway]) -> None:
    budget = 4 * 1024 * 1024
    gateways.append(start_gateway(env, base, model, extra_env={"OPENCLAW_HTTP_BODY_BUDGET_BYTES": str(budget)}))
    (workspace(env) / "small.txt").write_text("ok\n")
    token = env.token()
    body = json.dumps({"tool": "read", "args": {"path": "small.txt", "pad": "p" * (3 * 1024 * 1024)}}).encode()
    results: list[int] = []

    def send() -> None:
        status, _, _ = call(base, "POST", "/tools/invoke", {**JSON, "Authorization": f"Bearer {token}"}, body,
                            timeout=60)
        results.append(status)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert len(results) == 8 and set(results) <= {200, 503} and 200 in results, results  # every request answered
    stats = json.loads(call(base, "GET", "/readyz")[2])["httpBodies"]
    assert stats["limitBytes"] == budget and 0 < stats["peakBytes"] <= budget and stats["heldBytes"] == 0, stats
    # one body larger than the whole budget can never fit: 413 at once, declared or chunked
    big = json.dumps({"tool": "read", "args": {"pad": "p" * (budget + 1)}}).encode()
    status, _, _ = call(base, "POST", "/tools/invoke", {**JSON, "Authorization": f"Bearer {token}"}, big)
    assert status == 413
    assert _chunked_status(base, token, big) == 413
    assert _chunked_status(base, token, body) == 200


def _chunked_status(port: int, token: str, body: bytes) -> int:
    """Send `body` chunked (no Content-Length) while reading the answer, which may come first."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /tools/invoke HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()

    def send() -> None:
        try:
            sock.sendall(head)
            for i in range(0, len(body), 65536):
                piece = body[i:i + 65536]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the gateway answered and closed before the whole body was sent

    sender = threading.Thread(target=send)
    sender.start()
    try:
        status_line = sock.makefile("rb").readline()
    finally:
        sender.join(30)
        sock.close()
    return int(status_line.split()[1])


# -- errors inside handlers ------------------------------------------------------------------------
def test_a_handler_error_is_a_generic_500_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from openclaw.gateway.httpserve import request_deadline

    async def broken(_: web.Request) -> web.StreamResponse:
        raise ValueError("secret internal detail")

    async def broken_mid_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        raise KeyError("another internal detail")

    async def run() -> tuple[int, bytes, bytes]:
        app = web.Application(middlewares=[request_deadline(5.0)])
        app.router.add_get("/broken", broken)
        app.router.add_get("/stream", broken_mid_stream)
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/broken")
            body = await resp.read()
            streamed = await client.get("/stream")
            try:
                partial = await streamed.read()
            except Exception:  # noqa: BLE001 - the stream is cut; what arrived before is enough
                partial = b"data: first\n\n"
            return resp.status, body, partial

    with caplog.at_level("INFO", logger="openclaw"):
        status, body, partial = asyncio.run(run())
    assert status == 500 and b"internal" in body and b"secret" not in body and b"ValueError" not in body
    assert partial.startswith(b"data: first") and b"KeyError" not in partial and b"another" not in partial
    failures = [r for r in caplog.records if "failed:" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info is None for r in failures)
