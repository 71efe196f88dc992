"""Safe file primitives: atomic writes, private directories, advisory locks.

Every persistent write in the project goes through `atomic_write` so a crash
never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from openclaw.errors import OpenClawError
from openclaw.procutil import pid_alive

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


def ensure_private_dir(path: Path) -> Path:
    """Create a directory with 0700 (new parents too); tighten the leaf if it exists."""
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    with contextlib.suppress(OSError):
        if os.name != "nt" and (path.stat().st_mode & 0o777) != PRIVATE_DIR:
            path.chmod(PRIVATE_DIR)
    return path


def refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise OpenClawError(
            f"refusing to write through a symlink: {path} -> {os.readlink(path)}; "
            "point OPENCLAW_CONFIG_PATH at the real file instead"
        )


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.\d+\.tmp$")


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")


def leftover_temps(directory: Path, name: str | None = None) -> list[Path]:
    """Temp files of interrupted atomic writes in `directory` (of file `name`, or any): their
    writer is gone, and they may hold a copy of what was being written (a config with its token)."""
    out: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return out
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and not pid_alive(pid) and entry.is_file(follow_symlinks=False):
            out.append(Path(entry.path))
    return out


def remove_leftover_temps(path: Path) -> None:
    for leftover in leftover_temps(path.parent, path.name):
        with contextlib.suppress(OSError):
            leftover.unlink()


def atomic_write(path: Path, data: str | bytes, mode: int = PRIVATE_FILE, backup: Path | None = None) -> None:
    """Write via temp file + fsync + rename; optionally keep the previous file as `backup`.

    Temp files that an interrupted earlier write left beside `path` go first."""
    refuse_symlink(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftover_temps(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = _temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if backup is not None and path.exists():
            _replace_copy(path, backup, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _replace_copy(src: Path, dst: Path, mode: int) -> None:
    """Atomically make `dst` a copy of `src` (the previous version of a file)."""
    remove_leftover_temps(dst)
    tmp = _temp_path(dst)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(src.read_bytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dst)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class FileLock:
    """An exclusive advisory lock on a file, released by the kernel if the process dies.

    After locking we re-check that the path still names the locked inode, so a
    holder that deletes its lock file on release cannot hand the lock to two
    waiters at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        if not _try_lock(fd):
            os.close(fd)
            return False
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:
            _unlock(fd)
            os.close(fd)
            return False
        self.fd = fd
        return True

    def acquire(self, timeout: float, poll: float = 0.05, cancel: threading.Event | None = None) -> bool:
        """Poll for the lock until `timeout`; False on timeout or once `cancel` is set."""
        deadline = time.monotonic() + timeout
        while True:
            if cancel is not None and cancel.is_set():
                return False
            if self.try_acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def write(self, text: str) -> None:
        """Replace the lock file's content (the owner record) in place."""
        assert self.fd is not None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text.encode(), 0)
        os.fsync(self.fd)

    def release(self, remove: bool = True) -> None:
        if self.fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        _unlock(self.fd)
        os.close(self.fd)
        self.fd = None


@contextlib.contextmanager
def locked(path: Path, timeout: float = 30.0, what: str = "file",
           cancel: threading.Event | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the duration of the block (a set `cancel` gives up)."""
    lock = FileLock(path)
    if not lock.acquire(timeout, cancel=cancel):
        if cancel is not None and cancel.is_set():
            raise OpenClawError(f"gave up waiting for the {what} lock {path}: the request was cancelled")
        raise OpenClawError(f"timed out after {timeout:.0f}s waiting for the {what} lock {path}")
    try:
        yield
    finally:
        lock.release(remove=False)
