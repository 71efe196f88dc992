#!/usr/bin/env python3
"""Record the RPC calls upstream's CLI makes in ordinary use, against upstream's own gateway.

A recording WebSocket proxy sits between upstream's CLI and upstream's gateway: the config (in a
fresh HOME) names the proxy's port, the gateway runs on another one. Each request (method, params)
and the shape of its answer (top-level keys and value types, never values) is written to
tests/fixtures/upstream-trace/cli.json, which tests/test_method_trace.py replays against ours.
Then the methods our gateway answers beyond what the CLI calls are called directly (a device-signed
operator client through the same proxy) and recorded in methods.json, to compare shapes the same way.

    .venv/bin/python scripts/upstream_trace.py [--methods-only] [/path/to/openclaw-upstream]

`--attach=PORT:HOME` records against an upstream gateway already running on PORT with HOME
(implies --methods-only; nothing is started or removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests/fixtures/upstream-trace"
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ATTACH = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--attach=")), None)
METHODS_ONLY = "--methods-only" in sys.argv or ATTACH is not None
UPSTREAM = ARGS[0] if ARGS else (shutil.which("openclaw-upstream") or "/opt/upstream/bin/openclaw-upstream")
MAX_FRAME = 64 * 1024 * 1024
CLI_TIMEOUT = 180

# What an upstream user runs in ordinary use; each one's RPCs are recorded under its name.
COMMANDS: list[list[str]] = [
    ["status"], ["status", "--all"], ["status", "--json"], ["health"], ["health", "--json"],
    ["gateway", "status"], ["gateway", "status", "--require-rpc"], ["gateway", "probe"],
    ["gateway", "stability"], ["gateway", "usage-cost"],
    ["sessions"], ["sessions", "--json"],
    ["models", "list"], ["models", "status"],
    ["cron", "list"], ["cron", "status"], ["cron", "runs", "--id", "missing-job"],
    ["devices", "list"], ["pairing", "list", "telegram"],
    ["channels", "status"], ["channels", "list"],
    ["logs", "--limit", "5"], ["config", "get", "gateway.port"],
    ["system", "heartbeat", "last"], ["system", "event", "--text", "trace check"],
    ["system", "presence"],
    ["nodes", "list"], ["nodes", "status"],
    ["skills", "list"], ["skills", "check"],
    ["approvals", "get"], ["approvals", "pending"],
    ["plugins", "list"], ["agents", "list"], ["memory", "status"],
    ["usage"], ["update", "status"], ["doctor", "--non-interactive"],
]


# Called directly after the CLI's commands: (method, params) with an honest answer on ours too.
DIRECT: list[tuple[str, dict[str, Any]]] = [(m, {}) for m in (
    "last-heartbeat", "system.info", "gateway.identity.get", "gateway.restart.preflight", "diagnostics.lanes",
    "node.list", "node.pair.list", "plugins.list", "plugins.catalog.browse", "plugins.uiDescriptors",
    "plugins.controlUi.list", "plugins.controlUi.status", "skills.status", "skills.library.list",
    "skills.securityVerdicts", "skills.proposals.list", "skills.curator.status", "exec.approvals.get",
    "exec.approval.list", "exec.approval.grants.list", "plugin.approval.list", "openclaw.approval.list",
    "approval.history", "update.status", "update.runs.list", "doctor.memory.status", "doctor.memory.dreamDiary",
    "talk.config", "talk.catalog", "tts.status", "tts.providers", "tts.personas", "voicewake.get",
    "voicewake.routing.get", "tools.catalog", "commands.list", "webSearch.status", "tasks.list",
    "taskSuggestions.list", "users.list", "users.prefs.get", "projects.list", "worktrees.list", "environments.list",
    "terminal.list", "portal.list", "secrets.store.list", "secrets.reload", "themes.list", "audit.list",
    "audit.activity.list", "hooks.status", "computer.status", "openclaw.changes.list", "transcripts.status",
    "cron.list", "models.list",
)] + [
    ("plugins.search", {"query": "telegram"}), ("tools.effective", {"sessionKey": "agent:main:main"}),
    ("agents.files.list", {"agentId": "main"}), ("agents.files.get", {"agentId": "main", "name": "AGENTS.md"}),
    ("agents.workspace.list", {"agentId": "main"}),
    ("agents.workspace.get", {"agentId": "main", "path": "AGENTS.md"}),
    ("users.mentionable", {"agentId": "main", "sessionKey": "agent:main:main"}),
    ("artifacts.list", {"sessionKey": "agent:main:main"}), ("conversations.list", {"agentId": "main"}),
    ("migrations.memory.plan", {"agentId": "main"}), ("memory.search", {"query": "trace"}),
    ("set-heartbeats", {"enabled": False}), ("set-heartbeats", {"enabled": True}),
    ("wake", {"mode": "next-heartbeat", "text": "trace wake"}), ("system-event", {"text": "trace event"}),
    ("config.schema.lookup", {"path": "gateway.port"}), ("models.list", {"view": "all"}),
    ("cron.list", {"includeDisabled": True, "agentId": "main", "sortDir": "desc", "limit": 50, "offset": 0}),
    ("cron.runs", {"agentId": "main", "sortDir": "desc", "limit": 50, "offset": 0}),
    ("cron.runs", {"scope": "all", "sortDir": "desc", "limit": 20}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def shape(value: Any, depth: int = 0) -> Any:
    """Types in place of values: dicts keep their keys (two levels; a map keyed by ids becomes
    `{"<id>": shape}`), lists their first item's shape."""
    if isinstance(value, dict):
        if depth >= 2:
            return "object"
        if value and all(UUID.match(k) for k in value):
            return {"<id>": shape(next(iter(value.values())), depth + 1)}
        return {k: shape(v, depth + 1) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0], depth + 1)] if value and depth < 2 else []
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string"}.get(type(value), "unknown")


SECRET_KEYS = ("token", "password", "secret", "signature", "publicKey", "nonce", "key")


def scrub(value: Any, home: str) -> Any:
    """Params as sent, with secrets blanked and the temporary HOME written as /home/user."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if any(s.lower() in k.lower() for s in SECRET_KEYS) and k != "sessionKey"
                    and isinstance(v, str) else scrub(v, home)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, home) for v in value]
    if isinstance(value, str):
        return value.replace(home, "/home/user")
    return value


class Recorder:
    def __init__(self, target: int, home: str) -> None:
        self.target, self.home = target, home
        self.command = ""
        self.calls: list[dict[str, Any]] = []
        self.hello: dict[str, Any] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        client = web.WebSocketResponse(max_msg_size=MAX_FRAME)
        await client.prepare(request)
        pending: dict[str, tuple[str, Any]] = {}
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"ws://127.0.0.1:{self.target}/", max_msg_size=MAX_FRAME, origin=request.headers.get("Origin")) as up:
            await asyncio.gather(self._relay(client, up, pending, True), self._relay(up, client, pending, False))
        return client

    async def _relay(self, src: Any, dst: Any, pending: dict[str, tuple[str, Any]], outbound: bool) -> None:
        async for msg in src:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            self._observe(msg.data, pending, outbound)
            if dst.closed:
                break
            await dst.send_str(msg.data)
        if not dst.closed:
            await dst.close()

    def _observe(self, text: str, pending: dict[str, tuple[str, Any]], outbound: bool) -> None:
        frame = json.loads(text)
        if outbound and frame.get("type") == "req":
            pending[frame["id"]] = (frame["method"], frame.get("params"))
        elif not outbound and frame.get("type") == "res" and frame.get("id") in pending:
            method, params = pending.pop(frame["id"])
            if method == "connect":
                if frame.get("ok"):
                    self.hello = frame["payload"]
                return
            entry: dict[str, Any] = {"command": self.command, "method": method,
                                     "params": scrub(params, self.home), "ok": bool(frame.get("ok"))}
            if frame.get("ok"):
                entry["response"] = shape(frame.get("payload"))
            else:
                entry["error"] = {"code": frame["error"].get("code"), "message": frame["error"].get("message")}
            self.calls.append(entry)


async def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.5)
    raise SystemExit(f"upstream's gateway did not listen on {port} within {timeout}s")


async def run_cli(env: dict[str, str], args: list[str]) -> int:
    proc = await asyncio.create_subprocess_exec(UPSTREAM, *args, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        return await asyncio.wait_for(proc.wait(), CLI_TIMEOUT)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        return -9


def call_direct(port: int, token: str | None) -> None:
    """Each DIRECT method once, through the proxy (which records it), as an operator with every scope."""
    from openclaw.client.identity import DeviceIdentity
    from openclaw.client.rpc import GatewayCallError, GatewayClient

    deadline = time.monotonic() + 600
    while True:  # upstream's gateway listens before it takes requests ("gateway starting; retry shortly")
        client = GatewayClient(f"ws://127.0.0.1:{port}", token, identity=DeviceIdentity.generate(), timeout=60)
        try:
            client.connect()
            break
        except GatewayCallError as exc:
            client.close()
            if "starting" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(2)
    try:
        for method, params in DIRECT:
            with contextlib.suppress(GatewayCallError):  # an error is recorded by the proxy too
                client.call(method, params)
    finally:
        client.close()


async def main() -> None:
    if ATTACH:
        attached_port, home = ATTACH.split(":", 1)
    else:
        home = tempfile.mkdtemp(prefix="upstream-trace-")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}, "HOME": home,
           "NO_COLOR": "1"}
    proxy_port, real_port = free_port(), int(attached_port) if ATTACH else free_port()
    gateway = None if ATTACH else await asyncio.to_thread(start_upstream, env, proxy_port, real_port)
    recorder = Recorder(real_port, home)
    app = web.Application()
    app.router.add_get("/", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", proxy_port).start()
    try:
        await wait_port(real_port, 900)
        results = {}
        for args in [] if METHODS_ONLY else COMMANDS:
            recorder.command = " ".join(args)
            results[recorder.command] = await run_cli(env, args)
            print(f"{results[recorder.command]:>4}  openclaw {recorder.command}", file=sys.stderr)
        cli_calls, hello = recorder.calls, recorder.hello
        recorder.calls, recorder.command = [], "(direct call)"
        token = json.loads((Path(home) / ".openclaw/openclaw.json").read_text())["gateway"]["auth"].get("token")
        await asyncio.to_thread(call_direct, proxy_port, token)
        direct_calls = recorder.calls
    finally:
        await runner.cleanup()
        if gateway is not None:
            await asyncio.to_thread(stop, gateway)
            shutil.rmtree(home, ignore_errors=True)
    version = (hello or recorder.hello).get("server", {}).get("version")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if not METHODS_ONLY:
        write(OUT_DIR / "cli.json", {
            "source": "upstream's CLI commands against upstream's gateway", "version": version,
            "exitCodes": results,
            "hello": {"capabilities": sorted(hello.get("features", {}).get("capabilities", [])),
                      "events": sorted(hello.get("features", {}).get("events", [])),
                      "snapshot": shape(hello.get("snapshot", {}))},
            "calls": cli_calls})
    write(OUT_DIR / "methods.json", {"source": "direct calls to upstream's gateway", "version": version,
                                     "calls": direct_calls})


def start_upstream(env: dict[str, str], config_port: int, port: int) -> subprocess.Popen[bytes]:
    """Onboard a fresh HOME whose config names `config_port` (the proxy), then run the gateway on `port`."""
    subprocess.run([UPSTREAM, "onboard", "--non-interactive", "--accept-risk", "--skip-daemon", "--skip-health",
                    "--gateway-port", str(config_port)], env=env, check=True, capture_output=True, timeout=300)
    return subprocess.Popen([UPSTREAM, "gateway", "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop(gateway: subprocess.Popen[bytes]) -> None:
    os.killpg(gateway.pid, signal.SIGTERM)
    try:
        gateway.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(gateway.pid, signal.SIGKILL)
        gateway.wait()


def write(path: Path, trace: dict[str, Any]) -> None:
    path.write_text(json.dumps(trace, indent=1) + "\n")
    print(f"{len(trace['calls'])} calls -> {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
