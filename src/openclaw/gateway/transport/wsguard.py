"""The pre-auth frame limit, enforced on frame headers before any payload is buffered.

aiohttp sets one message limit per WebSocket for its whole life, and we need
two: 64 KiB until `hello-ok`, 25 MiB after. So the socket's parser is
the 25 MiB one, and until the handshake is over this guard sits in front of
it: it reads each frame header as the bytes arrive and stops the connection
the moment a message declares more than the pre-auth limit. The guard never
holds data; it only looks, so removing it at any point is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

DATA_OPCODES = (0x0, 0x1, 0x2)  # continuation, text, binary


class PreauthGuard:
    def __init__(self, inner: Any, limit: int, on_violation: Callable[[], None]) -> None:
        self.inner = inner
        self.limit = limit
        self.on_violation = on_violation
        self.tripped = False
        self._head = bytearray()  # an incomplete frame header
        self._skip = 0  # payload bytes of the current frame still to pass
        self._message = 0  # bytes of the current (possibly fragmented) data message so far

    # -- the parser interface aiohttp's protocol calls ---------------------------------------
    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.tripped:
            return False, b""  # the connection is being dropped: discard, never buffer
        if not self._scan(data):
            self.tripped = True
            self.on_violation()
            return False, b""
        fed: tuple[bool, bytes] = self.inner.feed_data(data)
        return fed

    def feed_eof(self) -> None:
        self.inner.feed_eof()

    # -- header scanning ----------------------------------------------------------------------
    def _scan(self, data: bytes) -> bool:
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            need = _header_size(self._head) - len(self._head)
            take = data[pos : pos + need]
            self._head += take
            pos += len(take)
            if len(self._head) < _header_size(self._head):
                continue
            if not self._frame(bytes(self._head)):
                return False
            self._head.clear()
        return True

    def _frame(self, head: bytes) -> bool:
        fin, opcode, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(head[2:4], "big")
        elif length == 127:
            length = int.from_bytes(head[2:10], "big")
        if opcode in DATA_OPCODES:
            self._message += length
            if self._message > self.limit:
                return False
            if fin:
                self._message = 0
        self._skip = length
        return True


def _header_size(head: bytearray) -> int:
    """Bytes the header of the frame starting with `head` takes (2 until the length byte is known)."""
    if len(head) < 2:
        return 2
    length, masked = head[1] & 0x7F, head[1] & 0x80
    return 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if masked else 0)


def install(request: web.Request, limit: int, on_violation: Callable[[], None]) -> PreauthGuard | None:
    """Put a guard in front of a prepared WebSocket's parser (None if aiohttp has none to wrap)."""
    protocol = request.protocol
    inner = getattr(protocol, "_payload_parser", None)
    if protocol is None or inner is None:
        return None
    guard = PreauthGuard(inner, limit, on_violation)
    protocol._payload_parser = guard  # aiohttp's private parser slot (no public hook)
    return guard


def remove(request: web.Request, guard: PreauthGuard | None) -> None:
    protocol = request.protocol
    if guard is None:
        return
    inner = guard.inner
    if protocol is not None and getattr(protocol, "_payload_parser", None) is guard:
        protocol._payload_parser = inner
