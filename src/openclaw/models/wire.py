"""What both wire clients share: posting a request and turning HTTP failures into ModelErrors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from openclaw.httpbody import BodyTooLarge, read_body, read_prefix
from openclaw.models import deltas, sse
from openclaw.models.catalog import Provider
from openclaw.models.types import Completion, ModelError, OnText, error_for_status

CONNECT_TIMEOUT_S = 10.0
MAX_ERROR_BODY = 64 * 1024  # an error answer is read this far (what it says is in its first bytes)
MAX_BODY = 16 * 1024 * 1024  # a non-streamed answer larger than this is refused
MAX_STREAMED = 32 * 1024 * 1024  # characters of text and tool-call arguments one streamed answer may hold
MAX_TOOL_CALLS = 256  # tool calls in one answer
MAX_NAME = 1024  # characters of a tool call's name


@asynccontextmanager
async def post(session: aiohttp.ClientSession, provider: Provider, url: str, body: dict[str, Any],
               headers: dict[str, str]) -> AsyncIterator[aiohttp.ClientResponse]:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=provider.timeout_s)
    try:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **headers, **provider.headers}
        async with session.post(url, data=data, headers=headers, timeout=timeout) as resp:
            if resp.status >= 400:
                text = (await read_prefix(resp.content, MAX_ERROR_BODY))[0].decode("utf-8", errors="replace")
                raise error_for_status(resp.status, text, resp.headers.get("retry-after"))
            yield resp
    except ModelError:
        raise
    except TimeoutError:
        raise ModelError("timeout", f"{provider.id} did not answer within {provider.timeout_s:g}s") from None
    except aiohttp.ClientError as exc:
        raise ModelError("network", f"{provider.id} at {url}: {exc}") from None


async def json_body(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    """A non-streamed answer, read to its end however it arrives (never just the first read)."""
    try:
        raw = await read_body(resp.content, MAX_BODY, resp.headers)
    except BodyTooLarge:
        raise ModelError("protocol", f"the answer is larger than {MAX_BODY} bytes") from None
    return parse(raw.decode("utf-8", errors="replace"))


def parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ModelError("protocol", f"the provider sent something that is not JSON: {text[:120]!r}") from None
    if not isinstance(value, dict):
        raise ModelError("protocol", "the provider sent JSON that is not an object")
    return value


def unicode_text(text: str) -> str:
    """`text` as valid Unicode: escaped surrogate halves that belong together are joined, a lone one
    becomes U+FFFD. JSON can carry a lone half; UTF-8, SQLite and every client cannot."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def parse_each(items: list[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of several events, decoded in one call when they are all well formed
    (a call per 8-character delta costs more than the parsing); else one by one, so the events
    before a broken one still count and the error names the broken one."""
    if len(items) > 1:
        try:
            values = json.loads("[" + ",".join(items) + "]")
        except ValueError:
            values = None
        if isinstance(values, list) and len(values) == len(items) and all(isinstance(v, dict) for v in values):
            yield from values
            return
    for item in items:
        yield parse(item)


@dataclass
class Streamed:
    """What a streamed answer has said so far. Text and tool-call arguments are kept as pieces and
    joined once at the end (adding to a string copies all of it each time: quadratic in the
    reply's length), and they are bounded together."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)  # index -> id, name, type, pieces
    size: int = 0

    async def relay(self, since: int, on_text: OnText) -> None:
        """Pass on the text added since piece `since`, as one delta."""
        if len(self.text) > since:
            await on_text("".join(self.text[since:]))

    def add_text(self, piece: str) -> None:
        if piece:
            self._count(len(piece))
            self.text.append(unicode_text(piece))

    def call(self, index: int, **start: str) -> dict[str, Any]:
        """The tool call (or content block) at `index`, opened with `start`'s fields if new."""
        slot = self.calls.get(index)
        if slot is None:
            if len(self.calls) >= MAX_TOOL_CALLS:
                raise ModelError("protocol", f"the provider sent more than {MAX_TOOL_CALLS} tool calls in one answer")
            slot = self.calls[index] = {"id": "", "name": "", "type": "", "pieces": [], **start}
        return slot

    def add_name(self, slot: dict[str, Any], piece: str) -> None:
        slot["name"] += piece
        if len(slot["name"]) > MAX_NAME:
            raise ModelError("protocol", f"the provider sent a tool name longer than {MAX_NAME} characters")

    def add_arguments(self, slot: dict[str, Any], piece: str) -> None:
        self._count(len(piece))
        slot["pieces"].append(piece)

    def _count(self, n: int) -> None:
        self.size += n
        if self.size > MAX_STREAMED:
            raise ModelError("protocol", f"the provider streamed more than {MAX_STREAMED} characters in one answer")


def arguments(raw: str) -> dict[str, Any]:
    """A tool call's arguments; a model that sends broken JSON gets the text back to see."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}


Events = list[deltas.Event]  # (event name, data) of the events that are not plain text
TakeOthers = Callable[[Events, Completion, Streamed], bool]


async def read_stream(resp: aiohttp.ClientResponse, timeout_s: float, shape: deltas.Shape, take: TakeOthers,
                      on_text: OnText) -> tuple[Completion, Streamed]:
    """An SSE answer, a network read at a time: text deltas of the shape learned from the first are
    taken without decoding each (a read of nothing else as one piece), every other event goes to
    `take` in order (True: the answer is over). Each read's new text is passed on at once, what
    arrived before a broken event included (the failure is final); the text is joined once, at
    the end."""
    out, got = Completion(), Streamed()
    async for events in sse.reads(resp, timeout_s):
        text = len(got.text)
        try:
            done = _take_read(events, shape, take, out, got)
        except ModelError:
            await got.relay(text, on_text)
            raise
        await got.relay(text, on_text)
        if done:
            break
    out.text = "".join(got.text)
    return out, got


def _take_read(events: str, shape: deltas.Shape, take: TakeOthers, out: Completion, got: Streamed) -> bool:
    whole = shape.texts(events)
    if whole is not None:  # nothing but text, as most reads of a long reply are
        got.add_text("".join(whole))  # one piece per read, not thousands of tiny strings held to the end
        return False
    for texts, others in deltas.runs(sse.events(events), shape):
        got.add_text("".join(deltas.decode(texts)))
        if take(others, out, got):
            return True
    return False
