"""What a client can make a gateway hold: memory, sockets, file descriptors, the event loop.

Real gateway processes with their limits lowered through the environment, attacked from loopback
with the same raw clients as bench/hostile.py (which runs them at full size and prints figures).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers import Env, Gateway, free_base, healthz, make_env, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import attacks
from attacks import OP_TEXT, RawWs, authenticated, frame_header

from openclaw.fsutil import FileLock

LIMITS = {
    "OPENCLAW_HTTP_IDLE_TIMEOUT_MS": "500",
    "OPENCLAW_HTTP_REQUEST_TIMEOUT_MS": "500",
    "OPENCLAW_MAX_BUFFERED_BYTES": "65536",
    "OPENCLAW_MAX_IN_FLIGHT": "1",
}


def start(env: Env, port: int, started: list[Gateway], extra: dict[str, str] | None = None,
          nofile: tuple[int, int] | None = None) -> Gateway:
    env.provision(None, port)
    gw = env.gateway(extra_env={**LIMITS, **(extra or {})}, nofile=nofile).start()
    started.append(gw)
    return gw.wait_healthy(port)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int, Gateway]]:
    """One gateway with tight limits for the tests that leave its state as they found it."""
    env = make_env(tmp_path_factory.mktemp("limits"))
    port = free_base()
    gws: list[Gateway] = []
    gw = start(env, port, gws)
    try:
        yield env, port, gw
    finally:
        gw.stop()


def established(pid: int) -> int:
    """TCP connections the gateway process holds open right now (listening sockets excluded)."""
    return sum(1 for c in psutil.Process(pid).net_connections(kind="tcp") if c.status == psutil.CONN_ESTABLISHED)


def config_lock(env: Env) -> FileLock:
    path = env.config_path()
    lock = FileLock(path.with_name(f".{path.name}.lock"))
    assert lock.try_acquire()
    return lock


async def astats(env: Env, port: int) -> dict[str, int]:
    """The gateway's own count of connections, requests in flight and unsent bytes."""
    ws = await authenticated(port, env.token())
    res = await ws.request("status")
    ws.abort()
    return res["payload"]["gateway"]["connections"]


def stats(env: Env, port: int) -> dict[str, int]:
    return asyncio.run(astats(env, port))


# -- memory ---------------------------------------------------------------------------------
def test_rejected_handshakes_release_their_sockets_and_deflate_is_off(limited: tuple[Env, int, Gateway]) -> None:
    _, port, gw = limited

    async def run() -> tuple[str, dict]:
        ws = await RawWs.open(port, attacks.DEFLATE)
        ws.abort()
        return ws.response_head, await attacks.rejected_handshakes(port, 200, concurrency=20)

    head, result = asyncio.run(run())
    assert "permessage-deflate" not in head.lower()
    assert result["closeCodes"] == {1008: 200}
    wait_for(lambda: established(gw.pid) == 0, what="every rejected connection closed by the gateway")


def test_preauth_limit_is_checked_on_the_frame_header(limited: tuple[Env, int, Gateway]) -> None:
    _, port, _ = limited

    async def declared_25mb() -> attacks.Closed:
        ws = await RawWs.open(port)
        await ws.recv_json()
        ws.writer.write(frame_header(OP_TEXT, 25 * 2**20) + b"x" * 100)  # a header, then almost nothing
        return await ws.closed(timeout=5)

    async def fragmented() -> attacks.Closed:
        ws = await RawWs.open(port)
        await ws.recv_json()
        chunk = b"y" * 40_000
        ws.writer.write(frame_header(OP_TEXT, len(chunk), fin=False) + chunk)
        ws.writer.write(frame_header(0x0, len(chunk)) + chunk)  # the continuation takes it past 64 KiB
        return await ws.closed(timeout=5)

    for attack in (declared_25mb, fragmented):
        closed = asyncio.run(attack())
        assert (closed.code, closed.reason) == (1009, "preauth payload too large"), attack.__name__


def test_requests_in_flight_are_capped_and_the_loop_stays_free(tmp_path: Path, base: int,
                                                              gateways: list[Gateway]) -> None:
    """A config write waits for a file lock held elsewhere: /healthz keeps answering, the next
    request of that client (max in flight 1) gets upstream's busy error at once."""
    env = make_env(tmp_path)
    start(env, base, gateways)
    lock = config_lock(env)

    async def run() -> tuple[dict, dict, list[bool]]:
        ws = await authenticated(base, env.token(), scopes=["operator.admin"])
        got = await ws.request("config.get", {}, req_id="g")
        await ws.send_json({"type": "req", "id": "p", "method": "config.patch",
                            "params": {"raw": '{logging: {level: "debug"}}', "baseHash": got["payload"]["hash"]}})
        busy = await ws.request("health", req_id="h")
        live = [await asyncio.to_thread(healthz, base) for _ in range(5)]
        lock.release(remove=False)
        patched = await _reply(ws, "p")
        ws.abort()
        return busy, patched, live

    busy, patched, live = asyncio.run(run())
    assert all(live), "the gateway stopped answering while a config write waited for the lock"
    assert busy["error"] == {"code": "UNAVAILABLE", "message": "The server is busy. Please try again in a moment.",
                             "retryable": True, "retryAfterMs": 1000}
    assert patched["ok"] and env.config()["logging"]["level"] == "debug"


async def _reply(ws: RawWs, req_id: str) -> dict:
    while True:
        msg = await ws.recv_json(timeout=30)
        if msg.get("type") == "res" and msg.get("id") == req_id:
            return msg


def test_a_connections_requests_end_with_it(tmp_path: Path, base: int, gateways: list[Gateway]) -> None:
    env = make_env(tmp_path)
    start(env, base, gateways, {"OPENCLAW_MAX_IN_FLIGHT": "8"})
    lock = config_lock(env)

    async def run() -> tuple[dict[str, int], dict[str, int]]:
        ws = await authenticated(base, env.token(), scopes=["operator.admin"])
        got = await ws.request("config.get", {}, req_id="g")
        for i in range(3):  # one waits for the file lock, two for the first
            await ws.send_json({"type": "req", "id": f"p{i}", "method": "config.patch",
                                "params": {"raw": "{logging: {level: 'debug'}}", "baseHash": got["payload"]["hash"]}})
        await ws.request("health", req_id="h")  # frames are handled in order: all three are running
        during = await astats(env, base)
        ws.abort()
        await asyncio.to_thread(wait_for, lambda: stats(env, base)["open"] == 1, 10, 0.05, "the client gone")
        return during, await astats(env, base)

    try:
        during, after = asyncio.run(run())
    finally:
        lock.release(remove=False)
    assert during["requestsInFlight"] == 4  # three patches and the status request asking
    assert after["requestsInFlight"] == 1 and after["open"] == 1  # only the asker's own request is left

    async def later_write() -> dict:
        ws = await authenticated(base, env.token(), scopes=["operator.admin"])
        got = await ws.request("config.get", {}, req_id="g")
        res = await ws.request("config.patch", {"raw": "{logging: {consoleLevel: 'warn'}}",
                                                "baseHash": got["payload"]["hash"]}, timeout=30)
        ws.abort()
        return res

    assert asyncio.run(later_write())["ok"]  # the lock is free again, and nothing was written meanwhile
    assert env.config()["logging"] == {"consoleLevel": "warn"}  # the cancelled patches never landed


def test_a_client_that_does_not_read_is_cut_off(limited: tuple[Env, int, Gateway]) -> None:
    """Its replies pile up past the buffered-bytes limit: the gateway lets go of it (the client,
    reading nothing, cannot see the close; the gateway's side of the socket is what counts)."""
    env, port, gw = limited
    log = env.state_dir() / "logs" / "gateway.log"

    async def run() -> None:
        attack = asyncio.ensure_future(attacks.pipeline(port, env.token(), 5000, hold=15))
        await asyncio.to_thread(wait_for, lambda: "closing slow consumer" in log.read_text(), 15, 0.05,
                                "slow consumer cut off")
        await asyncio.to_thread(wait_for, lambda: established(gw.pid) == 0, 15, 0.05, "its socket released")
        attack.cancel()

    asyncio.run(run())
    assert healthz(port)


# -- time limits ----------------------------------------------------------------------------
def test_silent_partial_and_dripping_connections_are_closed(limited: tuple[Env, int, Gateway]) -> None:
    _, port, gw = limited
    control, canvas = port + 2, port + 4  # the default footprint

    async def run() -> list[float | None]:
        out = []
        for target in (port, control, canvas):
            silent = await attacks.idle_sockets(target, 10)
            partial = await attacks.idle_sockets(target, 3, b"GET /healthz HT")
            out.append(await attacks.wait_all_closed(silent + partial, 10))
        drip = await attacks.idle_sockets(port, 3, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        out.append(await attacks.wait_all_closed(drip, 10, lambda s: s.send(b"X-a: b\r\n")))
        return out

    assert None not in asyncio.run(run())
    wait_for(lambda: established(gw.pid) == 0, what="every socket released")


def test_idle_keep_alive_and_slow_bodies_are_cut(limited: tuple[Env, int, Gateway]) -> None:
    env, port, _ = limited
    control = port + 2
    keep = socket.create_connection(("127.0.0.1", port))
    keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    slow = socket.create_connection(("127.0.0.1", control))
    slow.sendall(f"POST /start HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {env.token()}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode())
    answers = []
    for sock in (keep, slow):
        sock.settimeout(10)
        received = b""
        while chunk := sock.recv(65536):  # until the gateway closes it
            received += chunk
        sock.close()
        answers.append(received.split(b"\r\n", 1)[0])
    assert answers == [b"HTTP/1.1 200 OK", b"HTTP/1.1 504 Gateway Timeout"]


def test_descriptor_exhaustion_is_logged_once_and_recovers(tmp_path: Path, base: int,
                                                          gateways: list[Gateway]) -> None:
    env = make_env(tmp_path)
    gw = start(env, base, gateways, nofile=(48, 48))  # a hard limit the gateway cannot raise

    async def run() -> float | None:
        socks = await attacks.idle_sockets(base, 80)
        closed = await attacks.wait_all_closed(socks, 20)
        for sock in socks:
            sock.close()
        return closed

    assert asyncio.run(run()) is not None
    wait_for(lambda: healthz(base), what="healthy again once the idle sockets are gone")
    log = (env.state_dir() / "logs" / "gateway.log").read_text()
    assert 1 <= log.count("cannot accept connections") <= 3
    assert "out of system resource" not in gw.output() and "Traceback" not in gw.output()


def test_soft_open_files_limit_is_raised_to_the_hard_one(tmp_path: Path, base: int,
                                                        gateways: list[Gateway]) -> None:
    env = make_env(tmp_path)
    gw = start(env, base, gateways, nofile=(256, 2048))
    assert psutil.Process(gw.pid).rlimit(psutil.RLIMIT_NOFILE) == (2048, 2048)


# -- presence and shutdown ------------------------------------------------------------------
def test_presence_changes_are_coalesced(limited: tuple[Env, int, Gateway]) -> None:
    env, port, _ = limited

    async def run() -> list[dict]:
        reader = await authenticated(port, env.token(), mode="ui", client_id="openclaw-control-ui")
        clients = await asyncio.gather(*(authenticated(port, env.token(), mode="ui", client_id="openclaw-control-ui")
                                         for _ in range(15)))
        events = []
        while True:
            msg = await reader.recv_json()
            if msg.get("event") == "presence":
                events.append(msg)
                if sum(1 for p in msg["payload"]["presence"] if p.get("mode") == "ui") == 16:
                    break
        for ws in [reader, *clients]:
            ws.abort()
        return events

    events = asyncio.run(run())
    assert len(events) < 15  # fifteen joins at once: fewer events than joins (a few, on any machine)
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


def test_shutdown_tells_everyone_once_and_broadcasts_nothing_else(tmp_path: Path, base: int,
                                                                 gateways: list[Gateway]) -> None:
    env = make_env(tmp_path)
    gw = start(env, base, gateways)

    async def run() -> list[list[dict]]:
        clients = [await authenticated(base, env.token(), mode="ui", client_id="openclaw-control-ui")
                   for _ in range(30)]
        first = clients[0]
        while True:  # everyone has joined once the first client's presence shows all thirty
            msg = await first.recv_json()
            if msg.get("event") == "presence" and len([p for p in msg["payload"]["presence"]
                                                       if p.get("mode") == "ui"]) == 30:
                break
        gw.signal(signal.SIGTERM)

        async def after_shutdown(ws: RawWs) -> list[dict]:
            seen = []
            try:
                while True:
                    seen.append(await ws.recv_json())
            except attacks.Closed as closed:
                seen.append({"closed": [closed.code, closed.reason]})
            return seen

        return await asyncio.gather(*(after_shutdown(ws) for ws in clients))

    for seen in asyncio.run(run()):
        events = [m.get("event") for m in seen if "event" in m]
        tail = events[events.index("shutdown"):]
        assert tail == ["shutdown"], events
        assert seen[-1] == {"closed": [1012, "service restart"]}
    assert gw.wait_exit(10) == 0

