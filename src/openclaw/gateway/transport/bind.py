"""Exclusive listening sockets, retried while a previous owner lets go of the port."""

from __future__ import annotations

import asyncio
import errno
import socket

from openclaw.errors import GatewayLockError
from openclaw.gateway.limits import BIND_INTERVAL_S, BIND_RETRIES


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: never share a port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:  # POSIX: reuse TIME_WAIT only; a live listener still refuses us
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def bind_exclusive(
    hosts: tuple[str, ...], port: int, retries: int = BIND_RETRIES, interval: float = BIND_INTERVAL_S
) -> list[socket.socket]:
    """Bind every host on `port`; on EADDRINUSE retry `retries` times, `interval` apart."""
    for attempt in range(retries + 1):
        bound: list[socket.socket] = []
        try:
            for host in hosts:
                bound.append(_listen(host, port))
            return bound
        except OSError as exc:
            for sock in bound:
                sock.close()
            host = hosts[len(bound)]
            if exc.errno != errno.EADDRINUSE:
                raise GatewayLockError(
                    f"failed to bind gateway socket on ws://{host}:{port}: {exc.strerror or exc}"
                ) from None
            if attempt == retries:
                raise GatewayLockError(f"another gateway instance is already listening on ws://{host}:{port}") from None
            await asyncio.sleep(interval)
    raise AssertionError("unreachable")
