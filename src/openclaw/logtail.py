"""Reading the tail of a log file by byte cursor, never returning a partial line.

Shared by the gateway's `logs.tail` method and `openclaw logs --local`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_LIMIT = 500
DEFAULT_MAX_BYTES = 250_000
MAX_LIMIT = 5_000
MAX_BYTES = 1_000_000


def read_tail(path: Path, cursor: int | None, limit: int, max_bytes: int) -> dict[str, Any]:
    """Lines after `cursor` (or the last `max_bytes`), at most `limit`, never a partial line."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {"file": str(path), "cursor": 0, "size": 0, "lines": [], "truncated": False,
                "reset": bool(cursor)}
    reset, truncated, skipped = False, False, None
    if cursor is None:
        start = max(0, size - max_bytes)
        truncated = start > 0
    elif cursor > size:  # rotated or truncated under us
        reset = True
        start = max(0, size - max_bytes)
        truncated = start > 0
    else:
        start = cursor
        if size - start > max_bytes:
            reset = truncated = True
            skipped = size - max_bytes - start
            start = size - max_bytes
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    if start > 0 and not _at_line_start(path, start):
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""
    end = data.rfind(b"\n")
    complete = data[: end + 1] if end >= 0 else b""
    new_cursor = size - (len(data) - len(complete))
    lines = complete.decode("utf-8", errors="replace").splitlines()
    if len(lines) > limit:
        lines, truncated = lines[-limit:], True
    result: dict[str, Any] = {"file": str(path), "cursor": new_cursor, "size": size, "lines": lines,
                              "truncated": truncated, "reset": reset}
    if skipped:
        result["skippedBytes"] = skipped
    return result


def _at_line_start(path: Path, offset: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(offset - 1)
        return fh.read(1) == b"\n"


def format_log_line(raw: str) -> str:
    """`HH:MM:SS level [subsystem] message key=value` from one JSON log line (other text as is)."""
    try:
        rec = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(rec, dict):
        return raw
    if isinstance(rec.get("_meta"), dict):
        rec = upstream_record(rec)
    stamp = str(rec.get("time", ""))[11:19]
    extra = {k: v for k, v in rec.items() if k not in ("time", "level", "subsystem", "message")}
    tail = " " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
    return f"{stamp} {rec.get('level', '?'):<5} [{rec.get('subsystem', '?')}] {rec.get('message', '')}{tail}"


def upstream_record(rec: dict[str, Any]) -> dict[str, Any]:
    """Upstream's log line (numbered arguments, `_meta.logLevelName`, a logger name that is a JSON
    object with the subsystem or module) in our shape: time, level, subsystem, message, fields."""
    meta = rec["_meta"]
    try:
        name = json.loads(meta.get("name") or "{}")
    except ValueError:
        name = {"subsystem": meta.get("name")}
    name = name if isinstance(name, dict) else {}
    args = [rec[k] for k in sorted((k for k in rec if k.isdigit()), key=int)]
    if args and args[0] == meta.get("name"):
        args = args[1:]  # the logger's own name comes first
    words = [a for a in args if isinstance(a, str)]
    fields: dict[str, Any] = {}
    for arg in args:
        if isinstance(arg, dict):
            fields.update(arg)
    out = {"time": rec.get("time") or meta.get("date", ""), "level": str(meta.get("logLevelName", "?")).lower(),
           "subsystem": name.get("subsystem") or name.get("module") or "gateway",
           "message": rec.get("message") or " ".join(words)}
    return {**out, **{k: v for k, v in fields.items() if k not in out}}
