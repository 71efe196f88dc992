"""What is listening on this host right now."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable


def listening_ports() -> dict[int, int | None] | None:
    """Every TCP port in LISTEN state, mapped to its pid when visible; None if unreadable."""
    import psutil

    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError):
        return None
    out: dict[int, int | None] = {}
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr:
            out.setdefault(conn.laddr.port, conn.pid)
    return out


def port_bindable(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):
        sock.bind((host, port))
        return True
    return False


def busy_ports(ports: Iterable[int], listening: dict[int, int | None] | None) -> list[int]:
    """Ports in use: from the listening table when we have one, else by trying to bind."""
    if listening is not None:
        return sorted(p for p in ports if p in listening)
    return sorted(p for p in ports if not port_bindable(p))
