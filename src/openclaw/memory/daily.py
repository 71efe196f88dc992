"""Today's and yesterday's dated notes (`memory/YYYY-MM-DD.md`, `memory/YYYY-MM-DD-<slug>.md`),
put into the prompt of a fresh session (after `/new` or `/reset`), newest day first.

The folder listing is cached by the folder's mtime, so a turn with 1,000 notes costs one stat."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from openclaw.memory.files import DATED, NOTES_DIR, read_capped

PER_NOTE = 8_000  # characters of one note
TOTAL = 20_000  # characters of all of them together
_listing: dict[Path, tuple[int, list[str]]] = {}  # folder -> (mtime_ns, dated names)
LISTING_CACHE = 256


def _dated_names(folder: Path) -> list[str]:
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return []
    cached = _listing.get(folder)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        names = sorted(e.name for e in os.scandir(folder) if DATED.match(e.name) and e.is_file(follow_symlinks=False))
    except OSError:
        return []
    if len(_listing) >= LISTING_CACHE:
        _listing.clear()
    _listing[folder] = (mtime, names)
    return names


def recent_notes(workspace: Path, today: dt.date) -> list[tuple[str, str]]:
    """(path, text) of today's and yesterday's notes within the budgets (blocking: run in a thread)."""
    folder = workspace / NOTES_DIR
    names = _dated_names(folder)
    out: list[tuple[str, str]] = []
    budget = TOTAL
    for day in (today, today - dt.timedelta(days=1)):
        stamp = day.isoformat()
        for name in (n for n in names if n.startswith(stamp)):
            if budget <= 0:
                return out
            try:
                text = read_capped(folder / name).strip()
            except OSError:
                continue
            if len(text) > PER_NOTE:
                text = text[:PER_NOTE] + f"\n[... cut at {PER_NOTE} characters; memory_get reads the rest]"
            text = text[:budget]
            budget -= len(text)
            out.append((f"{NOTES_DIR}/{name}", text))
    return out


def section_text(notes: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"### {path}\n\n{text}" for path, text in notes)
