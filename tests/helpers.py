"""Test helpers: isolated environments, the real CLI, real gateway processes, raw WebSocket clients."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.agents.workspace import ensure_workspace
from openclaw.config.keypath import parse_path, set_path
from openclaw.config.store import config_write_lock, parse_value, update_config, write_config
from openclaw.fsutil import ensure_private_dir
from openclaw.profiles.paths import paths_for_state_dir

PY = sys.executable
STRIP_ENV = ("OPENCLAW_", "XDG_RUNTIME_DIR", "NO_COLOR", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY")


def wait_for(
    predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll until `predicate()` is truthy; never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


PORTS_LOW, PORTS_HIGH = 20_000, 32_000  # below Linux's ephemeral range (32768+): no client socket takes one


def port_band() -> tuple[int, int]:
    """This test process's share of the port range: with parallel workers (pytest-xdist) each has
    its own band, so two workers' gateways never meet, and none meets the planner's (18789 up)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    width = (PORTS_HIGH - PORTS_LOW) // max(count, 1)
    low = PORTS_LOW + index * width
    return low, low + width - 200  # room for the footprint above the last base


def free_base(rng: random.Random | None = None) -> int:
    """A base port whose footprint (base..base+110) is currently unused, in this worker's band."""
    rng = rng or random.Random()
    low, high = port_band()
    for _ in range(200):
        base = rng.randrange(low, high)
        if all(port_free(p) for p in (base, base + 2, base + 4, base + 11, base + 60, base + 110)):
            return base
    raise RuntimeError("no free port block")


@dataclass
class Env:
    """One isolated host: its own HOME, TMPDIR (runtime registry, config locks)."""

    root: Path
    vars: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return Path(self.vars["HOME"])

    def state_dir(self, profile: str | None = None) -> Path:
        return self.home / (".openclaw" if not profile else f".openclaw-{profile}")

    def config_path(self, profile: str | None = None) -> Path:
        return self.state_dir(profile) / "openclaw.json"

    def config(self, profile: str | None = None) -> dict[str, Any]:
        return json.loads(self.config_path(profile).read_text())

    def write_config(self, data: dict[str, Any] | str, profile: str | None = None) -> Path:
        path = self.config_path(profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
        return path

    def token(self, profile: str | None = None) -> str:
        return self.config(profile)["gateway"]["auth"]["token"]

    def cli(self, *args: str, check: bool | None = None, timeout: float = 60, extra_env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.vars, **(extra_env or {})}
        proc = subprocess.run([PY, "-m", "openclaw", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check:
            assert proc.returncode == 0, f"openclaw {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def cli_json(self, *args: str, **kw: Any) -> Any:
        proc = self.cli(*args, "--json", check=True, **kw)
        return json.loads(proc.stdout)

    def setup(self, profile: str | None = None, port: int | None = None, *extra: str) -> dict[str, Any]:
        """`openclaw setup` through the CLI: for tests of setup itself and of the port planner."""
        args = (["--profile", profile] if profile else []) + ["setup"]
        if port is not None:
            args += ["--port", str(port)]
        return self.cli_json(*args, *extra)

    def provision(self, profile: str | None = None, port: int | None = None) -> dict[str, Any]:
        """What `openclaw setup --port PORT` leaves for a new instance, written in-process (a CLI start
        costs ~0.5 s): the config, the workspace with its starter files, the sessions dir, setup's modes.
        Kept equal to setup by tests/test_provision.py. Returns the config."""
        paths = paths_for_state_dir(self.state_dir(profile), self.home)
        if paths.config_path.exists():  # like setup, a second call keeps what is there
            config = self.config(profile)
            assert port is None or config["gateway"]["port"] == port, f"{paths.name} is set up on another port"
            return config
        config = {
            "gateway": {"mode": "local", "port": port or self._spaced_base(), "bind": "loopback",
                        "auth": {"mode": "token", "token": secrets.token_hex(24)}},
            "agents": {"defaults": {"workspace": str(paths.default_workspace)}},
        }
        ensure_private_dir(paths.state_dir)
        with config_write_lock(paths.config_path):
            write_config(paths.config_path, config)
        ensure_workspace(paths.default_workspace)
        ensure_private_dir(paths.state_dir / "agents" / "main" / "sessions")
        return config

    def _spaced_base(self) -> int:
        """A free base port well clear of every instance's under this HOME (their footprints never meet)."""
        configs = [json.loads(p.read_text()) for p in self.home.glob(".openclaw*/openclaw.json")]
        taken = [port for c in configs if isinstance(port := (c.get("gateway") or {}).get("port"), int)]
        rng = random.Random()
        while True:
            base = free_base(rng)
            if all(abs(base - port) > 500 for port in taken):
                return base

    def set_config(self, *pairs: tuple[str, str], profile: str | None = None) -> None:
        """`openclaw config set KEY VALUE` for each pair, in-process and in one write: the same value
        parsing (JSON5, else a string) and schema validation, under the same write lock."""
        def mutate(data: dict[str, Any]) -> None:
            for key, value in pairs:
                set_path(data, parse_path(key), parse_value(value, False))

        update_config(self.config_path(profile), mutate, self.vars)

    def use_model(self, base_url: str, ref: str = "stand/m1", profile: str | None = None,
                  **provider: Any) -> None:
        """Point an instance's default model at a stand-in provider `stand` (OpenAI wire format)."""
        entry = {"baseUrl": base_url, "apiKey": "k", "timeoutSeconds": 10, **provider}
        self.set_config(("models.providers.stand", json.dumps(entry)), ("agents.defaults.model", ref),
                        profile=profile)

    def configured_gateway(self, port: int, started: list[Gateway], **settings: str) -> Gateway:
        """Set up the default instance on `port`, apply `config set` pairs, start it, wait until healthy."""
        self.provision(None, port)
        self.set_config(*((key.replace("__", "."), value) for key, value in settings.items()))
        gw = self.gateway().start()
        started.append(gw)
        return gw.wait_healthy(port)

    def gateway(self, profile: str | None = None, *args: str, extra_env: dict[str, str] | None = None,
                nofile: tuple[int, int] | None = None) -> Gateway:
        prefix = ["--profile", profile] if profile else []
        return Gateway(self, [*prefix, "gateway", *args], extra_env or {}, nofile)


def make_env(root: Path) -> Env:
    home = root / "home"
    tmp = root / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(STRIP_ENV)}
    base.update(HOME=str(home), TMPDIR=str(tmp), PYTHONUNBUFFERED="1", NO_COLOR="1")
    return Env(root, base)


class LoggedProcess:
    """A child process whose output goes to a log file."""

    proc: subprocess.Popen[Any] | None
    log: Path

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Gateway(LoggedProcess):
    """A real gateway subprocess."""

    def __init__(self, env: Env, args: list[str], extra_env: dict[str, str],
                 nofile: tuple[int, int] | None = None) -> None:
        self.env = env
        self.args = args
        self.extra_env = extra_env
        self.nofile = nofile  # (soft, hard) open-files limit to start the process with
        self.proc: subprocess.Popen[str] | None = None
        self.log = env.root / f"gateway-{time.monotonic_ns()}.out"

    def start(self) -> Gateway:
        out = self.log.open("w")
        nofile = self.nofile

        def limits() -> None:
            if nofile:
                import resource

                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        self.proc = subprocess.Popen([PY, "-m", "openclaw", *self.args], env={**self.env.vars, **self.extra_env},
                                     stdout=out, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=limits if nofile else None)
        return self

    def wait_healthy(self, port: int, timeout: float = 20.0) -> Gateway:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"gateway exited {self.proc.returncode}:\n{self.output()}")
            return healthz(port)

        wait_for(ready, timeout, what=f"gateway healthy on {port}")
        return self

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def healthz(port: int, path: str = "/healthz") -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status == 200 and json.loads(resp.read()).get("status") == "live"
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def http_get(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def handshake(port: int, token: str, **kw: object) -> tuple[RawWs, dict]:
    """A connected client: challenge read, `connect` sent, hello-ok asserted; (socket, hello payload)."""
    ws = RawWs(port)
    ws.challenge()
    res = ws.request("connect", connect_params(token, **kw))
    assert res["ok"], res
    return ws, res["payload"]


class RawWs:
    """A bare protocol client for negative tests: we choose every frame."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        from websockets.sync.client import connect

        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}", compression=None, max_size=None, additional_headers=headers,
                    open_timeout=5)
        )

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def recv_res(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next response frame; events broadcast meanwhile (health, presence, ...) are passed over."""
        while True:
            msg = self.recv(timeout)
            if msg.get("type") != "event":
                return msg

    def send(self, frame: Any) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def challenge(self) -> dict[str, Any]:
        msg = self.recv()
        assert msg["type"] == "event" and msg["event"] == "connect.challenge", msg
        return msg["payload"]

    def request(self, method: str, params: Any = None, req_id: str = "r1") -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "req", "id": req_id, "method": method}
        if params is not None:
            frame["params"] = params
        self.send(frame)
        while True:
            msg = self.recv()
            if msg.get("type") == "res" and msg.get("id") == req_id:
                return msg

    def close_code(self, timeout: float = 5.0) -> tuple[int | None, str]:
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
        except TimeoutError:
            return (None, "still open")
        return (None, "still open")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()


def connect_params(token: str | None = None, *, client_id: str = "cli", mode: str = "cli",
                   scopes: list[str] | None = None, min_protocol: int = 4, max_protocol: int = 4,
                   **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "minProtocol": min_protocol, "maxProtocol": max_protocol,
        "client": {"id": client_id, "version": "test", "platform": "linux", "mode": mode},
        "role": "operator", "scopes": ["operator.read"] if scopes is None else scopes,
    }
    if token is not None:
        params["auth"] = {"token": token}
    params.update(extra)
    return params


@contextlib.contextmanager
def running(gw: Gateway, port: int) -> Iterator[Gateway]:
    gw.start()
    try:
        gw.wait_healthy(port)
        yield gw
    finally:
        gw.stop()


@contextlib.contextmanager
def tiny_site(body: bytes, content_type: str = "text/html", port: int = 0) -> Iterator[int]:
    """A loopback HTTP server answering every GET with `body` (a page, a probe); yields its port."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def tools_invoke(port: int, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST /tools/invoke as JSON with the bearer token: (status, parsed body)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/tools/invoke", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def upstream_bin() -> str | None:
    """Upstream's Node CLI for the optional compatibility tests: `OPENCLAW_UPSTREAM_BIN`, then
    `openclaw-upstream` on PATH, then scripts/upstream_install.sh's wrapper; `OPENCLAW_UPSTREAM_BIN=off`
    runs the suite as a machine without upstream would (those tests skip)."""
    import shutil

    given = os.environ.get("OPENCLAW_UPSTREAM_BIN")
    if given:
        return None if given == "off" else given
    wrapper = "/opt/upstream/bin/openclaw-upstream"
    return shutil.which("openclaw-upstream") or (wrapper if os.path.exists(wrapper) else None)
