"""A small synchronous RFC 6455 client over the standard library's socket, for one-shot commands.

Why not a library: the CLI opens one connection, sends a few text messages and reads their
answers; the `websockets` package costs every command 60-80 ms of imports (its version module
alone pulls in `importlib.metadata`), about a third of `openclaw health`. This covers what such a
client needs: the opening handshake with its `Sec-WebSocket-Accept` check, masked client frames,
fragmented messages, ping answered by pong, the closing handshake, a bound on a message's size
and a time limit on every read and write. TLS (`wss://`) is loaded only when the URL asks for it.
No extensions (no compression), no subprotocols, no proxies: a gateway is reached directly.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import struct
import time
from typing import Any
from urllib.parse import urlsplit

from openclaw.digests import sha1

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_HEADER_BYTES = 16_384  # the server's handshake answer
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NO_STATUS = 1005  # a close frame without a code (RFC 6455 section 7.1.5)


class HandshakeError(Exception):
    """The URL is not a WebSocket URL, or the server did not open a WebSocket."""


class WebSocketClosed(Exception):
    """The connection is closed. `code`/`reason`: what the server's close frame said; `code` is
    None when no close frame came (end of stream, a protocol error on either side)."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"closed {code} {reason}".strip() if code is not None else "connection closed")
        self.code, self.reason = code, reason


def accept_key(key: str) -> str:
    return base64.b64encode(sha1((key + GUID).encode()).digest()).decode()


def mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keys, "little")).to_bytes(n, "little")


def encode_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One client frame: masked with a fresh key, as RFC 6455 requires of every client frame."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65_536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + mask(payload, key)


class WebSocket:
    """One client connection. `recv` returns whole messages (str for text, bytes for binary)."""

    def __init__(self, sock: socket.socket, max_size: int, buffered: bytes = b"") -> None:
        self.sock = sock
        self.max_size = max_size
        self._buf = bytearray(buffered)
        self._closed: WebSocketClosed | None = None  # set once the connection is over
        self._close_sent = False

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def connect(cls, url: str, timeout: float, max_size: int, user_agent: str | None = None) -> WebSocket:
        """Open a connection; OSError/TimeoutError when nothing answers in `timeout`,
        HandshakeError when something does but does not speak WebSocket."""
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise HandshakeError(f"{url} isn't a valid URI: scheme isn't ws or wss")
        try:
            port = parts.port or (443 if parts.scheme == "wss" else 80)
        except ValueError:
            raise HandshakeError(f"{url} isn't a valid URI: bad port") from None
        host = parts.hostname
        deadline = time.monotonic() + timeout
        # an ASCII name goes to the resolver as bytes, sparing the import of the IDNA codec (the
        # socket module takes bytes there; its stubs say str only)
        address: tuple[Any, int] = (host.encode() if host.isascii() else host, port)
        sock = socket.create_connection(address, timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts.scheme == "wss":
                import ssl  # only a wss:// URL pays for TLS

                sock.settimeout(_remaining(deadline))
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            ws = cls(sock, max_size)
            ws._handshake(parts.netloc.rpartition("@")[2], parts.path or "/", parts.query, user_agent, deadline)
        except BaseException:
            sock.close()
            raise
        return ws

    def _handshake(self, netloc: str, path: str, query: str, user_agent: str | None, deadline: float) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path}{'?' + query if query else ''} HTTP/1.1", f"Host: {netloc}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if user_agent:
            lines.append(f"User-Agent: {user_agent}")
        self._sendall(("\r\n".join(lines) + "\r\n\r\n").encode(), deadline)
        while b"\r\n\r\n" not in self._buf:
            if len(self._buf) > MAX_HEADER_BYTES:
                raise HandshakeError("did not receive a valid HTTP response: headers too long")
            if not self._fill(deadline):
                raise HandshakeError("did not receive a valid HTTP response")
        head, _, rest = bytes(self._buf).partition(b"\r\n\r\n")
        self._buf = bytearray(rest)
        status, *header_lines = head.decode("latin-1").split("\r\n")
        fields = status.split(" ", 2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/1.") or not fields[1].isdigit():
            raise HandshakeError("did not receive a valid HTTP response")
        if fields[1] != "101":
            raise HandshakeError(f"server rejected WebSocket connection: HTTP {fields[1]}")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("upgrade", "").lower() != "websocket":
            raise HandshakeError("invalid Upgrade header")
        if "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]:
            raise HandshakeError("invalid Connection header")
        if headers.get("sec-websocket-accept") != accept_key(key):
            raise HandshakeError("invalid Sec-WebSocket-Accept header")
        if headers.get("sec-websocket-extensions"):
            raise HandshakeError("unsupported extension")

    # -- messages ----------------------------------------------------------------------------
    def send(self, text: str, timeout: float = 10.0) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            self._send_frame(OP_TEXT, text.encode(), time.monotonic() + timeout)
        except (BrokenPipeError, ConnectionResetError):
            self._closed = WebSocketClosed()
            self.sock.close()
            raise self._closed from None

    def recv(self, timeout: float) -> str | bytes:
        """The next whole message; TimeoutError when none comes in `timeout`, WebSocketClosed
        when the connection ends first."""
        if self._closed is not None:
            raise self._closed
        deadline = time.monotonic() + timeout
        kind: int | None = None
        parts: list[bytes] = []
        size = 0
        while True:
            fin, opcode, payload = self._read_frame(deadline)
            if opcode >= OP_CLOSE:
                self._control(opcode, payload, deadline)
                continue
            if (opcode == OP_CONT) == (kind is None):  # a continuation with no message, or a new one mid-message
                self._fail(1002)
            if opcode != OP_CONT:
                kind = opcode
            size += len(payload)
            if size > self.max_size:
                self._fail(1009)
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if kind == OP_BINARY:
                    return data
                try:
                    return data.decode()
                except UnicodeDecodeError:
                    self._fail(1007)

    def close(self, code: int = 1000, timeout: float = 1.0) -> None:
        """The closing handshake (send ours, wait up to `timeout` for the server's), then the socket."""
        try:
            if self._closed is None:
                deadline = time.monotonic() + timeout
                self._send_close(code, deadline)
                while self._closed is None:
                    self._read_frame_or_close(deadline)
        except (OSError, TimeoutError, WebSocketClosed):
            pass
        finally:
            self._closed = self._closed or WebSocketClosed()
            self.sock.close()

    def _read_frame_or_close(self, deadline: float) -> None:
        _, opcode, payload = self._read_frame(deadline)
        if opcode >= OP_CLOSE:
            self._control(opcode, payload, deadline)

    # -- frames ------------------------------------------------------------------------------
    def _read_frame(self, deadline: float) -> tuple[bool, int, bytes]:
        b0, b1 = self._read(2, deadline)
        fin, opcode, length = bool(b0 & 0x80), b0 & 0x0F, b1 & 0x7F
        if b0 & 0x70 or b1 & 0x80 or opcode in (3, 4, 5, 6, 7) or opcode > OP_PONG:
            self._fail(1002)  # reserved bits or opcodes (no extension agreed), or a masked server frame
        if opcode >= OP_CLOSE and (not fin or length > 125):
            self._fail(1002)
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2, deadline))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8, deadline))
        if length > self.max_size:
            self._fail(1009)  # refused before a byte of it is buffered
        return fin, opcode, self._read(length, deadline)

    def _control(self, opcode: int, payload: bytes, deadline: float) -> None:
        if opcode == OP_PING:
            self._send_frame(OP_PONG, payload, deadline)
        elif opcode == OP_CLOSE:
            if len(payload) == 1:
                self._fail(1002)
            code = struct.unpack("!H", payload[:2])[0] if payload else NO_STATUS
            reason = payload[2:].decode(errors="replace")
            self._closed = WebSocketClosed(code, reason)
            if not self._close_sent:  # answer with the same code, as RFC 6455 section 5.5.1 asks
                with contextlib.suppress(OSError, TimeoutError):
                    self._send_close(code if payload else None, deadline)
            self.sock.close()
            raise self._closed

    def _send_close(self, code: int | None, deadline: float) -> None:
        self._close_sent = True
        self._send_frame(OP_CLOSE, struct.pack("!H", code) if code is not None else b"", deadline)

    def _fail(self, code: int) -> None:
        """A protocol error: close with `code` and end the connection (no close frame received)."""
        try:
            if not self._close_sent:
                self._send_close(code, time.monotonic() + 1.0)
        except (OSError, TimeoutError):
            pass
        self._closed = WebSocketClosed()
        self.sock.close()
        raise self._closed

    def _send_frame(self, opcode: int, payload: bytes, deadline: float) -> None:
        self._sendall(encode_frame(opcode, payload), deadline)

    # -- bytes -------------------------------------------------------------------------------
    def _sendall(self, data: bytes, deadline: float) -> None:
        self.sock.settimeout(_remaining(deadline))
        self.sock.sendall(data)

    def _read(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            if not self._fill(deadline):
                self._closed = WebSocketClosed()
                self.sock.close()
                raise self._closed
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _fill(self, deadline: float) -> bool:
        """Read what the socket has (at most 64 KiB); False at end of stream."""
        self.sock.settimeout(_remaining(deadline))
        try:
            chunk = self.sock.recv(65_536)
        except ConnectionResetError:
            return False
        self._buf += chunk
        return bool(chunk)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left
