"""The supervisor's control socket: one JSON request line in, one JSON answer line out.

A Unix socket in a private directory, and the peer's uid checked on top: only this user's
processes may ask a fleet for its status, restart a member or take it down. The server side is
non-blocking and bounded (it runs inside the supervisor's single-threaded loop): a request
larger than MAX_REQUEST or slower than REQUEST_TIMEOUT_S is dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import stat
import struct
import time
from pathlib import Path
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.fleetlink import FleetUnreachable, request
from openclaw.fsutil import ensure_private_dir

MAX_REQUEST = 16 * 1024
REQUEST_TIMEOUT_S = 5.0
MAX_CLIENTS = 16
SUN_PATH_MAX = 100  # sockaddr_un holds 108 bytes; leave room


def socket_path(preferred: Path) -> Path:
    """`preferred` when it fits in a socket address, else a short private path derived from it."""
    if len(os.fsencode(preferred)) <= SUN_PATH_MAX:
        return preferred
    digest = hashlib.sha256(os.fsencode(preferred)).hexdigest()[:16]
    return Path("/tmp") / f"openclaw-fleet-{os.getuid()}" / f"{digest}.sock"


def listen(path: Path) -> socket.socket:
    ensure_private_dir(path.parent)
    _refuse_foreign_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    sock.listen(MAX_CLIENTS)
    sock.setblocking(False)
    return sock


def _refuse_foreign_dir(directory: Path) -> None:
    """The socket's directory (in /tmp when the runtime dir's path is too long for a socket) must be
    this user's own, not a symlink or a directory another user made there first."""
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OpenClawError(f"{directory} is not a private directory of this user; remove it and retry")


def peer_is_us(conn: socket.socket) -> bool:
    """The connecting process runs as this user (SO_PEERCRED; elsewhere the 0700 dir is the gate)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


class Conversation:
    """One client connection inside the supervisor's loop: read a line, answer once, close."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""
        self.deadline = time.monotonic() + REQUEST_TIMEOUT_S
        self.answered = False

    def feed(self) -> dict[str, Any] | None:
        """Read what arrived; the request once a whole line is in. Raises ValueError on a bad one."""
        chunk = self.conn.recv(4096)
        if not chunk:
            raise ValueError("closed before a request")
        self.buffer += chunk
        if b"\n" not in self.buffer:
            if len(self.buffer) > MAX_REQUEST:
                raise ValueError("request too large")
            return None
        line = self.buffer.split(b"\n", 1)[0]
        request = json.loads(line)
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            raise ValueError("a request is an object with an `op`")
        return request

    def answer(self, body: dict[str, Any]) -> None:
        """Send the answer (small; blocking with the request's deadline) and close."""
        self.answered = True
        try:
            self.conn.settimeout(max(0.1, self.deadline - time.monotonic()))
            self.conn.sendall(json.dumps(body).encode() + b"\n")
        except OSError:
            pass
        finally:
            self.conn.close()


__all__ = ["Conversation", "FleetUnreachable", "listen", "peer_is_us", "request", "socket_path"]
