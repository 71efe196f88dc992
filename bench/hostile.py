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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import attacks
from attacks import Watch, fd_count, healthz_ms, rss_mb, settle_rss
from host import Host
from scenarios_http import s_big_bodies, s_csrf, s_http_lockout, s_slow_readers
from scenarios_turns import s_handshakes_sequential, s_long_reply


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



# -- wide params: huge frames against the typed params models ----------------------------------
async def _wide_frames(port: int, token: str, n: int) -> dict[str, Any]:
    """Frames of up to ~12 MB whose params are wide; how long each took to answer, and the answer's size."""
    ws = await attacks.authenticated(port, token, scopes=["operator.read", "operator.write"])
    frames = {
        "unknownKeys": ("health", {f"k{i}": 1 for i in range(n)}),
        "badArrayItems": ("sessions.preview", {"keys": [1] * n}),
        "goodArray": ("sessions.preview", {"keys": ["main"] * n}),
        "wideObjectValue": ("browser.request", {"method": "GET", "path": "/nope",
                                                "body": {f"k{i}": i for i in range(n)}}),
    }
    out: dict[str, Any] = {}
    try:
        for name, (method, params) in frames.items():
            raw = json.dumps({"type": "req", "id": name, "method": method, "params": params})
            started = time.perf_counter()
            await ws.send_json(raw)
            while (reply := await ws.recv_json(timeout=120)).get("id") != name:
                pass
            error = (reply.get("error") or {}).get("message") or ""
            answered = round((time.perf_counter() - started) * 1000)
            out[name] = {"frameMB": round(len(raw) / 2**20, 1), "answerMs": answered, "ok": reply.get("ok"),
                         "errorChars": len(error)}
    finally:
        ws.abort()
    return out


def s_wide_params(h: Host, scale: float) -> dict[str, Any]:
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    with Watch(pid, h.port, interval=0.02) as w:
        result = asyncio.run(_wide_frames(h.port, h.token, max(1000, int(1_000_000 * scale))))
    after = settle_rss(pid, 10)
    h.stop()
    return {**result, "idleMB": idle, **w.summary(), "rss10sAfterMB": after,
            "target": "each answered in about the time its JSON takes to decode; one bounded error line"}


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
    "wide-params": s_wide_params,
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
