"""Server-sent events from a streaming HTTP response, a network read at a time.

A fast provider's events arrive many to a read (a 3 MB reply in 8-character
deltas is 400,000 events): each read is cut at its last event boundary and the
complete events are handed over together, as text (`events` splits it in
bulk), so what the gateway does per read (relay text, wake a client) is not
done per event. The idle limit between reads is the response's own
`sock_read` timeout (set by `wire.post`), which aiohttp restarts on every
read: no timer or task per event. An event longer than `MAX_EVENT` is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from openclaw.models.types import ModelError

MAX_EVENT = 8 * 1024 * 1024

Event = tuple[str | None, str]  # (event name or None, data)


class Parser:
    """The SSE format, fed bytes as they arrive; holds only the unfinished event."""

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self.max_event = max_event
        self._partial: list[bytes] = []  # the unfinished event's bytes
        self._size = 0

    def feed(self, chunk: bytes) -> str:
        """The text of the events `chunk` completed ("" if none), up to and with their blank line."""
        if b"\n\n" not in chunk and b"\n\r\n" not in chunk and not self._boundary_between(chunk):
            self._hold(chunk)  # no event ends here: keep the piece, join the pieces once
            return ""
        buf = b"".join([*self._partial, chunk]) if self._partial else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        end = buf.rfind(b"\n\n")
        self._partial, self._size = [], 0
        if end < 0:  # a CRLF pair split across reads
            self._hold(buf)
            return ""
        self._hold(buf[end + 2:])
        # a multi-byte character never contains b"\n": complete events decode on their own
        return buf[: end + 2].decode("utf-8", errors="replace")

    def finish(self) -> str:
        """At EOF: an event the provider did not end with a blank line still counts."""
        rest = b"".join(self._partial).replace(b"\r\n", b"\n").decode("utf-8", errors="replace")
        self._partial, self._size = [], 0
        return rest.rstrip("\n") + "\n\n" if rest.strip() else ""

    def _boundary_between(self, chunk: bytes) -> bool:
        """A blank line split across two reads ("\\n" | "\\n", or a CRLF pair split)."""
        if not self._partial:
            return False
        tail = self._partial[-1][-3:]
        return tail.endswith((b"\n", b"\r")) and chunk[:3].lstrip(b"\r").startswith(b"\n")

    def _hold(self, piece: bytes) -> None:
        if not piece:
            return
        self._size += len(piece)
        if self._size > self.max_event:
            raise ModelError("protocol", f"the provider sent a stream event longer than {self.max_event} bytes")
        self._partial.append(piece)


def events(text: str) -> list[Event]:
    """The events of `text`, which ends at an event boundary (a blank line)."""
    blocks = text[:-2].split("\n\n")
    lines = text.count("\n")
    if lines == 2 * len(blocks) and all(b.startswith("data: ") for b in blocks):
        return [(None, b[6:]) for b in blocks]  # one `data:` line each (OpenAI)
    if lines == 3 * len(blocks):  # `event:` then `data:` (Anthropic)
        out: list[Event] = []
        for block in blocks:
            name, sep, data = block.partition("\ndata: ")
            if not sep or not name.startswith("event: "):
                return _general(text)
            out.append((name[7:], data))
        return out
    return _general(text)


def _general(text: str) -> list[Event]:
    """Every line form the format allows: comments, several `data:` lines, no space after the colon."""
    out: list[Event] = []
    name: str | None = None
    data: list[str] = []
    for line in text.split("\n"):
        if not line:
            if data:
                out.append((name, "\n".join(data)))
                data = []
            name = None
        elif line[0] != ":":
            key, _, value = line.partition(":")
            value = value[1:] if value[:1] == " " else value
            if key == "data":
                data.append(value)
            elif key == "event":
                name = value
    return out


async def reads(resp: aiohttp.ClientResponse, idle_s: float) -> AsyncIterator[str]:
    """The text of the events each network read completed (never empty; `events` splits it); a
    provider silent for `idle_s` (the response's sock_read timeout) is a timeout."""
    parser = Parser()
    while True:
        try:
            chunk = await resp.content.readany()
        except TimeoutError:
            raise ModelError("timeout", f"the provider sent nothing for {idle_s:g}s") from None
        except aiohttp.ClientError as exc:
            raise ModelError("network", f"the stream broke: {exc}") from None
        text = parser.feed(chunk) if chunk else parser.finish()
        if text:
            yield text
        if not chunk:
            return
