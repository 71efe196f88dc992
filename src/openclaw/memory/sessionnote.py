"""The session-memory hook's note: on `/new` or `/reset`, the ending session's last messages are
saved to `<workspace>/memory/YYYY-MM-DD-HHMM.md` (`-2`, `-3`, ... when the name is taken), so a
later session can find them with `memory_search`. Written atomically, in a worker thread.

The note holds user and assistant text only: no tool traffic, no slash commands, no silent
replies. Dates are in `agents.defaults.userTimezone`, else `TZ`, else the host's zone."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openclaw.fsutil import atomic_write
from openclaw.memory.files import NOTES_DIR

PER_MESSAGE = 4_000  # characters of one message in the note
MAX_NOTE = 64 * 1024
MAX_SUFFIX = 1000
SILENT = "NO_REPLY"
_lock = threading.Lock()  # two resets in one minute pick different names


def now_in(zone: str | None) -> dt.datetime:
    """Now in `zone`; without one (or an unknown one), the process's local zone, which already
    follows `TZ`."""
    name = zone
    if name:
        try:
            return dt.datetime.now(ZoneInfo(name.lstrip(":")))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.datetime.now().astimezone()


def excerpt(messages: Sequence[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    """The last `count` user/assistant messages worth keeping."""
    kept = [(role, text.strip()) for role, text in messages
            if role in ("user", "assistant") and text.strip() and not text.strip().startswith("/")
            and text.strip().upper() != SILENT]
    return kept[-count:] if count > 0 else []


def render(kept: list[tuple[str, str]], session_key: str, session_id: str, reason: str, when: dt.datetime) -> str:
    lines = [f"# Session notes {when.strftime('%Y-%m-%d %H:%M %Z').strip()}", "",
             f"- Session key: {session_key}", f"- Session id: {session_id}", f"- Reason: {reason}", "",
             "## Conversation", ""]
    for role, text in kept:
        body = text if len(text) <= PER_MESSAGE else text[:PER_MESSAGE] + " [...]"
        lines += [f"**{role}**: {body}", ""]
    note = "\n".join(lines).rstrip() + "\n"
    return note[:MAX_NOTE]


def write_note(workspace: Path, text: str, when: dt.datetime) -> Path:
    """Write the note under a free name; its path (blocking: run in a thread)."""
    folder = workspace / NOTES_DIR
    stem = when.strftime("%Y-%m-%d-%H%M")
    with _lock:
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(1, MAX_SUFFIX + 1):
            path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            if not os.path.lexists(path):
                atomic_write(path, text, mode=0o644)
                return path
    raise FileExistsError(f"{folder} already holds {MAX_SUFFIX} notes named {stem}")


def save(workspace: Path, messages: Sequence[tuple[str, str]], count: int, session_key: str, session_id: str,
         reason: str, zone: str | None) -> Path | None:
    """The hook's whole work (blocking); None when the session said nothing worth keeping."""
    kept = excerpt(messages, count)
    if not kept:
        return None
    when = now_in(zone)
    return write_note(workspace, render(kept, session_key, session_id, reason, when), when)
