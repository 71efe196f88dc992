"""The view as Landlock rules: (path, rights) pairs, punched around whatever is hidden."""

from __future__ import annotations

import os
from pathlib import Path

from openclaw.sandbox.landlock import READ, fs_rights
from openclaw.sandbox.view import Mount, View


def _rights(mount: Mount, version: int) -> int:
    if mount.kind == "hidden":
        return 0
    if mount.kind == "proc":
        return READ
    if mount.kind == "dev":
        return fs_rights(version)
    return fs_rights(version) if mount.writable else READ


def _inside(path: Path, root: Path) -> bool:
    return root in path.parents


def rules(view: View, version: int) -> list[tuple[str, int]]:
    """Blocking (lists folders on the way to hidden paths): call it off the event loop."""
    out: list[tuple[str, int]] = []
    for mount in view.mounts:
        rights = _rights(mount, version)
        if not rights:
            continue
        target = mount.source if mount.kind == "bind" and mount.source is not None else mount.target
        blockers = [other.target for other in view.mounts  # deeper, and short of something granted here
                    if _inside(other.target, mount.target) and rights & ~_rights(other, version)]
        _grant(Path(target), rights, blockers, out)
    return out


def _grant(path: Path, rights: int, blockers: list[Path], out: list[tuple[str, int]]) -> None:
    if not blockers:
        out.append((str(path), rights))
        return
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        child = path / entry.name
        inside = [b for b in blockers if b == child or _inside(b, child)]
        if child in inside:
            continue  # a blocker itself: hidden, or granted by its own mount
        if not inside:
            if not entry.is_symlink():  # access through a link is decided where it leads
                out.append((str(child), rights))
        elif entry.is_dir(follow_symlinks=False):
            _grant(child, rights, inside, out)
