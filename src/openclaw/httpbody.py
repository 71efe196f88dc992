"""Reading an HTTP body to its end, within a bound.

aiohttp's `StreamReader.read(n)` returns whatever has arrived so far (up to
`n`), not `n` bytes: one call cuts any body that comes in more than one
piece. These helpers loop until the end of the body. The time limit is the
caller's (its session or request timeout).
"""

from __future__ import annotations

from typing import Protocol

PIECE = 64 * 1024


class BodyTooLarge(ValueError):
    """The body went past its bound; the part read so far is dropped."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class Readable(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_to_end(stream: Readable, limit: int) -> bytes:
    """The whole body; BodyTooLarge as soon as it passes `limit` bytes (never holds more than limit + 1)."""
    parts: list[bytes] = []
    held = 0
    while True:
        piece = await stream.read(min(PIECE, limit + 1 - held))
        if not piece:
            return b"".join(parts)
        parts.append(piece)
        held += len(piece)
        if held > limit:
            raise BodyTooLarge(limit)


async def read_prefix(stream: Readable, limit: int) -> bytes:
    """At most the first `limit` bytes of the body (all of it when shorter): for error texts, where a
    cut is fine but a cut at the first network piece is not."""
    parts: list[bytes] = []
    held = 0
    while held < limit:
        piece = await stream.read(min(PIECE, limit - held))
        if not piece:
            break
        parts.append(piece)
        held += len(piece)
    return b"".join(parts)
