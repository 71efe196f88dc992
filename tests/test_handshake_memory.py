"""A rejected handshake leaves nothing behind once its socket is gone.

Real clients answer the server's close frame with their own; aiohttp re-armed its heartbeat
timer on that answer and the timer kept the whole connection for 45 s. The first test pins the
mechanism in-process (a weak reference to the socket dies as soon as it is closed); the second
drives a real gateway with sequential wrong-token clients and reads its memory.
"""

from __future__ import annotations

import asyncio
import gc
import struct
import sys
import weakref
from pathlib import Path

from aiohttp import WSMsgType, web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import attacks

from openclaw.gateway.limits import Limits
from openclaw.gateway.transport.connection import websocket


async def answered_rejection(port: int, token: str = "wrong-token") -> int | None:
    """A wrong-token handshake left as a browser or the CLI leaves: close answered, then EOF."""
    ws = await attacks.RawWs.open(port)
    try:
        await ws.recv_json()
        await ws.send_json({"type": "req", "id": "c", "method": "connect", "params": attacks.connect_params(token)})
        code = (await ws.closed()).code
        await ws.send_frame(attacks.OP_CLOSE, struct.pack("!H", code or 1000))
        await asyncio.wait_for(ws.reader.read(), 10)
        return code
    finally:
        ws.abort()


def test_a_socket_closed_by_the_server_is_freed_when_the_peer_answers_the_close() -> None:
    async def run() -> None:
        sockets: list[weakref.ref[web.WebSocketResponse]] = []

        async def handler(request: web.Request) -> web.WebSocketResponse:
            ws = websocket(Limits())
            await ws.prepare(request)
            sockets.append(weakref.ref(ws))
            await ws.send_str('{"type":"event","event":"connect.challenge","payload":{}}')
            msg = await ws.receive()
            assert msg.type == WSMsgType.TEXT
            await ws.close(code=1008, message=b"unauthorized")  # waits for the peer's close frame
            return ws

        app = web.Application()
        app.router.add_get("/", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            assert await answered_rejection(port) == 1008
            for _ in range(200):  # a few loop turns for aiohttp's connection_lost callbacks
                gc.collect()
                if sockets and sockets[0]() is None:
                    break
                await asyncio.sleep(0.01)
            assert sockets and sockets[0]() is None, "the closed socket is still referenced (a timer holds it)"
        finally:
            await runner.cleanup()

    asyncio.run(run())


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_sequential_rejected_handshakes_do_not_grow_the_gateway(started) -> None:
    """1,200 wrong-token clients one after another: each used to keep ~10 KB for 45 s (12 MB here)."""
    _, port, gw = started

    async def run(count: int) -> set[int | None]:
        return {await answered_rejection(port) for _ in range(count)}

    assert asyncio.run(run(100)) == {1008}  # warm up: allocator pools, log file, first-use caches
    before = rss_kb(gw.pid)
    assert asyncio.run(run(1200)) == {1008}
    grown_mb = (rss_kb(gw.pid) - before) / 1024
    assert grown_mb < 5, f"the gateway grew {grown_mb:.1f} MB over 1,200 rejected handshakes"
