"""The memory parts of a run's system prompt: how to use the memory tools (when they are
offered), and today's and yesterday's notes on a fresh session."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from pathlib import Path

from openclaw.memory.daily import recent_notes, section_text

RECALL = """Before answering about earlier work, decisions, dates, people, preferences or to-dos, search your
memory with memory_search, then read only the lines you need with memory_get. Your memory is
MEMORY.md (lasting facts), USER.md (about the person) and dated notes in memory/. To remember
something, write it to memory/YYYY-MM-DD.md (today's date) or MEMORY.md."""
CITE = " When a memory shaped your answer, name it as Source: <path#line>."


def recall_text(citations: str) -> str:
    return RECALL + (CITE if citations != "off" else "")


_sessions: OrderedDict[str, tuple[tuple[str, str], ...]] = OrderedDict()  # session id -> its notes section
REMEMBERED_SESSIONS = 256  # sessions whose notes section is kept (each at most 20,000 characters)


async def sections(workspace: Path, tools: set[str], session_id: str | None, fresh: bool, citations: str = "auto",
                   today: dt.date | None = None) -> tuple[tuple[str, str], ...]:
    """(heading, text) pairs for `Plan.sections`; `today` in the user's zone (the host's by default).

    The notes are read on a session's first turn and kept for its later turns (the same prompt
    for the whole session, as upstream's startup context stays in its transcript)."""
    out: list[tuple[str, str]] = []
    if tools & {"memory_search", "memory_get"}:
        out.append(("Memory Recall", recall_text(citations)))
    if fresh:
        notes = await asyncio.to_thread(recent_notes, workspace, today or dt.date.today())
        kept = (("Recent notes (memory/)", section_text(notes)),) if notes else ()
        if session_id:
            _sessions[session_id] = kept
            while len(_sessions) > REMEMBERED_SESSIONS:
                _sessions.popitem(last=False)
        return (*out, *kept)
    return (*out, *_sessions.get(session_id or "", ()))
