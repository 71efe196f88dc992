"""Starts a stdio server so that it dies with the gateway, even one killed with SIGKILL.

Run as `python -I -S launcher.py MODE PARENT_PID -- COMMAND...` in the server's own process group.
`exec`: ask the kernel for SIGKILL when the parent dies, then become the command (used for
bubblewrap, whose PID namespace takes everything the server started with it). `supervise`: stay
as the group's leader, start the command, and kill the whole group when the parent dies, so the
server's own children go too. Standard library only: it runs before anything else is imported.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int, parent: int) -> None:
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is None:  # not Linux: the gateway's own stop still ends the group
        return
    if prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the request took hold
        os.killpg(0, signal.SIGKILL)


def _kill_group(*_: object) -> None:
    os.killpg(0, signal.SIGKILL)


def main(argv: list[str]) -> int:
    mode, parent, rest = argv[1], int(argv[2]), argv[3:]
    command = rest[1:] if rest[:1] == ["--"] else rest
    if mode == "exec":
        _die_with_parent(signal.SIGKILL, parent)
        os.execvp(command[0], command)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, _kill_group)
    _die_with_parent(signal.SIGTERM, parent)
    pid = os.fork()
    if pid == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"cannot start {command[0]}: {exc.strerror}", file=sys.stderr)
            os._exit(127)
    os.close(0)
    os.close(1)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv))
