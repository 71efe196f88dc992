"""Chunks of a memory file: runs of whole lines of about upstream's size (400 tokens, taken as
1,600 characters) with an 80-token (320-character) overlap, so a fact near a boundary is found
whole in one of the two chunks. A heading starts a new chunk once the current one has some body,
which keeps sections apart in the results. Line numbers are 1-based and inclusive."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CHUNK_CHARS = 1600
OVERLAP_CHARS = 320
MIN_BEFORE_HEADING = 200  # a heading splits only a chunk that already holds this much
MAX_CHUNKS_PER_FILE = 2000


@dataclass(frozen=True)
class Chunk:
    start_line: int
    end_line: int
    text: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _pieces(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) with over-long lines cut into chunk-sized pieces of the same number."""
    out = []
    for number, line in enumerate(lines, 1):
        if len(line) <= CHUNK_CHARS:
            out.append((number, line))
        else:
            out += [(number, line[i:i + CHUNK_CHARS]) for i in range(0, len(line), CHUNK_CHARS)]
    return out


def _tail(current: list[tuple[int, str]]) -> list[tuple[int, str]]:
    kept: list[tuple[int, str]] = []
    size = 0
    for item in reversed(current[1:]):  # never the whole chunk again
        size += len(item[1]) + 1
        if size > OVERLAP_CHARS:
            break
        kept.insert(0, item)
    return kept


def chunk_text(text: str) -> list[Chunk]:
    current: list[tuple[int, str]] = []
    size = 0
    out: list[Chunk] = []

    def emit() -> None:
        body = "\n".join(t for _, t in current)
        if body.strip():
            out.append(Chunk(current[0][0], current[-1][0], body))

    for number, line in _pieces(text.splitlines()):
        heading = line.startswith("#") and size >= MIN_BEFORE_HEADING
        if current and (size + len(line) + 1 > CHUNK_CHARS or heading):
            emit()
            if len(out) >= MAX_CHUNKS_PER_FILE:
                return out
            current = [] if heading else _tail(current)
            size = sum(len(t) + 1 for _, t in current)
        current.append((number, line))
        size += len(line) + 1
    if current:
        emit()
    return out[:MAX_CHUNKS_PER_FILE]
