"""The CLI's WebSocket client against a tiny loopback server that scripts each frame (the real
gateway is covered by every CLI test: test_client_commands.py and the rest)."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from collections.abc import Callable

import pytest

from openclaw.client.websocket import (
    GUID,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    HandshakeError,
    WebSocket,
    WebSocketClosed,
)


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A server frame (never masked)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65_536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class Peer:
    """The server's side of one accepted connection."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = b""
        conn.settimeout(5)

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.conn.recv(65_536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self) -> dict[str, str]:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.conn.recv(65_536)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}

    def accept(self, key: str | None = None) -> None:
        headers = self.request()
        digest = hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()
        accept = key or base64.b64encode(digest).decode()
        self.conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())

    def client_frame(self) -> tuple[bool, int, bytes, bool]:
        """(fin, opcode, unmasked payload, whether it was masked)."""
        b0, b1 = self.read(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.read(8))
        key = self.read(4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytes(c ^ key[i % 4] for i, c in enumerate(self.read(n)))
        return bool(b0 & 0x80), b0 & 0x0F, data, bool(b1 & 0x80)


def serve(script: Callable[[Peer], None]) -> tuple[str, threading.Thread, list[BaseException]]:
    """A one-connection server on a loopback port running `script`; its errors are collected."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                script(Peer(conn))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            listener.close()

    thread = threading.Thread(target=run)
    thread.start()
    return f"ws://127.0.0.1:{listener.getsockname()[1]}/", thread, errors


def finish(thread: threading.Thread, errors: list[BaseException]) -> None:
    thread.join(5)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def test_masked_messages_fragments_and_a_ping_between_them() -> None:
    seen: dict[str, object] = {}

    def script(peer: Peer) -> None:
        peer.accept()
        seen["first"] = peer.client_frame()
        peer.conn.sendall(frame(OP_TEXT, b"hel", fin=False) + frame(OP_PING, b"are you there")
                          + frame(OP_CONT, "lo \u00e9".encode(), fin=True) + frame(OP_BINARY, b"\x00\x01"))
        seen["pong"] = peer.client_frame()
        seen["close"] = peer.client_frame()
        peer.conn.sendall(frame(OP_CLOSE, seen["close"][2]))  # type: ignore[index]

    url, thread, errors = serve(script)
    ws = WebSocket.connect(url, timeout=5, max_size=1024)
    ws.send('{"x": 1}')
    assert ws.recv(timeout=5) == "hello \u00e9"
    assert ws.recv(timeout=5) == b"\x00\x01"
    ws.close()
    finish(thread, errors)
    assert seen["first"] == (True, OP_TEXT, b'{"x": 1}', True)
    assert seen["pong"] == (True, OP_PONG, b"are you there", True)
    assert seen["close"] == (True, OP_CLOSE, struct.pack("!H", 1000), True)


def test_the_servers_close_code_and_reason_are_reported_and_echoed() -> None:
    echoed: list[tuple[bool, int, bytes, bool]] = []

    def script(peer: Peer) -> None:
        peer.accept()
        peer.conn.sendall(frame(OP_CLOSE, struct.pack("!H", 4008) + b"unauthorized"))
        echoed.append(peer.client_frame())

    url, thread, errors = serve(script)
    ws = WebSocket.connect(url, timeout=5, max_size=1024)
    with pytest.raises(WebSocketClosed) as info:
        ws.recv(timeout=5)
    assert (info.value.code, info.value.reason, str(info.value)) == (4008, "unauthorized", "closed 4008 unauthorized")
    with pytest.raises(WebSocketClosed):
        ws.send("late")
    ws.close()
    finish(thread, errors)
    assert echoed == [(True, OP_CLOSE, struct.pack("!H", 4008), True)]


@pytest.mark.parametrize("frames", [
    [frame(OP_TEXT, b"x" * 200)],  # one frame over the bound: refused by its header
    [frame(OP_TEXT, b"x" * 60, fin=False), frame(OP_CONT, b"x" * 60)],  # fragments adding up over it
])
def test_a_message_over_the_size_bound_closes_with_1009(frames: list[bytes]) -> None:
    got: list[tuple[bool, int, bytes, bool]] = []

    def script(peer: Peer) -> None:
        peer.accept()
        peer.conn.sendall(b"".join(frames))
        got.append(peer.client_frame())

    url, thread, errors = serve(script)
    ws = WebSocket.connect(url, timeout=5, max_size=100)
    with pytest.raises(WebSocketClosed) as info:
        ws.recv(timeout=5)
    assert info.value.code is None and str(info.value) == "connection closed"
    finish(thread, errors)
    assert got == [(True, OP_CLOSE, struct.pack("!H", 1009), True)]


def test_protocol_errors_close_with_1002() -> None:
    got: list[tuple[bool, int, bytes, bool]] = []

    def script(peer: Peer) -> None:
        peer.accept()
        peer.conn.sendall(frame(OP_CONT, b"orphan"))  # a continuation with no message begun
        got.append(peer.client_frame())

    url, thread, errors = serve(script)
    ws = WebSocket.connect(url, timeout=5, max_size=100)
    with pytest.raises(WebSocketClosed):
        ws.recv(timeout=5)
    finish(thread, errors)
    assert got == [(True, OP_CLOSE, struct.pack("!H", 1002), True)]


def test_every_read_has_a_time_limit() -> None:
    release = threading.Event()

    def script(peer: Peer) -> None:
        peer.accept()
        peer.conn.sendall(frame(OP_TEXT, b"half", fin=False))  # then nothing
        release.wait(5)

    url, thread, errors = serve(script)
    ws = WebSocket.connect(url, timeout=5, max_size=100)
    with pytest.raises(TimeoutError):
        ws.recv(timeout=0.2)
    release.set()
    ws.close(timeout=0.2)
    finish(thread, errors)


def test_a_server_that_sends_no_handshake_answer_times_out() -> None:
    release = threading.Event()

    def script(peer: Peer) -> None:
        peer.request()
        release.wait(5)

    url, thread, errors = serve(script)
    with pytest.raises(TimeoutError):
        WebSocket.connect(url, timeout=0.3, max_size=100)
    release.set()
    finish(thread, errors)


@pytest.mark.parametrize(("answer", "message"), [
    (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "server rejected WebSocket connection: HTTP 404"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "did not receive a valid HTTP response"),
    (None, "invalid Sec-WebSocket-Accept header"),
])
def test_a_server_that_does_not_open_a_websocket_is_a_handshake_error(answer: bytes | None, message: str) -> None:
    def script(peer: Peer) -> None:
        if answer is None:
            peer.accept(key=base64.b64encode(b"not the right key....").decode())
        else:
            peer.request()
            peer.conn.sendall(answer)

    url, thread, errors = serve(script)
    with pytest.raises(HandshakeError, match=message):
        WebSocket.connect(url, timeout=5, max_size=100)
    finish(thread, errors)


def test_only_websocket_urls_are_accepted() -> None:
    with pytest.raises(HandshakeError, match="scheme isn't ws or wss"):
        WebSocket.connect("http://127.0.0.1:1/", timeout=1, max_size=100)
