"""`read`, `write`, `edit`: files in and around the agent's workspace, inside the fence.

Relative paths are the workspace's. Every path is resolved and opened through the call's view
(`sandbox.fsaccess`): nothing hidden from tools (any instance's state dir, configs, the gateway
registry, host credentials) is read or written, symlinks cannot lead out between check and use,
and in a sandbox only the workspace and writable binds take writes.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.models.types import ToolSpec
from openclaw.sandbox.confine import Confinement, Refused, ToolSandbox
from openclaw.sandbox.fsaccess import Denied, read_bytes, write_bytes

MAX_READ_BYTES = 512 * 1024  # past this, a read without a limit returns the first 400 lines
MAX_FILE_BYTES = 16 * 1024 * 1024  # what a read or edit loads at most
MAX_WRITE_BYTES = 4 * 1024 * 1024


def _raw_path(args: dict[str, Any]) -> str:
    raw = args.get("path")
    if not isinstance(raw, str) or not raw.strip():
        raise ToolError("path is required")
    if "\0" in raw:
        raise ToolError("the path has a NUL byte")
    return raw


def _expand(raw: str, confined: Confinement) -> str:
    if raw == "~" or raw.startswith("~/"):
        return str(confined.view.home) + raw[1:]
    return raw


def _read(confined: Confinement, raw: str, offset: int, limit: int | None) -> str:
    path, data, size = read_bytes(confined.view, _expand(raw, confined), MAX_FILE_BYTES)
    if size > MAX_READ_BYTES and limit is None:
        limit = 400
    lines = data.decode("utf-8", errors="replace").splitlines()
    chosen = lines[offset:offset + limit] if limit is not None else lines[offset:]
    more = len(lines) - offset - len(chosen)
    text = "\n".join(chosen)
    if more > 0:
        text += f"\n[... {more} more lines; read again with offset {offset + len(chosen)}]"
    if size > len(data):
        text += f"\n[{path} has {size} bytes; only the first {len(data)} were read]"
    return text


def _write(confined: Confinement, raw: str, content: str) -> str:
    data = content.encode()
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"content is larger than {MAX_WRITE_BYTES} bytes")
    confined.require("write")
    path = write_bytes(confined.view, _expand(raw, confined), data)
    return f"wrote {len(data)} bytes to {path}"


def _edit(confined: Confinement, raw: str, old: str, new: str, every: bool) -> str:
    confined.require("edit")
    path, data, size = read_bytes(confined.view, _expand(raw, confined), MAX_WRITE_BYTES + 1)
    if size > MAX_WRITE_BYTES:
        raise ToolError(f"{path} is larger than {MAX_WRITE_BYTES} bytes; edit it with exec")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{path} is not UTF-8 text") from None
    count = text.count(old) if old else 0
    if count == 0:
        raise ToolError("old_text was not found in the file (it must match exactly, whitespace included)")
    if count > 1 and not every:
        raise ToolError(f"old_text occurs {count} times; give more context or set replace_all")
    changed = text.replace(old, new) if every else text.replace(old, new, 1)
    write_bytes(confined.view, str(path), changed.encode())
    return f"replaced {count if every else 1} occurrence(s) in {path}"


async def _call(sandbox: ToolSandbox, ctx: ToolContext, work: Any, *args: Any) -> str:
    confined = await sandbox.confine(ctx.agent_id, ctx.session_key, ctx.workspace, ctx.readable)
    try:
        return await asyncio.to_thread(work, confined, *args)
    except (Denied, Refused) as exc:
        raise ToolError(str(exc)) from None
    except OSError as exc:
        raise ToolError(f"{args[0] if args else 'file'}: {exc.strerror or os.strerror(exc.errno or 0)}") from None


def file_tools(sandbox: ToolSandbox) -> list[Tool]:
    async def read(args: dict[str, Any], ctx: ToolContext) -> str:
        offset = args.get("offset")
        limit = args.get("limit")
        offset = offset if isinstance(offset, int) and offset > 0 else 0
        limit = limit if isinstance(limit, int) and limit > 0 else None
        return await _call(sandbox, ctx, _read, _raw_path(args), offset, limit)

    async def write(args: dict[str, Any], ctx: ToolContext) -> str:
        if not isinstance(args.get("content"), str):
            raise ToolError("content must be a string")
        return await _call(sandbox, ctx, _write, _raw_path(args), args["content"])

    async def edit(args: dict[str, Any], ctx: ToolContext) -> str:
        old, new = args.get("old_text"), args.get("new_text")
        if not isinstance(old, str) or not isinstance(new, str):
            raise ToolError("old_text and new_text must be strings")
        return await _call(sandbox, ctx, _edit, _raw_path(args), old, new, bool(args.get("replace_all")))

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
