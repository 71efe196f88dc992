"""Request bodies of the JSON endpoints: `application/json` only, read to their end within a
per-request limit and a budget of bytes all requests together may hold, and parsed into a short
400 when they are not JSON a handler can use (too deep, lone surrogates, NaN).

The budget is why ten 20 MB bodies at once cost at most the budget, not 10 x 20 MB and their
copies: a request reserves what its `Content-Length` declares (a chunked one, the per-request
limit) before reading a byte, and waits its turn when the budget is spent. Waiting costs
nothing: an unread body stays in the client's socket (aiohttp stops reading at 128 KiB). A
request that waited `WAIT_S` in vain gets 503 with `Retry-After`, so every request is answered;
413 stays for one body over the per-request limit, which no wait would fix.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from typing import Any

from aiohttp import web

from openclaw.gateway.protocol import MAX_JSON_DEPTH, json_problem

MAX_BODY_BYTES = 20 * 1024 * 1024  # one request (upstream's limit)
WAIT_S = 10.0  # the longest a request waits for room in the budget
PARSE_INLINE_BYTES = 256 * 1024  # larger bodies are parsed in a thread, so the loop runs between the steps
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way a lone surrogate gets into decoded text


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


class BodyTooLarge(Exception):
    pass


class BodyBudget:
    """Bytes of request bodies held at once, across every request; waiters are served in order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # also the largest one body may be, when below MAX_BODY_BYTES
        self.held = 0
        self.peak = 0  # the most ever held at once
        self.refused = 0  # requests that waited in vain
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def stats(self) -> dict[str, int]:
        return {"heldBytes": self.held, "peakBytes": self.peak, "limitBytes": self.limit,
                "waiting": len(self._waiters), "refused": self.refused}

    async def acquire(self, size: int, wait_s: float = WAIT_S) -> bool:
        """Reserve `size` bytes; False when no room came within `wait_s`."""
        if not self._waiters and self.held + size <= self.limit:
            self._take(size)
            return True
        waiter = asyncio.get_running_loop().create_future()
        entry = (size, waiter)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(waiter, wait_s)
            return True
        except TimeoutError:
            self.refused += 1
            return False
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(size)  # granted just as the request was given up
            raise
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)
                self._wake()

    def release(self, size: int) -> None:
        self.held -= size
        self._wake()

    def _take(self, size: int) -> None:
        self.held += size
        self.peak = max(self.peak, self.held)

    def _wake(self) -> None:
        while self._waiters:
            size, waiter = self._waiters[0]
            if waiter.done():
                self._waiters.popleft()
                continue
            if self.held + size > self.limit:
                return
            self._waiters.popleft()
            self._take(size)
            waiter.set_result(None)


def is_json(request: web.Request) -> bool:
    """`application/json`, with or without parameters (aiohttp's parse: case-insensitive)."""
    return request.content_type == "application/json"


async def read_limited(request: web.Request, limit: int) -> bytearray:
    """The whole body (never cut at the first chunk); BodyTooLarge past `limit`."""
    data = bytearray()
    async for chunk in request.content.iter_any():
        if len(data) + len(chunk) > limit:
            raise BodyTooLarge
        data += chunk
    return data


async def parse_body(data: bytes | bytearray) -> tuple[Any, str | None]:
    """`parse_json`, in a worker thread for a large body: its steps (decode, scan, walk) each hold
    the interpreter, but between them the event loop gets its turn instead of waiting for all."""
    if len(data) <= PARSE_INLINE_BYTES:
        return parse_json(data)
    return await asyncio.to_thread(parse_json, data)


def parse_json(data: bytes | bytearray) -> tuple[Any, str | None]:
    """(value, None) or (None, why it is not usable JSON); never raises, never recurses deeply."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "request body is not UTF-8"
    try:
        value = _DECODER.decode(text) if text.strip() else {}
    except RecursionError:
        return None, f"request body is not usable JSON: nesting deeper than {MAX_JSON_DEPTH} levels"
    except json.JSONDecodeError as exc:
        return None, f"request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except ValueError as exc:  # NaN, Infinity
        return None, f"request body is not valid JSON ({exc})"
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH or _SURROGATE_ESCAPE.search(text):  # most skip the walk
        problem = json_problem(value)
        if problem:
            return None, f"request body is not usable JSON: {problem}"
    return value, None
