"""The system prompt, built per run from the workspace's files plus what the agent should know
about where and when it runs.

Files: AGENTS.md (how to work), SOUL.md (who it is), IDENTITY.md, USER.md
(who it works for), MEMORY.md (when present); at most 20,000 characters each
and 60,000 in all (`agents.defaults.bootstrapMaxChars`/`bootstrapTotalMaxChars`),
USER.md at most 4,000 (the per-file setting can lower that, not raise it), as upstream.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

FILES = ("AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md", "MEMORY.md")
PER_FILE = 20_000
TOTAL = 60_000
USER_MAX = 4_000
CAPPED = {"USER.md": USER_MAX}  # files with a fixed cap of their own
SILENT = "NO_REPLY"

CORE = f"""You are a personal assistant running inside an OpenClaw gateway. You talk with people through their
chat apps; keep answers short and plain unless asked for more. You may use the tools you are given;
say so when a task needs one you do not have. When a message needs no answer, reply with exactly
{SILENT} and nothing else."""


@dataclass(frozen=True)
class Runtime:
    profile: str
    model: str
    agent_id: str
    channel: str | None = None


_read_cache: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, text): re-read only on change
READ_CACHE_MAX = 256


def _read(path: Path) -> str | None:
    try:
        st = os.stat(path)
        cached = _read_cache.get(path)
        if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        _read_cache.pop(path, None)
        return None
    if len(_read_cache) >= READ_CACHE_MAX:
        _read_cache.clear()
    _read_cache[path] = (st.st_mtime_ns, st.st_size, text)
    return text


_checked: dict[tuple[Path, tuple[int, int, int]], tuple[float, list[tuple[str, str]]]] = {}  # -> (when read, files)
RECHECK_S = 1.0  # edits to the workspace files show up within this long


def caps(per_file: int | None, total: int | None) -> tuple[int, int, int]:
    """(per file, all files, USER.md) from `bootstrapMaxChars`/`bootstrapTotalMaxChars`."""
    each = PER_FILE if per_file is None else per_file
    return each, TOTAL if total is None else total, min(USER_MAX, each)


async def workspace_files(workspace: Path, limits: tuple[int, int, int] = (PER_FILE, TOTAL, USER_MAX)
                          ) -> list[tuple[str, str]]:
    """`read_files`, off the event loop, looked at no more than once per `RECHECK_S` per workspace."""
    now = time.monotonic()
    seen = _checked.get((workspace, limits))
    if seen is not None and now - seen[0] < RECHECK_S:
        return seen[1]
    files = await asyncio.to_thread(read_files, workspace, *limits)
    if len(_checked) >= READ_CACHE_MAX:
        _checked.clear()
    _checked[(workspace, limits)] = (now, files)
    return files


def read_files(workspace: Path, per_file: int = PER_FILE, total: int = TOTAL,
               user_max: int = USER_MAX) -> list[tuple[str, str]]:
    """(name, text) of each workspace file that exists, cut to the limits (blocking: run in a thread)."""
    out: list[tuple[str, str]] = []
    budget = total
    for name in FILES:
        text = _read(workspace / name)
        if text is None:
            continue
        cap = min(per_file, user_max) if name in CAPPED else per_file
        if len(text) > cap:
            text = text[:cap] + f"\n[... {name} cut at {cap} characters]"
        if budget <= 0:
            break
        text = text[:budget]
        budget -= len(text)
        out.append((name, text))
    return out


def build(files: list[tuple[str, str]], runtime: Runtime, tool_names: list[str],
          sections: tuple[tuple[str, str], ...] = ()) -> str:
    """The system prompt: the core, the tools, the workspace files, the features' `sections`
    (heading, text), then the runtime facts."""
    now = time.localtime()
    zone = time.strftime("%Z", now) or "UTC"
    parts = [CORE]
    if tool_names:
        parts.append("Tools available: " + ", ".join(tool_names) + ".")
    for name, text in files:
        parts.append(f"## {name}\n\n{text}")
    for heading, text in sections:
        parts.append(f"## {heading}\n\n{text}")
    where = f" via {runtime.channel}" if runtime.channel else ""
    parts.append(f"## Runtime\n\nDate and time: {time.strftime('%Y-%m-%d %H:%M', now)} ({zone}). "
                 f"Host: {socket.gethostname()}. Gateway profile: {runtime.profile}. Agent: {runtime.agent_id}. "
                 f"Model: {runtime.model}{where}.")
    return "\n\n".join(parts)


def is_silent(text: str) -> bool:
    return text.strip().upper() == SILENT
