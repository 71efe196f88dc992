"""bench/hostile.py scenarios: what a sequential client and a long streamed reply cost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
from typing import TYPE_CHECKING, Any

import attacks
from attacks import Watch, rss_mb, settle_rss

if TYPE_CHECKING:
    from host import Host


async def _answered_rejection(port: int) -> Any:
    """One handshake with a wrong token, left as a real client leaves: it answers the server's
    close frame with its own and waits for the socket to end (the answer is what used to re-arm
    the server's heartbeat and keep the connection for 45 s)."""

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
