"""Opening a file beneath a directory so that nothing swapped in meanwhile can redirect it.

The canvas root is writable by the agent, so any name under it may become a
symlink at any moment. A path is therefore never checked and then opened:
each component is opened relative to its parent's descriptor without
following links (a link met on the way is resolved by hand and may never
climb out of the root), and the file finally opened is judged by its own
`fstat`: a regular file with one link (a second name could be another
instance's file), owned by this process's user or the root's owner, and
reached through no state dir other than this instance's workspace folders
(`Fence`, by device and inode). The caller serves that descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

Ident = tuple[int, int]  # (st_dev, st_ino)

O_PATH = getattr(os, "O_PATH", os.O_RDONLY)  # a handle that needs no read permission (Linux)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted under the root must not hang the open
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
MAX_LINKS = 40  # symlinks followed (beneath the root) per path, as the kernel's own limit
MAX_PARTS = 256  # path components walked per request
MAX_DEPTH = 1024  # ancestors of the root looked at


class Refused(Exception):
    """Not served: missing, outside the root, not a plain file, or fenced off."""


@dataclass(frozen=True)
class Fence:
    """Where no served file may live: inside any state dir, except this instance's workspace folders."""

    state: frozenset[Ident]
    workspaces: frozenset[Ident]

    @classmethod
    def of(cls, state_dirs: Iterable[Path], own: Path, is_workspace: Callable[[str], bool]) -> Fence:
        state = {ident for d in state_dirs if (ident := _ident(d)) is not None}
        workspaces: set[Ident] = set()
        with contextlib.suppress(OSError), os.scandir(own) as entries:
            for entry in entries:
                if is_workspace(entry.name) and entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    workspaces.add((st.st_dev, st.st_ino))
        return cls(frozenset(state), frozenset(workspaces))

    def allows(self, chain: list[Ident]) -> bool:
        """`chain`: the directories from `/` down to a file's folder. A state dir in it is only
        passed into one of this instance's workspace folders."""
        for i, ident in enumerate(chain):
            if ident in self.state and (i + 1 == len(chain) or chain[i + 1] not in self.workspaces):
                return False
        return True


@dataclass(frozen=True)
class Opened:
    fd: int
    size: int
    name: str  # the last component's name (for the content type)


def _ident(path: Path) -> Ident | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _fid(fd: int) -> Ident:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def ancestors(fd: int) -> list[Ident]:
    """The directories from `/` down to the one `fd` is, walked up through `..` (no path involved)."""
    chain: list[Ident] = [_fid(fd)]
    current = os.dup(fd)
    try:
        for _ in range(MAX_DEPTH):
            parent = os.open("..", O_PATH | O_DIRECTORY | O_CLOEXEC, dir_fd=current)
            ident = _fid(parent)
            if ident == chain[-1]:  # `/`: its own parent
                os.close(parent)
                return chain[::-1]
            chain.append(ident)
            os.close(current)
            current = parent
        raise Refused("the root is nested too deep")
    finally:
        os.close(current)


def open_beneath(root: Path, parts: list[str], fence: Fence,
                 name_ok: Callable[[str], bool] = lambda _: True) -> Opened:
    """Open `root/parts...` (a folder: its `index.html`) for reading, or raise Refused."""
    try:
        root_fd = os.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)
    except OSError:
        raise Refused("no root") from None
    stack = [root_fd]
    try:
        owner = os.fstat(root_fd).st_uid
        chain = ancestors(root_fd)
        fd, name = _walk(stack, chain, list(parts), name_ok)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid not in (os.geteuid(), owner):
                raise Refused("not a plain file of this user")
            if not fence.allows(chain):
                raise Refused("inside a state dir")
        except BaseException:
            os.close(fd)
            raise
        return Opened(fd, st.st_size, name)
    except OSError:  # gone or changed on the way
        raise Refused("missing") from None
    finally:
        for held in stack:
            os.close(held)


def _walk(stack: list[int], chain: list[Ident], queue: list[str],
          name_ok: Callable[[str], bool]) -> tuple[int, str]:
    """Follow `queue` down from `stack[-1]`; returns the opened file. `stack` and `chain` grow with
    every folder entered (the caller closes the stack)."""
    links = steps = 0
    queue = list(reversed(queue)) or ["index.html"]  # popped from the end; the root itself: its index
    while queue:
        steps += 1
        if steps > MAX_PARTS:
            raise Refused("too many components")
        name = queue.pop()
        if name in ("", "."):
            continue
        if name == "..":
            if len(stack) == 1:
                raise Refused("climbs out of the root")
            os.close(stack.pop())
            chain.pop()
            continue
        if "\0" in name or not name_ok(name):
            raise Refused("a name that is never served")
        last = not queue
        try:
            fd = os.open(name, (os.O_RDONLY | O_NONBLOCK | os.O_NOCTTY if last else O_PATH)
                         | O_NOFOLLOW | O_CLOEXEC, dir_fd=stack[-1])
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise Refused("missing") from None
            fd = os.open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC, dir_fd=stack[-1])  # the link itself
            if not stat.S_ISLNK(os.fstat(fd).st_mode):
                os.close(fd)
                raise Refused("changed while it was opened") from None
        mode = os.fstat(fd).st_mode
        if stat.S_ISLNK(mode):
            os.close(fd)
            links += 1
            target = _readlink(name, stack[-1])
            if links > MAX_LINKS or target.startswith("/"):
                raise Refused("a link that leaves the root")
            queue.extend(reversed(target.split("/")))
        elif stat.S_ISDIR(mode):
            stack.append(fd)
            chain.append(_fid(fd))
            if last:
                queue.append("index.html")
        elif last:
            return fd, name
        else:
            os.close(fd)
            raise Refused("a file used as a folder")
    raise Refused("nothing named")


def _readlink(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        raise Refused("the link changed") from None
