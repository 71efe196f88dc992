"""The file tools' own fence: paths resolved through the view, opened without following symlinks.

A path is first resolved as the sandbox would see it (symlinks read and followed by us, inside the
view, at most 40). The result is then opened one component at a time from its mount's host folder
with `O_NOFOLLOW`, so a symlink swapped in between check and use makes the open fail instead of
leading elsewhere, and every folder passed is compared with what is hidden by device and inode
(which also catches a hidden folder reached through another mount of it). Only regular files are
read or written. /proc shows a few host-wide files and nothing of any process; /dev nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from collections import deque
from pathlib import Path

from openclaw.sandbox.hidden import is_state_dir_name
from openclaw.sandbox.view import Mount, View

MAX_LINKS = 40
PROC_READABLE = frozenset({"cpuinfo", "meminfo", "loadavg", "uptime", "version", "stat", "filesystems",
                           "partitions", "swaps", "diskstats", "vmstat", "cgroups", "devices", "sys"})
O_PATH = getattr(os, "O_PATH", 0)


class Denied(Exception):
    """The path is outside what this tool may touch (the message says why, for the model)."""


def _denied(path: Path, why: str) -> Denied:
    return Denied(f"{path} {why}; that is off limits")


def resolve(view: View, raw: str) -> Path:
    """The absolute path `raw` names inside the view, symlinks resolved there; Denied if any step
    passes through something hidden."""
    start = Path(raw) if raw.startswith("/") else view.workdir / raw
    queue = deque(start.parts[1:])
    resolved: list[str] = []
    links = 0
    while queue:
        part = queue.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = Path("/", *resolved, part)
        if _on_the_way(view, candidate):
            resolved.append(part)  # a folder that only exists to hold a deeper mount
            continue
        host = _host(view, candidate)
        try:
            info = os.lstat(host)
        except FileNotFoundError:
            resolved.append(part)
            if ".." in queue:
                raise _denied(candidate, "does not exist") from None
            resolved += [p for p in queue if p not in ("", ".")]
            break
        except OSError as exc:
            raise _denied(candidate, f"cannot be looked at ({exc.strerror})") from None
        if stat.S_ISLNK(info.st_mode):
            links += 1
            if links > MAX_LINKS:
                raise _denied(start, "has too many levels of symbolic links")
            target = os.readlink(host)
            if target.startswith("/"):
                resolved = []
            queue.extendleft(reversed(Path(target).parts[1:] if target.startswith("/") else Path(target).parts))
            continue
        resolved.append(part)
    final = Path("/", *resolved)
    _host(view, final)
    return final


def _on_the_way(view: View, path: Path) -> bool:
    """Inside something hidden, yet above a mount that gives a folder back (a workspace in a hidden
    state dir): a folder of the view, with nothing in it but the way down."""
    return view.mount_for(path).kind == "hidden" and any(path in m.target.parents for m in view.mounts)


def _host(view: View, path: Path) -> Path:
    """The host path behind a view path, or Denied."""
    mount = view.mount_for(path)
    if mount.kind == "hidden":
        raise _denied(path, f"is hidden from tools ({mount.why})")
    if mount.kind == "dev":
        raise _denied(path, "is a device")
    if mount.kind == "proc":
        rest = path.relative_to(mount.target).parts
        if rest and rest[0] not in PROC_READABLE:
            raise _denied(path, "belongs to a process")
        return path
    return mount.host(path)


def _state_name_check(view: View, path: Path) -> None:
    """`~/.openclaw[-NAME]` is an instance's, even before it exists; only a folder the view gives
    back inside it (this agent's workspace) may be used."""
    given_back = view.mount_for(path).target
    for candidate in (path, *path.parents):
        if is_state_dir_name(candidate, view.home) and not (
                given_back == candidate or candidate in given_back.parents):
            raise _denied(path, "is where an instance keeps its state")


def _walk(view: View, path: Path, create_dirs: bool) -> tuple[int, str, Mount]:
    """An O_PATH descriptor of `path`'s folder (opened component by component, no symlinks
    followed), the file's name in it, and the mount it is under."""
    mount = view.mount_for(path)
    if mount.kind == "proc":
        base, rest = Path("/proc"), path.relative_to("/proc").parts
    else:
        assert mount.source is not None
        base, rest = mount.source, path.relative_to(mount.target).parts
    if not rest:
        raise _denied(path, "is a folder, not a file")
    fd = os.open(base, O_PATH | os.O_DIRECTORY)
    try:
        _check_dir(view, fd, path)
        for part in rest[:-1]:
            try:
                nxt = os.open(part, O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create_dirs:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _denied(path, "changed while it was opened (a symbolic link appeared)") from None
                raise
            os.close(fd)
            fd = nxt
            _check_dir(view, fd, path)
        return fd, rest[-1], mount
    except BaseException:
        os.close(fd)
        raise


def _check_dir(view: View, fd: int, path: Path) -> None:
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) in view.hidden_ids:
        raise _denied(path, "passes through a hidden folder")


def _checked_file(view: View, fd: int, path: Path) -> os.stat_result:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise _denied(path, "is not a regular file")
    if (info.st_dev, info.st_ino) in view.hidden_ids:
        raise _denied(path, "is hidden from tools")
    return info


def _open_error(path: Path, exc: OSError) -> Exception:
    if exc.errno == errno.ELOOP:
        return _denied(path, "is a symbolic link that changed while it was opened")
    if exc.errno == errno.ENOENT:
        return Denied(f"{path} does not exist")
    return Denied(f"{path}: {exc.strerror}")


def read_bytes(view: View, raw: str, limit: int) -> tuple[Path, bytes, int]:
    """(resolved path, at most `limit` bytes, the file's size)."""
    path = resolve(view, raw)
    _state_name_check(view, path)
    try:
        folder, name, _ = _walk(view, path, create_dirs=False)
    except OSError as exc:
        raise _open_error(path, exc) from None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError as exc:
        raise _open_error(path, exc) from None
    finally:
        os.close(folder)
    try:
        size = _checked_file(view, fd, path).st_size
        chunks, got = [], 0
        while got < limit and (chunk := os.read(fd, min(1 << 20, limit - got))):
            chunks.append(chunk)
            got += len(chunk)
        return path, b"".join(chunks), size
    finally:
        os.close(fd)


def write_bytes(view: View, raw: str, data: bytes, mode: int = 0o644) -> Path:
    """Replace (or create) a file atomically: a new file beside it, fsynced, renamed over it."""
    path = resolve(view, raw)
    _state_name_check(view, path)
    if not view.mount_for(path).writable:
        raise _denied(path, "is read-only here" + (" (sandbox)" if view.sandboxed else ""))
    try:
        folder, name, _ = _walk(view, path, create_dirs=True)
    except OSError as exc:
        raise _open_error(path, exc) from None
    temp = f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError):
            existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISREG(existing.st_mode):
                raise _denied(path, "is not a regular file")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        _sync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise Denied(f"{path}: {exc.strerror}") from None
    finally:
        os.close(folder)
    return path


def _sync_dir(folder: int) -> None:
    """The rename on disk too (best effort: a folder we may pass through but not read is skipped)."""
    try:
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
