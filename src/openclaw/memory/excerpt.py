"""`memory_get`: a bounded run of lines from one memory file, with where to continue.

Only memory files are read (`MEMORY.md`, `USER.md`, `memory/**/*.md`, configured extra paths),
never through a symlink and never outside the workspace or an extra path's folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.memory.files import NOTES_DIR, ROOT_FILES, is_memory_path, read_capped
from openclaw.memory.settings import ExtraPath

DEFAULT_LINES = 120
MAX_LINES = 400
MAX_CHARS = 12_000


@dataclass(frozen=True)
class Excerpt:
    status: str  # ok | not_found | error
    path: str
    text: str = ""
    start_line: int = 0
    end_line: int = 0
    total_lines: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "path": self.path}
        if self.status != "ok":
            out["error"] = self.error
            return out
        out.update(startLine=self.start_line, endLine=self.end_line, totalLines=self.total_lines, text=self.text)
        if self.end_line < self.total_lines:
            out["nextFrom"] = self.end_line + 1
            out["truncated"] = True
        return out


def _extra_roots(workspace: Path, extra: tuple[ExtraPath, ...]) -> list[Path]:
    out = []
    for item in extra:
        root = Path(os.path.expanduser(item.path))
        out.append(Path(os.path.abspath(root if root.is_absolute() else workspace / root)))
    return out


def _locate(workspace: Path, path: str, extra: tuple[ExtraPath, ...]) -> Path | None:
    """The file a cited memory path names, when it is one: the workspace's memory files, or a
    Markdown file under an extra path; no symlink anywhere below the workspace or that root."""
    clean = path.split("#", 1)[0].strip()
    if not clean or "\0" in clean or not is_memory_path(clean, extra):
        return None
    base = workspace.resolve()
    candidate = Path(os.path.abspath(clean if Path(clean).is_absolute() else base / clean))
    inside = clean in ROOT_FILES or (clean.startswith(f"{NOTES_DIR}/") and candidate.is_relative_to(base))
    if not inside and not any(candidate.is_relative_to(r) and candidate != r for r in _extra_roots(base, extra)):
        return None
    return candidate if candidate.resolve() == candidate else None  # a symlink on the way: refused


def read_excerpt(workspace: Path, path: str, start: int | None, lines: int | None,
                 extra: tuple[ExtraPath, ...] = ()) -> Excerpt:
    """The excerpt (blocking: run in a thread)."""
    target = _locate(workspace, path, extra)
    if target is None:
        return Excerpt("error", path, error="not a memory file: memory_get reads MEMORY.md, USER.md, "
                                            "memory/**/*.md and the configured extra paths")
    try:
        text = read_capped(target)
    except FileNotFoundError:
        return Excerpt("not_found", path, error="no such memory file")
    except OSError as exc:
        return Excerpt("error", path, error=exc.strerror or str(exc))
    all_lines = text.splitlines()
    first = max(1, start or 1)
    count = min(max(1, lines or DEFAULT_LINES), MAX_LINES)
    chosen = all_lines[first - 1:first - 1 + count]
    body: list[str] = []
    used = 0
    for line in chosen:
        if used + len(line) + 1 > MAX_CHARS and body:
            break
        body.append(line[:MAX_CHARS])
        used += len(line) + 1
    end = first - 1 + len(body)
    return Excerpt("ok", path, "\n".join(body), first if body else 0, end, len(all_lines))
