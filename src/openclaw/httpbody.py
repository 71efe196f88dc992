"""Reading an HTTP body to its end, never past a bound.

`StreamReader.read(n)` returns whatever has arrived so far, so a body longer
than one network read is cut at the first chunk; `read()` has no bound at
all. These read chunk by chunk until EOF and stop at `limit`: `read_body`
refuses a larger body (JSON that was cut is worse than none), `read_prefix`
keeps its first `limit` bytes (an error message, a web page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # any aiohttp stream: a client response's or a request's content
    import aiohttp


class BodyTooLarge(ValueError):
    """The body is longer than the reader's bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


def _declared(headers: Mapping[str, str] | None) -> int | None:
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def read_prefix(stream: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """(at most `limit` bytes, whether that was the whole body). Reads on to EOF or the bound,
    however the body arrives; never holds more than `limit` bytes of it."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await stream.read(limit - size)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), stream.at_eof() or not await stream.read(1)


async def read_body(stream: aiohttp.StreamReader, limit: int, headers: Mapping[str, str] | None = None) -> bytes:
    """The whole body, read to EOF; BodyTooLarge when it is (or its Content-Length says it is)
    larger than `limit`."""
    declared = _declared(headers)
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    data, whole = await read_prefix(stream, limit)
    if not whole:
        raise BodyTooLarge(limit)
    return data
