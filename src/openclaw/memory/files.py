"""Which files are memory: `MEMORY.md`, `USER.md`, Markdown under `memory/` (recursively) and the
configured `extraPaths`. Listing is bounded (files, depth, bytes per file) and never follows a
symlink, so a link planted in `memory/` cannot pull another instance's files into the index.

Paths are named as upstream names them: relative to the workspace (`memory/2026-12-01.md`), or
absolute for an extra path outside it."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openclaw.memory.settings import ExtraPath

ROOT_FILES = ("MEMORY.md", "USER.md")
NOTES_DIR = "memory"
MAX_FILES = 20_000
MAX_DEPTH = 8
MAX_FILE_BYTES = 2 * 1024 * 1024  # a larger file is indexed up to here
DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[-_].*)?\.md$")


@dataclass(frozen=True)
class MemoryFile:
    path: str  # as stored and cited: workspace-relative, or absolute for an extra path outside it
    abspath: Path
    mtime_ns: int
    size: int


def _walk(root: Path, depth: int = 0) -> Iterator[os.DirEntry[str]]:
    """Regular files under `root`; symlinks and dot-entries skipped."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if depth < MAX_DEPTH:
                yield from _walk(Path(entry.path), depth + 1)
        elif entry.is_file(follow_symlinks=False):
            yield entry


def _entry(path: str, entry: os.DirEntry[str] | Path) -> MemoryFile | None:
    try:
        st = entry.stat(follow_symlinks=False) if isinstance(entry, os.DirEntry) else os.lstat(entry)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return MemoryFile(path, Path(entry.path if isinstance(entry, os.DirEntry) else entry), st.st_mtime_ns, st.st_size)


def _name(workspace: Path, file: Path) -> str:
    try:
        return file.relative_to(workspace).as_posix()
    except ValueError:
        return str(file)


def _extra_files(workspace: Path, extra: ExtraPath) -> Iterator[MemoryFile]:
    root = Path(os.path.expanduser(extra.path))
    root = root if root.is_absolute() else workspace / root
    if root.is_file() and not root.is_symlink():
        found = _entry(_name(workspace, root), root)
        if found is not None and root.suffix == ".md":
            yield found
        return
    for entry in _walk(root):
        rel = Path(entry.path).relative_to(root).as_posix()
        if not entry.name.endswith(".md") or (extra.pattern and not fnmatch.fnmatch(rel, extra.pattern)):
            continue
        found = _entry(_name(workspace, Path(entry.path)), entry)
        if found is not None:
            yield found


def list_files(workspace: Path, extra: tuple[ExtraPath, ...] = ()) -> list[MemoryFile]:
    """Every memory file of the workspace, at most `MAX_FILES` (blocking: run in a thread)."""
    out: dict[str, MemoryFile] = {}

    def add(found: MemoryFile | None) -> bool:
        if found is not None and found.path not in out:
            out[found.path] = found
        return len(out) < MAX_FILES

    for name in ROOT_FILES:
        add(_entry(name, workspace / name))
    for entry in _walk(workspace / NOTES_DIR):
        if entry.name.endswith(".md") and not add(_entry(_name(workspace, Path(entry.path)), entry)):
            return list(out.values())
    for item in extra:
        for found in _extra_files(workspace, item):
            if not add(found):
                return list(out.values())
    return list(out.values())


def is_memory_path(path: str, extra: tuple[ExtraPath, ...] = ()) -> bool:
    """Whether a cited path names a memory file by its shape (the index decides whether it exists)."""
    if path in ROOT_FILES:
        return True
    parts = Path(path).parts
    if ".." in parts:
        return False
    if len(parts) >= 2 and parts[0] == NOTES_DIR and path.endswith(".md"):
        return not any(p.startswith(".") for p in parts)
    return bool(extra) and path.endswith(".md")


def read_capped(path: Path) -> str:
    """A memory file's text, at most `MAX_FILE_BYTES`, refusing symlinks (blocking)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = f.read(MAX_FILE_BYTES)
    return data.decode("utf-8", errors="replace")


_children: dict[Path, tuple[int, list[Path]]] = {}  # folder -> (its mtime, its subfolders)
CHILDREN_CACHE = 4096
MAX_FOLDERS = 1000


def _subfolders(folder: Path, mtime_ns: int) -> list[Path]:
    """A folder's subfolders, listed again only when the folder's mtime moved."""
    cached = _children.get(folder)
    if cached is not None and cached[0] == mtime_ns:
        return cached[1]
    found = [Path(e.path) for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    if len(_children) >= CHILDREN_CACHE:
        _children.clear()
    _children[folder] = (mtime_ns, found)
    return found


def fingerprint(workspace: Path) -> tuple[tuple[str, int, int], ...]:
    """A cheap sign of change: the root files and each folder under `memory/` (a folder's mtime moves
    when a note is added, removed or replaced by rename, as the agent's tools and most editors save).
    An edit in place inside a note is seen by the next full scan. A few stats, whatever the note count."""
    out = []
    for name in ROOT_FILES:
        try:
            st = os.lstat(workspace / name)
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, 0, -1))
    stack, seen = [workspace / NOTES_DIR], 0
    while stack and seen < MAX_FOLDERS:
        folder = stack.pop()
        seen += 1
        try:
            st = os.lstat(folder)
            out.append((str(folder), st.st_mtime_ns, 0))
            if stat.S_ISDIR(st.st_mode):
                stack.extend(_subfolders(folder, st.st_mtime_ns))
        except OSError:
            out.append((str(folder), 0, -1))
    return tuple(sorted(out))
