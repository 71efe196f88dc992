"""A fleet member that runs out of memory ends at once, with a known exit code.

Under a memory limit (RLIMIT_AS, or a cgroup's memory.max when the kernel refuses before it
kills) an allocation fails with MemoryError, and the gateway's catch-alls, written to keep one
bad request or run from taking the process down, would swallow it and leave a process that
answers /healthz but fails everything it tries. In a fleet member (`arm()`), those catch-alls
call `check(exc)`: a MemoryError, or an error caused by one, ends the process with
OVER_LIMIT_EXIT after one line on stderr, so the supervisor restarts the member and reports why.
An ordinary gateway never arms it and `check` does nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from types import TracebackType

OVER_LIMIT_EXIT = 75  # EX_TEMPFAIL: try again (the supervisor restarts the member)
RESERVE_BYTES = 256 * 1024  # given back before the last line is written, so writing it cannot fail too

_line: bytes | None = None  # what is written on the way out; None: not armed
_reserve: bytearray | None = None


def arm(label: str, reserve: int = RESERVE_BYTES) -> None:
    """From now on a MemoryError seen by `check` (or by an uncaught-exception hook) ends the process."""
    global _line, _reserve
    _line = f"{label}: out of memory; exiting {OVER_LIMIT_EXIT} to be restarted".encode()
    _reserve = bytearray(reserve)
    previous_thread_hook = threading.excepthook
    previous_hook = sys.excepthook

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            check(args.exc_value)
        previous_thread_hook(args)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        check(value)
        previous_hook(kind, value, tb)

    threading.excepthook = thread_hook
    sys.excepthook = hook


def armed() -> bool:
    return _line is not None


def out_of_memory(exc: BaseException) -> bool:
    """`exc` is a MemoryError, or was raised while handling or because of one."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 16:  # a chain is short; a cycle must not hang us
        if isinstance(current, MemoryError):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def check(exc: BaseException) -> None:
    """In an armed process, end it (exit OVER_LIMIT_EXIT) when `exc` is out of memory; else return."""
    global _reserve
    if _line is None or not out_of_memory(exc):
        return
    _reserve = None
    with contextlib.suppress(BaseException):  # nothing may stop the exit below
        os.write(2, _line + _where(exc) + b"\n")
    os._exit(OVER_LIMIT_EXIT)


def _where(exc: BaseException) -> bytes:
    """' (in module.function)' of the innermost frame, best effort."""
    try:
        tb = exc.__traceback__
        if tb is None:
            return b""
        while tb.tb_next is not None:
            tb = tb.tb_next
        name = tb.tb_frame.f_code.co_qualname
        module = str(tb.tb_frame.f_globals.get("__name__", "?"))
        return f" (in {name if name.startswith(module + '.') else f'{module}.{name}'})".encode()
    except BaseException:  # noqa: BLE001 - the line goes out without it
        return b""


__all__ = ["OVER_LIMIT_EXIT", "arm", "armed", "check", "out_of_memory"]
