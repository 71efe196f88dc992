"""What a connection still has to send, bounded in bytes and written by one task.

Senders never wait: a frame is queued and a writer task drains the queue in
order while the socket takes it. A peer that stops reading makes the queue
grow; past the limit the connection is cut off as a slow consumer instead of
the gateway holding more and more of its frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable

from aiohttp import WSMsgType, web


class Outbox:
    def __init__(self, ws: web.WebSocketResponse, transport: Callable[[], asyncio.BaseTransport | None], limit: int,
                 on_overflow: Callable[[], None]) -> None:
        self._ws = ws
        self._transport = transport
        self._limit = limit
        self._on_overflow = on_overflow
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._writer: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False
        self.peak = 0  # the most bytes this connection ever had waiting

    @property
    def buffered(self) -> int:
        """Bytes queued here plus those the socket has accepted but not sent yet."""
        transport = self._transport()
        size = getattr(transport, "get_write_buffer_size", None)
        return self._queued + (size() if size is not None else 0)

    def put(self, data: bytes) -> bool:
        """Queue one text frame (a writer task sends it); False, and the overflow callback, when
        the peer is too far behind."""
        if not self._enqueue(data):
            return False
        if self._idle.is_set():
            self._idle.clear()
            self._writer = asyncio.ensure_future(self._drain())
        return True

    async def send(self, data: bytes) -> None:
        """Queue one frame and, when nobody is writing, write it from the calling task (a request's
        reply needs no task of its own)."""
        if self._enqueue(data) and self._idle.is_set():
            self._idle.clear()
            await self._drain()

    def _enqueue(self, data: bytes) -> bool:
        if self.closed:
            return False
        buffered = self.buffered + len(data)
        if buffered > self._limit:
            self.close()
            self._on_overflow()
            return False
        self.peak = max(self.peak, buffered)
        self._queue.append(data)
        self._queued += len(data)
        return True

    async def _drain(self) -> None:
        """Write until the queue is empty (whoever calls this has cleared `_idle`). Frames queued
        together leave in as few TCP segments as the kernel can make of them (TCP_CORK)."""
        corked = len(self._queue) > 1 and self._cork(True)
        try:
            while self._queue:
                data = self._queue.popleft()
                self._queued -= len(data)
                await self._ws.send_frame(data, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError):  # the socket went away: nothing more to send
            self.close()
        finally:
            if corked:
                self._cork(False)
            self._writer = None
            self._idle.set()

    def _cork(self, on: bool) -> bool:
        transport = self._transport()
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None or not hasattr(socket, "TCP_CORK"):
            return False
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)
        except OSError:
            return False
        return True

    async def flush(self) -> None:
        """Wait until everything queued so far has been handed to the socket."""
        await self._idle.wait()

    def close(self) -> None:
        """Drop what is queued and stop the writer; later frames are refused."""
        self.closed = True
        self._queue.clear()
        self._queued = 0
        if self._writer is not None:
            self._writer.cancel()

    async def aclose(self) -> None:
        self.close()
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
