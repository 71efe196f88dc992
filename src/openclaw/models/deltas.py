"""Text deltas recognised without decoding their JSON into objects.

Nearly every event of a streamed reply says one thing: "the text goes on with
these few characters", and within one stream those events differ only in
that text. Decoding each into dicts costs several microseconds, which for a
3 MB reply in 8-character deltas is seconds. So the first text delta of a
stream is checked in full against a strict pattern (every member pinned to a
harmless value, nothing that could carry usage, an error or a tool call), and
its shape is remembered: what comes before the text's JSON string literal and
what comes after. A later event with the same prefix and suffix around a
valid string literal is the same event with other text, and costs a few
string comparisons; its literal is decoded with its neighbours in one call.
A read that holds nothing but such events (most reads of a long reply) is
taken whole, in a few passes of string methods over its text
(`Shape.texts`). Everything else goes through the full decoder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from openclaw.models.types import ModelError

Event = tuple[str | None, str]  # (event name or None, data), as sse parses them

_WS = r"\s*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_SCALAR = rf'(?:{_STRING}|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false)'
# a top-level member the stream reader ignores (never choices, usage or error; no escapes in the key)
_OTHER = rf'"(?!choices"|usage"|error")[A-Za-z_][A-Za-z0-9_]*"{_WS}:{_WS}{_SCALAR}'
_TAIL = rf'(?:{_WS},{_WS}{_OTHER})*{_WS}\}}{_WS}'
_CHOICE_MEMBER = rf'(?:"index"{_WS}:{_WS}0|"logprobs"{_WS}:{_WS}null|"finish_reason"{_WS}:{_WS}null)'
_OPENAI_DELTA = (rf'"delta"{_WS}:{_WS}\{{{_WS}(?:"role"{_WS}:{_WS}"assistant"{_WS},{_WS})?'
                 rf'"content"{_WS}:{_WS}(?P<text>{_STRING}){_WS}\}}')
_OPENAI_CHOICE = (rf'\{{{_WS}(?:{_CHOICE_MEMBER}{_WS},{_WS})*{_OPENAI_DELTA}'
                  rf'(?:{_WS},{_WS}{_CHOICE_MEMBER})*{_WS}\}}')
OPENAI = re.compile(rf'{_WS}\{{{_WS}(?:{_OTHER}{_WS},{_WS})*"choices"{_WS}:{_WS}\[{_WS}{_OPENAI_CHOICE}{_WS}\]'
                    rf'(?P<tail>{_TAIL})')
ANTHROPIC = re.compile(rf'{_WS}\{{{_WS}"type"{_WS}:{_WS}"content_block_delta"{_WS},{_WS}"index"{_WS}:{_WS}\d+{_WS},'
                       rf'{_WS}"delta"{_WS}:{_WS}\{{{_WS}"type"{_WS}:{_WS}"text_delta"{_WS},{_WS}'
                       rf'"text"{_WS}:{_WS}(?P<text>{_STRING}){_WS}\}}(?P<tail>{_WS}\}}{_WS})')
STRING = re.compile(_STRING)
TAIL = re.compile(_TAIL)


class Shape:
    """The text deltas of one stream, learned from the first one (see the module's doc)."""

    LEARNING = 32  # full checks a stream gets while its shape is unknown or changes

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.learning = self.LEARNING
        self.prefix = ""
        self.suffix = ""
        self.core = ""  # the suffix up to the tail of ignored members (OpenAI's vary: `obfuscation`)
        self.head = "data: "  # the event's lines before its data (`event: <name>` for Anthropic)

    def literal(self, data: str, name: str | None = None) -> str | None:
        """The JSON string literal of the text `data` adds, if `data` is nothing but a text delta."""
        found = self._same(data) if self.prefix else None
        if found is None and self.learning:
            self.learning -= 1
            found = self._learn(data)
            if found is not None:
                self.head = ("" if name is None else f"event: {name}\n") + "data: "
        return found

    def texts(self, events: str) -> list[str] | None:
        """The texts of `events` (SSE text ending at an event boundary, as `sse.reads` yields it)
        when it is nothing but text deltas of this stream's shape, from three passes of string
        methods over the whole text rather than a few per event; None when it is anything else.

        Such text is `start "p1" sep "p2" sep ... "pk" end` with one fixed separator. Turned into
        the JSON array `["p1","p2",...,"pk"]`, it decodes to exactly k strings only if every piece
        is a string literal: any other event in between would put braces or colons between the
        array's strings, and a broken literal breaks the array (the event by event path then
        names the broken event)."""
        start, end = self.head + self.prefix, self.suffix + "\n\n"
        if not self.prefix or not events.startswith(start) or not events.endswith(end):
            return None
        if len(events) < len(start) + len(end) + 2 or events[len(start)] != '"' or events[-len(end) - 1] != '"':
            return None
        sep = '"' + end + start + '"'
        inner = events[len(start) + 1: len(events) - len(end) - 1]
        try:
            texts = json.loads('["' + inner.replace(sep, '","') + '"]')
        except ValueError:
            return None
        if not isinstance(texts, list) or len(texts) != inner.count(sep) + 1 or not all(type(t) is str for t in texts):
            return None
        return texts

    def _same(self, data: str) -> str | None:
        start = len(self.prefix)
        if not data.startswith(self.prefix):
            return None
        if data.endswith(self.suffix):
            end = len(data) - len(self.suffix)
        elif '"' in self.core:  # a raw quote cannot be inside the literal, so the last one is ours
            end = data.rfind(self.core)
            if end < start or TAIL.fullmatch(data, end + len(self.core)) is None:
                return None
        else:
            return None
        text = data[start:end]
        if len(text) < 2 or text[0] != '"' or text[-1] != '"':
            return None
        if ("\\" in text or '"' in text[1:-1]) and STRING.fullmatch(text) is None:
            return None
        return text

    def _learn(self, data: str) -> str | None:
        found = self.pattern.fullmatch(data)
        if found is None:
            return None
        self.prefix, self.suffix = data[: found.start("text")], data[found.end("text"):]
        self.core = data[found.end("text"): found.start("tail")]
        return found.group("text")


def runs(events: list[Event], shape: Shape) -> Iterator[tuple[list[str], list[Event]]]:
    """The events in order, as runs: (JSON literals of consecutive text deltas, []) or
    ([], consecutive other events)."""
    texts: list[str] = []
    others: list[Event] = []
    for event in events:
        text = shape.literal(event[1], event[0])
        if text is None:
            if texts:
                yield texts, []
                texts = []
            others.append(event)
        else:
            if others:
                yield [], others
                others = []
            texts.append(text)
    if texts:
        yield texts, []
    if others:
        yield [], others


def decode(literals: list[str]) -> list[str]:
    """The texts of JSON string literals, decoded in one call (one by one when one is broken,
    so the error names it)."""
    if not literals:
        return []
    try:
        texts = json.loads("[" + ",".join(literals) + "]")
    except ValueError:
        texts = None
    if isinstance(texts, list) and len(texts) == len(literals):
        return texts
    out = []
    for item in literals:
        try:
            out.append(json.loads(item))
        except ValueError:
            raise ModelError("protocol", f"the provider sent something that is not JSON: {item[:120]!r}") from None
    return out
