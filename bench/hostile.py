#!/usr/bin/env python3
"""The gateway under hostile input and load, with figures.

Each scenario starts a fresh gateway in a throwaway HOME, attacks it from
loopback and prints what it cost the gateway (RSS, file descriptors,
`/healthz` latency for other clients meanwhile, time to stop). Nothing
touches the real ~/.openclaw.

    python bench/hostile.py                    # every scenario at full size
    python bench/hostile.py --only pipeline    # one scenario
    python bench/hostile.py --scale 0.1        # a quick, smaller run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import attacks  # noqa: E402
from attacks import Watch, fd_count, healthz_ms, rss_mb  # noqa: E402
from run import Bench  # noqa: E402

PY = sys.executable


class Host(Bench):
    """A throwaway HOME with the default instance set up and at most one running gateway."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(json.loads(self.cli("setup", "--json").stdout)["port"])
        self.state = Path(self.env["HOME"]) / ".openclaw"
        self.token = json.loads((self.state / "openclaw.json").read_text())["gateway"]["auth"]["token"]

    def launch(self, nofile: int | None = None, extra_env: dict[str, str] | None = None) -> int:
        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.log = (self.root / "gateway.out").open("wb")
        self.proc = subprocess.Popen([PY, "-m", "openclaw", "gateway"], env={**self.env, **(extra_env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limit)
        deadline = time.monotonic() + 30
        while healthz_ms(self.port, 0.5) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not become healthy: {(self.root / 'gateway.out').read_text()}")
            time.sleep(0.01)
        time.sleep(1.0)  # let start-up allocations settle before taking the idle baseline
        return self.proc.pid

    def stop(self) -> float:
        """SIGTERM; seconds until the process exited."""
        assert self.proc is not None
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.perf_counter() - started

    def output(self) -> str:
        return (self.root / "gateway.out").read_text(errors="replace")


def settle_rss(pid: int, seconds: float) -> float:
    time.sleep(seconds)
    return round(rss_mb(pid), 1)


# -- scenarios -----------------------------------------------------------------------------
def s_handshakes(h: Host, scale: float) -> dict[str, Any]:
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    count = int(10_000 * scale)
    with Watch(pid, h.port) as w:
        started = time.perf_counter()
        result = asyncio.run(attacks.rejected_handshakes(h.port, count))
        result["seconds"] = round(time.perf_counter() - started, 1)
    after = settle_rss(pid, 10)
    h.stop()
    return {**result, "idleMB": idle, **w.summary(), "rss10sAfterMB": after, "growthMB": round(after - idle, 1),
            "target": "growth < 20 MB ten seconds later"}


def s_preauth(h: Host, scale: float) -> dict[str, Any]:
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    with Watch(pid, h.port, interval=0.02) as w:
        result = asyncio.run(attacks.oversized_preauth(h.port, 20, int(25 * 2**20 * max(scale, 0.1))))
    h.stop()
    return {**result, "idleMB": idle, **w.summary(), "target": "peak < 150 MB"}


def s_pipeline(h: Host, scale: float) -> dict[str, Any]:
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    with Watch(pid, h.port, interval=0.02) as w:
        result = asyncio.run(attacks.pipeline(h.port, h.token, int(100_000 * scale)))
    after = settle_rss(pid, 10)
    h.stop()
    return {**result, "idleMB": idle, **w.summary(), "rss10sAfterMB": after,
            "target": "healthz p99 < 200 ms, RSS < 150 MB, back to idle + 10 MB"}


def s_idle_sockets(h: Host, scale: float) -> dict[str, Any]:
    pid = h.launch()
    fds0 = fd_count(pid)
    count = int(1000 * scale)

    async def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, payload, drip in (
            ("silent", b"", None),
            ("partialRequestLine", b"GET /healthz HT", None),
            ("slowloris", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", lambda s: s.send(b"X-a: b\r\n")),
            ("upgradedSilent", _upgrade_request(h.port), None),
        ):
            n = count if name == "silent" else max(10, count // 10)
            socks = await attacks.idle_sockets(h.port, n, payload)
            out[f"{name}Sockets"] = n
            out[f"{name}FdsDuring"] = fd_count(pid)
            out[f"{name}ClosedAfterS"] = await attacks.wait_all_closed(socks, 60, drip)
            for sock in socks:
                sock.close()
        return out

    with Watch(pid, h.port) as w:
        result = asyncio.run(run())
    time.sleep(0.5)
    fds1 = fd_count(pid)
    h.stop()
    return {**result, "fdsBefore": fds0, "fdsAfter": fds1, **w.summary(),
            "target": "all closed within 15 s, fds back to baseline"}


def _upgrade_request(port: int) -> bytes:
    return (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def s_fd_exhaustion(h: Host, scale: float) -> dict[str, Any]:
    """A hard open-files limit of 256 (the gateway cannot raise it) and 300 silent sockets."""
    h.launch(nofile=256)

    async def run() -> dict[str, Any]:
        started = time.perf_counter()
        socks = await attacks.idle_sockets(h.port, 300)
        during = [await asyncio.to_thread(healthz_ms, h.port, 1.0) for _ in range(3)]
        closed = await attacks.wait_all_closed(socks, 60)
        closed_at = round(time.perf_counter() - started, 1) if closed is not None else None
        for sock in socks:
            sock.close()
        while time.perf_counter() - started < 60 and await asyncio.to_thread(healthz_ms, h.port, 1.0) is None:
            pass
        return {"idleSockets": 300, "healthzServedWhileExhausted": f"{sum(d is not None for d in during)}/3",
                "socketsClosedAfterS": closed_at, "healthyAgainAfterS": round(time.perf_counter() - started, 1)}

    result = asyncio.run(run())
    h.stop()
    log = h.state / "logs" / "gateway.log"
    texts = [h.output(), log.read_text(errors="replace") if log.exists() else ""]
    noisy = sum(t.count("out of system resource") + t.count("cannot accept connections") for t in texts)
    return {**result, "nofile": 256, "exhaustionLogLines": noisy, "target": "one log line per interval"}


def s_shutdown(h: Host, scale: float) -> dict[str, Any]:
    h.launch()
    count = int(300 * scale)

    async def run() -> float:
        clients = await attacks.ui_clients(h.port, h.token, count)
        seconds = await asyncio.to_thread(h.stop)
        for ws in clients:
            ws.abort()
        return seconds

    return {"uiClients": count, "stopSeconds": round(asyncio.run(run()), 2), "target": "exit < 2 s"}


def s_config_lock(h: Host, scale: float) -> dict[str, Any]:
    from openclaw.fsutil import FileLock

    pid = h.launch()
    config = h.state / "openclaw.json"
    lock = FileLock(config.with_name(f".{config.name}.lock"))
    assert lock.try_acquire()
    held = 10 * max(scale, 0.3)

    async def run() -> dict[str, Any]:
        ws = await attacks.authenticated(h.port, h.token, scopes=["operator.admin"])
        got = await ws.request("config.get", {})
        base_hash = got["payload"]["hash"]
        asyncio.get_running_loop().call_later(held, lock.release, False)
        started = time.perf_counter()
        res = await ws.request("config.patch", {"raw": '{"logging": {"level": "debug"}}', "baseHash": base_hash},
                               timeout=60)
        ws.abort()
        return {"patchOk": res["ok"], "patchSeconds": round(time.perf_counter() - started, 1),
                "patchError": (res.get("error") or {}).get("message")}

    with Watch(pid, h.port, interval=0.02) as w:
        result = asyncio.run(run())
    h.stop()
    return {"lockHeldS": held, **result, **w.summary(), "target": "healthz < 100 ms throughout"}


def s_connections(h: Host, scale: float) -> dict[str, Any]:
    """What an open, authenticated, idle client costs (clients offer per-message deflate)."""
    pid = h.launch()
    idle = rss_mb(pid)
    count = int(200 * max(scale, 0.25))

    async def run() -> tuple[float, str]:
        clients = []
        for _ in range(count):
            ws = await attacks.RawWs.open(h.port, attacks.DEFLATE)
            await ws.recv_json()
            res = await ws.request("connect", attacks.connect_params(h.token), req_id="c")
            assert res["ok"], res
            await ws.request("status", req_id="s")  # one real reply each, so a compressor has worked
            clients.append(ws)
        await asyncio.sleep(1)
        held = rss_mb(pid)
        deflate = "permessage-deflate" in clients[0].response_head.lower()
        for ws in clients:
            ws.abort()
        return held, "negotiated" if deflate else "off"

    held, deflate = asyncio.run(run())
    after = settle_rss(pid, 10)
    h.stop()
    return {"clients": count, "deflate": deflate, "idleMB": round(idle, 1), "withClientsMB": round(held, 1),
            "perClientKB": round((held - idle) * 1024 / count, 1), "rss10sAfterMB": after}


def s_tool_escape(_: Host, scale: float) -> dict[str, Any]:
    """Profile a's tools (over /tools/invoke, chat and cron) against profile b's state dir."""
    import escape

    return escape.run(scale)


# -- what a sequential client and a long streamed reply cost ----------------------------
async def _answered_rejection(port: int) -> Any:
    """One handshake with a wrong token, left as a real client leaves: it answers the server's
    close frame with its own and waits for the socket to end (the answer is what used to re-arm
    the server's heartbeat and keep the connection for 45 s)."""
    import struct

    ws = await attacks.RawWs.open(port, attacks.DEFLATE)
    try:
        await ws.recv_json()
        await ws.send_json({"type": "req", "id": "c", "method": "connect",
                            "params": attacks.connect_params("wrong-token")})
        code = (await ws.closed()).code
        with contextlib.suppress(ConnectionError):
            await ws.send_frame(attacks.OP_CLOSE, struct.pack("!H", code or 1000))
            await asyncio.wait_for(ws.reader.read(), 10)
        return code
    finally:
        ws.abort()


def s_handshakes_sequential(h: Host, scale: float) -> dict[str, Any]:
    """10,000 rejected handshakes one after another (the concurrent scenario hides what each keeps)."""
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    count = int(10_000 * scale)

    async def run() -> dict[Any, int]:
        codes: dict[Any, int] = {}
        for _ in range(count):
            try:
                code = await _answered_rejection(h.port)
            except (TimeoutError, OSError, ConnectionError) as exc:
                code = type(exc).__name__
            codes[code] = codes.get(code, 0) + 1
        return codes

    with Watch(pid, h.port) as w:
        started = time.perf_counter()
        codes = asyncio.run(run())
        seconds = round(time.perf_counter() - started, 1)
    after = settle_rss(pid, 10)
    h.stop()
    return {"handshakes": count, "closeCodes": codes, "seconds": seconds, "idleMB": idle, **w.summary(),
            "rss10sAfterMB": after, "growthMB": round(after - idle, 1), "target": "growth < 20 MB ten seconds later"}


def _long_text(size: int) -> str:
    """`size` characters of prose-like text with what JSON must escape (quotes, newlines) and
    non-ASCII in it, so no encoder takes a shortcut the real thing would not."""
    unit = 'The gateway streams "every" piece of this reply; naïve code copies it all again.\n'
    return (unit * (size // len(unit) + 1))[:size]


async def _streamed_turn(port: int, token: str, session: str) -> dict[str, Any]:
    """One `agent` turn over the WebSocket, read to its final answer: seconds and what arrived."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"ws://127.0.0.1:{port}", max_msg_size=0)
        await ws.receive_json()
        await ws.send_json({"type": "req", "id": "c", "method": "connect",
                            "params": attacks.connect_params(token, scopes=["operator.write", "operator.read"])})
        hello = await ws.receive_json()
        while hello.get("type") != "res":  # events may come first
            hello = await ws.receive_json()
        assert hello.get("ok"), hello
        started = time.perf_counter()
        await ws.send_json({"type": "req", "id": "t", "method": "agent",
                            "params": {"message": "go", "sessionKey": session, "idempotencyKey": session}})
        counts = {"agentEvents": 0, "chatDeltas": 0, "wireMB": 0.0}
        while True:
            msg = await ws.receive(timeout=120)
            counts["wireMB"] += len(msg.data) / 2**20
            frame = json.loads(msg.data)
            if frame.get("type") == "event":
                counts["agentEvents"] += frame.get("event") == "agent"
                counts["chatDeltas"] += frame.get("event") == "chat" and frame["payload"].get("state") == "delta"
                continue
            if frame.get("id") == "t" and (frame.get("payload") or {}).get("status") != "accepted":
                seconds = time.perf_counter() - started
                await ws.close()
                payloads = ((frame.get("payload") or {}).get("result") or {}).get("payloads") or [{}]
                return {"seconds": round(seconds, 2), "status": (frame.get("payload") or {}).get("status"),
                        "replyChars": len(payloads[0].get("text") or ""), **counts,
                        "wireMB": round(counts["wireMB"], 1)}


def s_long_reply(h: Host, scale: float) -> dict[str, Any]:
    """A model streaming a 1 MB and a 3 MB reply in 8-character chunks, through the gateway to a
    WebSocket client; the stand-in runs in its own process."""
    import urllib.request

    from agent_turns import Standin

    standin = Standin()
    try:
        provider = {"baseUrl": standin.url, "apiKey": "bench", "models": [{"id": "instant", "contextWindow": 10**8}]}
        h.cli("config", "set", "models.providers.standin", json.dumps(provider))
        h.cli("config", "set", "agents.defaults.model", "standin/instant")
        pid = h.launch()
        out: dict[str, Any] = {"idleMB": round(rss_mb(pid), 1)}
        for mb in (1, 3):
            size = int(mb * 2**20 * scale)
            script = json.dumps([{"text": _long_text(size), "chunk": 8}]).encode()
            urllib.request.urlopen(urllib.request.Request(standin.url.removesuffix("/v1") + "/__script", script,
                                                          {"Content-Type": "application/json"}), timeout=30).read()
            with Watch(pid, h.port) as w:
                turn = asyncio.run(_streamed_turn(h.port, h.token, f"agent:main:long{mb}"))
            out[f"reply{mb}MB"] = {"chars": size, "chunks": -(-size // 8), **turn, **w.summary()}
        out["rss10sAfterMB"] = settle_rss(pid, 10)
        h.stop()
    finally:
        standin.stop()
    return {**out, "target": "3 MB reply < 2 s"}


# -- the canvas symlink race ---------------------------------------------------------
def s_symlink_race(h: Host, scale: float) -> dict[str, Any]:
    """Profile a's canvas root is writable; links in it swap to profile b's state dir while requests run."""
    from races import race

    b_state = Path(h.env["HOME"]) / ".openclaw-b"
    h.cli("--profile", "b", "setup", "--json")
    secret = json.loads((b_state / "openclaw.json").read_text())["gateway"]["auth"]["token"]
    h.launch()
    root = h.state / "workspace" / "canvas"
    started = time.perf_counter()
    result = race([(h.port + 4, ""), (h.port, "/__openclaw__/canvas")], root, b_state, secret, int(10_000 * scale))
    result["seconds"] = round(time.perf_counter() - started, 1)
    h.stop()
    return {**result, "target": "0 leaks in 10,000 requests"}


# -- the HTTP surface (browser rules, body budget, slow readers, lockout) ----------------
def _http_api(h: Host, *settings: tuple[str, str]) -> None:
    for key, value in (("gateway.http.endpoints.chatCompletions.enabled", "true"), *settings):
        h.cli("config", "set", key, value)


def s_csrf(h: Host, scale: float) -> dict[str, Any]:
    """Auth `none`, `write` allowed over HTTP: only the browser rules stand between a web page and a tool."""
    import httpattacks

    _http_api(h, ("gateway.auth.mode", "none"), ("gateway.tools.allow", '["write"]'))
    h.launch()
    result = asyncio.run(httpattacks.csrf(h.port))
    h.stop()
    workspace = h.state / "workspace"
    return {**result, "plantedFileWritten": (workspace / "csrf.txt").exists(),
            "legitFileWritten": (workspace / "legit.txt").exists(),
            "target": "403/415 for every cross-site or rebinding request, nothing written"}


def s_big_bodies(h: Host, scale: float) -> dict[str, Any]:
    """10 authenticated 20 MB bodies at once (`/tools/invoke`): memory held is the body budget."""
    import httpattacks

    (h.state / "workspace").mkdir(parents=True, exist_ok=True)
    (h.state / "workspace" / "small.txt").write_text("ok\n")
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    size = int(20 * 2**20 * max(scale, 0.05)) - 4096
    asyncio.run(httpattacks.big_bodies(h.port, h.token, 1, 1000))  # the tool stack loads once, before we watch
    with Watch(pid, h.port, interval=0.02) as w, ProcessPoolExecutor(1) as uploader:
        # the uploads come from another process: pushing 200 MB here would hold up the watcher's own requests
        result = uploader.submit(_big_bodies, h.port, h.token, 10, size).result()
    budget = _ready_details(h.port).get("httpBodies")
    after = settle_rss(pid, 10)
    h.stop()
    return {**result, "budget": budget, "idleMB": idle, **w.summary(), "rss10sAfterMB": after,
            "target": "every request answered, RSS peak < 150 MB, healthz p99 < 200 ms"}


def _big_bodies(port: int, token: str, count: int, size: int) -> dict[str, Any]:
    import httpattacks

    return asyncio.run(httpattacks.big_bodies(port, token, count, size))


def s_slow_readers(h: Host, scale: float) -> dict[str, Any]:
    """20 clients read 2 MB replies (10 streamed, 10 whole) 16 KiB at a time; a model stand-in
    answers at once, so a stream's reader falls behind. The same 20 turns read at full speed
    first: what both keep afterwards is the agent runtime's (runs and histories it remembers)."""
    import httpattacks
    from model_standin import ModelStandin, Reply

    size = int(2 * 2**20 * max(scale, 0.1))
    model = ModelStandin(default=lambda api, body: Reply(text="r" * size, chunk=64 * 1024), record=False).start()

    async def readers(**kw: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(httpattacks.slow_readers(h.port, h.token, 10, True, **kw),
                                         httpattacks.slow_readers(h.port, h.token, 10, False, **kw)))

    try:
        h.cli("config", "set", "models.providers.stand",
              json.dumps({"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 60}))
        h.cli("config", "set", "agents.defaults.model", "stand/m1")
        _http_api(h)
        pid = h.launch()
        idle = round(rss_mb(pid), 1)
        fast = asyncio.run(readers(read_bytes=1 << 20, pause_s=0))
        after_fast = settle_rss(pid, 10)
        with Watch(pid, h.port, interval=0.02) as w:
            streamed, whole = asyncio.run(readers())
        after = settle_rss(pid, 10)
        h.stop()
    finally:
        model.stop()
    return {"replyMB": round(size / 2**20, 1), "fastReaders": [r["outcomes"] for r in fast],
            "rssAfterFastMB": after_fast, "streamed": streamed, "whole": whole, "idleMB": idle, **w.summary(),
            "rss10sAfterMB": after, "target": "healthz p99 < 200 ms; slow readers keep no more than fast ones"}


def s_http_lockout(h: Host, scale: float) -> dict[str, Any]:
    import httpattacks

    _http_api(h)
    h.launch()
    result = asyncio.run(httpattacks.lockout(h.port, h.token))
    h.stop()
    return {**result, "target": "loopback: right token 200 after 10 wrong; untrusted proxy peer: 429"}


def _ready_details(port: int) -> dict[str, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/readyz")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


SCENARIOS: dict[str, Callable[[Host, float], dict[str, Any]]] = {
    "connections": s_connections,
    "handshakes": s_handshakes,
    "preauth": s_preauth,
    "pipeline": s_pipeline,
    "idle": s_idle_sockets,
    "fds": s_fd_exhaustion,
    "shutdown": s_shutdown,
    "configlock": s_config_lock,
    "toolescape": s_tool_escape,
    "handshakes-seq": s_handshakes_sequential,
    "long-reply": s_long_reply,
    "symlink-race": s_symlink_race,
    "csrf": s_csrf,
    "bodies": s_big_bodies,
    "slowreaders": s_slow_readers,
    "lockout": s_http_lockout,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="run only these scenarios")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply attack sizes (default 1.0)")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')} {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    failed = False
    for name in args.only or SCENARIOS:
        with tempfile.TemporaryDirectory(prefix="oc-hostile-", dir="/tmp") as tmp:
            host = Host(Path(tmp))
            try:
                result = SCENARIOS[name](host, args.scale)
            except Exception as exc:  # noqa: BLE001 - a broken scenario is a finding, keep going
                result, failed = {"error": repr(exc)}, True
            finally:
                if host.proc is not None and host.proc.poll() is None:
                    with contextlib.suppress(Exception):
                        host.proc.kill()
            print(f"{name}: {json.dumps(result)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
