"""`read`, `write`, `edit`: files in and around the agent's workspace.

Relative paths are the workspace's. No path inside any instance's state dir
(config with its token, credentials, sessions, logs) is read or written,
whatever the model asks: the same rule as config paths (`profiles.isolation`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.fsutil import atomic_write
from openclaw.models.types import ToolSpec
from openclaw.profiles.isolation import state_dir_problem

MAX_READ_BYTES = 512 * 1024
MAX_WRITE_BYTES = 4 * 1024 * 1024

StateDirs = Callable[[], list[Path]]


def _path(args: dict[str, Any], ctx: ToolContext, state_dirs: StateDirs) -> Path:
    raw = args.get("path")
    if not isinstance(raw, str) or not raw.strip():
        raise ToolError("path is required")
    path = Path(os.path.expanduser(raw))
    path = path if path.is_absolute() else ctx.workspace / path
    if "\0" in raw:
        raise ToolError("the path has a NUL byte")
    problem = state_dir_problem(path, state_dirs())
    if problem:
        raise ToolError(f"{raw} {problem}; that is off limits")
    return path


def _read(path: Path, offset: int, limit: int | None) -> str:
    if not path.is_file():
        raise ToolError(f"{path} is not a file")
    if path.stat().st_size > MAX_READ_BYTES and limit is None:
        limit = 400
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    chosen = lines[offset:offset + limit] if limit is not None else lines[offset:]
    more = len(lines) - offset - len(chosen)
    return "\n".join(chosen) + (f"\n[... {more} more lines; read again with offset {offset + len(chosen)}]"
                                if more > 0 else "")


def _write(path: Path, content: str) -> str:
    data = content.encode()
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"content is larger than {MAX_WRITE_BYTES} bytes")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data, mode=0o644)
    return f"wrote {len(data)} bytes to {path}"


def _edit(path: Path, old: str, new: str, every: bool) -> str:
    if not path.is_file():
        raise ToolError(f"{path} is not a file")
    text = path.read_text(encoding="utf-8")
    count = text.count(old) if old else 0
    if count == 0:
        raise ToolError("old_text was not found in the file (it must match exactly, whitespace included)")
    if count > 1 and not every:
        raise ToolError(f"old_text occurs {count} times; give more context or set replace_all")
    atomic_write(path, text.replace(old, new) if every else text.replace(old, new, 1), mode=0o644)
    return f"replaced {count if every else 1} occurrence(s) in {path}"


def file_tools(state_dirs: StateDirs) -> list[Tool]:
    async def read(args: dict[str, Any], ctx: ToolContext) -> str:
        path = _path(args, ctx, state_dirs)
        offset = max(0, int(args.get("offset") or 0))
        limit = int(args["limit"]) if isinstance(args.get("limit"), int) and args["limit"] > 0 else None
        return await asyncio.to_thread(_read, path, offset, limit)

    async def write(args: dict[str, Any], ctx: ToolContext) -> str:
        if not isinstance(args.get("content"), str):
            raise ToolError("content must be a string")
        return await asyncio.to_thread(_write, _path(args, ctx, state_dirs), args["content"])

    async def edit(args: dict[str, Any], ctx: ToolContext) -> str:
        old, new = args.get("old_text"), args.get("new_text")
        if not isinstance(old, str) or not isinstance(new, str):
            raise ToolError("old_text and new_text must be strings")
        return await asyncio.to_thread(_edit, _path(args, ctx, state_dirs), old, new, bool(args.get("replace_all")))

    path = {"type": "string", "description": "A file path; relative paths are in the workspace"}
    return [
        Tool(ToolSpec("read", "Read a text file (line numbers via offset/limit for long files).",
                      {"type": "object", "properties": {"path": path, "offset": {"type": "integer"},
                                                        "limit": {"type": "integer"}}, "required": ["path"]}), read),
        Tool(ToolSpec("write", "Create or replace a text file.",
                      {"type": "object", "properties": {"path": path, "content": {"type": "string"}},
                       "required": ["path", "content"]}), write, kind="write"),
        Tool(ToolSpec("edit", "Replace exact text in a file (old_text must occur once unless replace_all).",
                      {"type": "object", "properties": {"path": path, "old_text": {"type": "string"},
                                                        "new_text": {"type": "string"},
                                                        "replace_all": {"type": "boolean"}},
                       "required": ["path", "old_text", "new_text"]}), edit, kind="write"),
    ]
