"""Server-sent events from an aiohttp body, with every line and event bounded in size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

MAX_EVENT_BYTES = 8 * 1024 * 1024  # one message: a big tool result fits, a runaway stream does not


class StreamTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Event:
    event: str
    data: str


async def _lines(content: aiohttp.StreamReader, limit: int) -> AsyncIterator[bytes]:
    buffer = b""
    async for chunk in content.iter_any():
        buffer += chunk
        while True:
            cut = buffer.find(b"\n")
            if cut < 0:
                break
            line, buffer = buffer[:cut], buffer[cut + 1:]
            yield line.rstrip(b"\r")
        if len(buffer) > limit:
            raise StreamTooLarge(f"an event stream line passed {limit} bytes")
    if buffer:
        yield buffer.rstrip(b"\r")


async def events(content: aiohttp.StreamReader, limit: int = MAX_EVENT_BYTES) -> AsyncIterator[Event]:
    """Each complete event (`event:` defaults to "message"; `data:` lines joined by newlines)."""
    name, size = "", 0
    data: list[str] = []
    async for raw in _lines(content, limit):
        line = raw.decode("utf-8", errors="replace")
        if not line:
            if data:
                yield Event(name or "message", "\n".join(data))
            name, data, size = "", [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            size += len(value)
            if size > limit:
                raise StreamTooLarge(f"an event passed {limit} bytes")
            data.append(value)
    if data:
        yield Event(name or "message", "\n".join(data))
