"""Hostile clients for a gateway under test: raw WebSocket frames, idle sockets, floods.

Shared by `bench/hostile.py` (full-size attacks, figures) and the test suite
(small-size attacks, assertions). Everything speaks to 127.0.0.1 with asyncio
streams, so one process can drive thousands of sockets on two cores.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8  # tcpi_state values (linux/tcp_states.h)
ZERO_MASK = b"\0\0\0\0"  # a real mask key that leaves the payload as it is: cheap to stream


class Closed(Exception):
    """The server closed the connection; `code`/`reason` from its close frame, if it sent one."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


def frame_header(opcode: int, length: int, fin: bool = True) -> bytes:
    """A masked client frame header (zero mask key) for a payload of `length` bytes."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + ZERO_MASK


class RawWs:
    """A WebSocket client that sends exactly the bytes we choose."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self._inflate: Any = None  # per-message deflate from the server, when it negotiated it
        self.response_head = ""  # the server's 101 response, headers included

    @classmethod
    async def open(cls, port: int, headers: dict[str, str] | None = None, timeout: float = 10.0,
                   rcvbuf: int | None = None, host: str | None = None) -> RawWs:
        sock = socket.socket()
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 26)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET / HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        ws = cls(reader, writer)
        ws.response_head = head.decode(errors="replace")
        return ws

    async def send_frame(self, opcode: int, payload: bytes) -> None:
        self.writer.write(frame_header(opcode, len(payload)) + payload)
        await self.writer.drain()

    async def send_json(self, obj: Any) -> None:
        await self.send_frame(OP_TEXT, obj.encode() if isinstance(obj, str) else json.dumps(obj).encode())

    async def recv_frame(self, timeout: float = 10.0) -> tuple[int, bytes]:
        async def read() -> tuple[int, bytes]:
            try:
                b0, b1 = await self.reader.readexactly(2)
                length = b1 & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                raise Closed() from None
            if b0 & 0x40:  # RSV1: a compressed message
                self._inflate = self._inflate or zlib.decompressobj(-zlib.MAX_WBITS)
                payload = self._inflate.decompress(payload + b"\0\0\xff\xff")
            return b0 & 0x0F, payload

        return await asyncio.wait_for(read(), timeout)

    async def recv_json(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next text frame as JSON; answers pings; raises Closed on a close frame or EOF."""
        while True:
            opcode, payload = await self.recv_frame(timeout)
            if opcode == OP_TEXT:
                return json.loads(payload)
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode(errors="replace"))
            if opcode == OP_PING:
                await self.send_frame(OP_PONG, payload)

    async def request(self, method: str, params: Any = None, req_id: str = "r1",
                      timeout: float = 10.0) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "req", "id": req_id, "method": method}
        if params is not None:
            frame["params"] = params
        await self.send_json(frame)
        while True:
            msg = await self.recv_json(timeout)
            if msg.get("type") == "res" and msg.get("id") == req_id:
                return msg

    async def closed(self, timeout: float = 10.0) -> Closed:
        """Read until the server closes; the close it sent (code None: dropped without a frame)."""
        try:
            while True:
                await self.recv_json(timeout)
        except Closed as exc:
            return exc

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.transport.abort()


def connect_params(token: str | None, mode: str = "cli", client_id: str = "cli",
                   scopes: list[str] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "minProtocol": 4, "maxProtocol": 4, "role": "operator",
        "scopes": ["operator.read"] if scopes is None else scopes,
        "client": {"id": client_id, "version": "hostile", "platform": "linux", "mode": mode},
    }
    if token is not None:
        params["auth"] = {"token": token}
    return params


async def authenticated(port: int, token: str, **kw: Any) -> RawWs:
    ws = await RawWs.open(port, rcvbuf=kw.pop("rcvbuf", None))
    await ws.recv_json()  # connect.challenge
    res = await ws.request("connect", connect_params(token, **kw), req_id="connect")
    if not res.get("ok"):
        raise ConnectionError(f"connect refused: {res.get('error')}")
    return ws


# -- attacks ---------------------------------------------------------------------------------
DEFLATE = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}


async def rejected_handshakes(port: int, count: int, concurrency: int = 50) -> dict[str, Any]:
    """`count` handshakes with a wrong token, offering per-message deflate as browsers do;
    each reads the rejection and its close, then leaves."""
    codes: dict[Any, int] = {}
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            try:
                ws = await RawWs.open(port, DEFLATE)
                await ws.recv_json()
                await ws.send_json({"type": "req", "id": "c", "method": "connect",
                                    "params": connect_params("wrong-token")})
                code = (await ws.closed()).code
                ws.abort()
            except (TimeoutError, OSError, ConnectionError) as exc:
                code = type(exc).__name__
            codes[code] = codes.get(code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"handshakes": count, "closeCodes": codes}


async def oversized_preauth(port: int, clients: int, size: int, chunk: int = 1 << 16) -> dict[str, Any]:
    """Each client declares a `size`-byte first frame and streams it until the server stops it."""

    async def one() -> tuple[int | None, int]:
        ws = await RawWs.open(port)
        await ws.recv_json()
        sent = 0
        ws.writer.write(frame_header(OP_TEXT, size))
        zeros = bytes(chunk)
        closing = asyncio.ensure_future(ws.closed(timeout=60))
        try:
            while sent < size and not closing.done():
                ws.writer.write(zeros[: min(chunk, size - sent)])
                sent += min(chunk, size - sent)
                await ws.writer.drain()
        except (ConnectionError, OSError):
            pass
        code = (await closing).code
        ws.abort()
        return code, sent

    results = await asyncio.gather(*(one() for _ in range(clients)))
    codes: dict[str, int] = {}
    for code, _ in results:  # None: the connection was dropped before its close frame was read
        codes[str(code)] = codes.get(str(code), 0) + 1
    return {"clients": clients, "declaredBytes": size, "closeCodes": codes,
            "maxBytesSent": max(s for _, s in results)}


async def pipeline(port: int, token: str, count: int, method: str = "status",
                   hold: float = 30.0) -> dict[str, Any]:
    """One read-scoped client sends `count` requests as fast as it can and never reads a reply;
    it stays connected until the server cuts it off (or `hold` seconds pass)."""
    ws = await authenticated(port, token, rcvbuf=4096)
    ws.writer.transport.pause_reading()
    frame = json.dumps({"type": "req", "id": "p", "method": method}).encode()
    one = frame_header(OP_TEXT, len(frame)) + frame
    batch = one * 100
    sent, started = 0, time.perf_counter()
    try:
        while sent < count:
            ws.writer.write(batch)
            sent += 100
            await asyncio.wait_for(ws.writer.drain(), 30)
    except (TimeoutError, ConnectionError, OSError) as exc:
        stopped = type(exc).__name__
    else:
        stopped = "sent all"
    elapsed = time.perf_counter() - started
    cut_after = await peer_closed(ws, hold)
    ws.abort()
    return {"requests": sent, "sendSeconds": round(elapsed, 2), "stopped": stopped,
            "serverClosedAfterS": cut_after}


async def peer_closed(ws: RawWs, timeout: float) -> float | None:
    """Seconds until the server closed or reset the connection, without reading what it sent
    (None also when the server let go while data it sent still waits for our window to open)."""
    sock = ws.writer.get_extra_info("socket")
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        if state in (TCP_CLOSE, TCP_CLOSE_WAIT):
            return round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.05)
    return None


async def idle_sockets(port: int, count: int, send: bytes = b"") -> list[socket.socket]:
    """`count` TCP connections that send `send` (maybe nothing) and then go quiet."""
    loop = asyncio.get_running_loop()
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        if send:
            await loop.sock_sendall(sock, send)
        socks.append(sock)
    return socks


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        data = sock.recv(65536)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return not data or closed_by_peer(sock)


async def wait_all_closed(socks: list[socket.socket], timeout: float,
                          drip: Callable[[socket.socket], None] | None = None) -> float | None:
    """Seconds until the server closed every socket (None if some are still open at `timeout`)."""
    started = time.perf_counter()
    open_socks = list(socks)
    while open_socks:
        if time.perf_counter() - started > timeout:
            return None
        await asyncio.sleep(0.1)
        if drip:
            for sock in open_socks:
                with contextlib.suppress(OSError):
                    drip(sock)
        open_socks = [s for s in open_socks if not closed_by_peer(s)]
    return time.perf_counter() - started


async def ui_clients(port: int, token: str, count: int) -> list[RawWs]:
    """`count` long-lived Control-UI-mode clients that keep reading (they count in presence)."""
    clients: list[RawWs] = []
    for i in range(count):
        ws = await authenticated(port, token, mode="ui", client_id="openclaw-control-ui")
        clients.append(ws)
        drain = asyncio.ensure_future(_drain(ws))
        _DRAINS.add(drain)  # the loop keeps only a weak reference to a task
        drain.add_done_callback(_DRAINS.discard)
        if i % 20 == 19:
            await asyncio.sleep(0)
    return clients


_DRAINS: set[asyncio.Future[None]] = set()


async def _drain(ws: RawWs) -> None:
    with contextlib.suppress(Exception):
        while True:
            await ws.recv_json(timeout=3600)


# -- observers -------------------------------------------------------------------------------
def settle_rss(pid: int, seconds: float) -> float:
    """RSS once the process has been left alone for `seconds` (what an attack leaves behind)."""
    time.sleep(seconds)
    return round(rss_mb(pid), 1)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def healthz_ms(port: int, timeout: float = 5.0) -> float | None:
    """One `GET /healthz` round trip in ms; None if it failed or took longer than `timeout`."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        ok = False
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000 if ok else None


@dataclass
class Watch:
    """Samples a gateway's RSS and `/healthz` latency in a thread while an attack runs."""

    pid: int
    port: int
    interval: float = 0.05
    rss_peak: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Watch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.rss_peak = max(self.rss_peak, rss_mb(self.pid))
            ms = healthz_ms(self.port)
            if ms is None:
                self.failures += 1
            else:
                self.latencies.append(ms)
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(len(lat) * p))], 1) if lat else None

        return {"rssPeakMB": round(self.rss_peak, 1), "healthzP50ms": pct(0.5), "healthzP99ms": pct(0.99),
                "healthzMaxms": round(lat[-1], 1) if lat else None, "healthzSamples": len(lat),
                "healthzFailures": self.failures}
