"""Hostile HTTP clients for the gateway's HTTP surface: cross-site posts, rebinding hosts, large
bodies at once, readers that read slowly, wrong bearer tokens. Used by `bench/hostile.py`.

Every request is written byte by byte on asyncio streams (we choose each header, `Host`
included), so one process drives dozens of uploads and slow readers on two cores.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any


async def request(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"",
                  host: str | None = None, timeout: float = 120.0) -> tuple[int | str, bytes]:
    """(status, body); the status is an error's name when the exchange failed."""
    try:
        return await asyncio.wait_for(_exchange(port, method, path, headers or {}, body, host), timeout)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return type(exc).__name__, b""


async def _exchange(port: int, method: str, path: str, headers: dict[str, str], body: bytes,
                    host: str | None) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Connection: close",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        view = memoryview(body)
        for i in range(0, len(body), 1 << 20):  # a big body goes out as the gateway takes it
            writer.write(view[i:i + (1 << 20)])
            await writer.drain()
        status, length = await _head(reader)
        data = await reader.readexactly(length) if length is not None else await reader.read()
        return status, data
    finally:
        writer.close()


async def _head(reader: asyncio.StreamReader) -> tuple[int, int | None]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), None)
    return int(lines[0].split()[1]), length


def _count(results: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for result in results:
        out[str(result)] = out.get(str(result), 0) + 1
    return out


# -- attacks ---------------------------------------------------------------------------------
async def csrf(port: int) -> dict[str, Any]:
    """What a web page can make a browser send to a gateway without auth: a cross-site form post
    to `/tools/invoke` (`write`), the same without an Origin, and a chat turn through a
    rebinding Host. Then the same write as a JSON request from the gateway's host (allowed)."""
    form = json.dumps({"tool": "write", "args": {"path": "csrf.txt", "content": "planted"}}).encode()
    chat = json.dumps({"model": "openclaw", "messages": [{"role": "user", "content": "run exec: id"}]}).encode()
    cross_site = await request(port, "POST", "/tools/invoke", {"Origin": "https://evil.example",
                                                                "Content-Type": "text/plain"}, form)
    no_origin = await request(port, "POST", "/tools/invoke", {"Content-Type": "text/plain"}, form)
    rebinding = await request(port, "POST", "/v1/chat/completions", {"Content-Type": "application/json"}, chat,
                              host=f"evil.example:{port}")
    rebinding_get = await request(port, "GET", "/", host=f"evil.example:{port}")
    legit = await request(port, "POST", "/tools/invoke", {"Content-Type": "application/json"},
                          json.dumps({"tool": "write", "args": {"path": "legit.txt", "content": "ok"}}).encode())
    return {"crossSiteTextPlain": cross_site[0], "noOriginTextPlain": no_origin[0], "rebindingChat": rebinding[0],
            "rebindingPage": rebinding_get[0], "sameHostJson": legit[0]}


async def big_bodies(port: int, token: str, count: int, size: int) -> dict[str, Any]:
    """`count` authenticated JSON bodies of `size` bytes to `/tools/invoke` at once."""
    pad = "p" * max(0, size - 100)
    body = json.dumps({"tool": "read", "args": {"path": "small.txt", "pad": pad}}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()

    async def one() -> tuple[int | str, float]:
        status, _ = await request(port, "POST", "/tools/invoke", headers, body)
        return status, time.perf_counter() - started

    results = await asyncio.gather(*(one() for _ in range(count)))
    return {"bodies": count, "bodyBytes": len(body), "statuses": _count([s for s, _ in results]),
            "lastAnsweredS": round(max(t for _, t in results), 2)}


async def slow_readers(port: int, token: str, count: int, stream: bool, read_bytes: int = 16 * 1024,
                       pause_s: float = 0.05, timeout: float = 120.0) -> dict[str, Any]:
    """`count` chat turns whose replies are read `read_bytes` at a time with pauses, through a small
    receive buffer; how many were read to their end and how many the gateway let go."""

    async def one(i: int) -> tuple[str, int]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
        payload = json.dumps({"model": "openclaw", "user": f"slow-{stream}-{i}", "stream": stream,
                              "messages": [{"role": "user", "content": "a long answer please"}]}).encode()
        writer.write((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
        got, tail = 0, b""
        end = b"data: [DONE]\n\n\r\n0\r\n\r\n" if stream else b"}}"  # the last bytes of a whole reply
        try:
            async with asyncio.timeout(timeout):
                while True:
                    piece = await reader.read(read_bytes)
                    if not piece:
                        break
                    got += len(piece)
                    tail = (tail + piece)[-64:]
                    if tail.endswith(end):
                        return "completed", got
                    if pause_s:
                        await asyncio.sleep(pause_s)
        except (TimeoutError, OSError):
            return "timedOut", got
        finally:
            writer.transport.abort()
        return "cutByGateway", got

    results = await asyncio.gather(*(one(i) for i in range(count)))
    return {"readers": count, "stream": stream, "outcomes": _count([o for o, _ in results]),
            "mbRead": round(sum(g for _, g in results) / 2**20, 1)}


async def lockout(port: int, token: str) -> dict[str, Any]:
    """10 wrong bearer tokens, then the right one: from loopback (exempt, as on the WebSocket),
    then through a proxy nobody trusts (its peer is locked out)."""
    out: dict[str, Any] = {}
    for name, extra in (("loopback", {}), ("untrustedProxy", {"X-Forwarded-For": "203.0.113.9"})):
        wrong = [await request(port, "GET", "/v1/models", {**extra, "Authorization": "Bearer wrong"})
                 for _ in range(10)]
        right = await request(port, "GET", "/v1/models", {**extra, "Authorization": f"Bearer {token}"})
        out[name] = {"wrong": _count([s for s, _ in wrong]), "thenRight": right[0]}
    out["loopbackAfterProxyLockout"] = (await request(port, "GET", "/v1/models",
                                                      {"Authorization": f"Bearer {token}"}))[0]
    return out
