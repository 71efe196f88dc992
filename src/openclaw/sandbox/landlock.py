"""Landlock: the fence where user namespaces are off, from the kernel's own access control.

Landlock grants access by folder (a rule covers everything beneath it) and cannot hide a folder
inside one it grants, so the view is turned into rules by walking down to each hidden path and
granting its siblings one by one. What lies on the way to a hidden path (its parent folders) can
be passed through but not listed or added to; commands get the instance's own TMPDIR for that
reason. A Landlock domain also keeps its processes from tracing or reading `/proc` of any process
outside it, and (ABI 6) from signalling them. `network: off` blocks TCP (ABI 4).

This file runs as a launcher too (`python -I -S landlock.py SPEC -- COMMAND...`): it uses the
standard library only, restricts itself, then execs the command.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

TYPE_CHECKING = False  # a launcher: no `typing` import at run time
if TYPE_CHECKING:
    from typing import Any

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_READ, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 23, 24, 28
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR
NET_ALL = 0b11  # bind and connect TCP
SCOPE_ALL = 0b11  # abstract unix sockets and signals


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or it is disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def fs_rights(version: int) -> int:
    rights = (1 << 13) - 1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def restrict(spec: dict[str, Any]) -> None:
    """Apply the rules in `spec` to this process (and everything it will start)."""
    libc = _libc()
    version = int(spec["abi"])
    handled = fs_rights(version)
    attr = _RulesetAttr(handled, NET_ALL if (version >= 4 and not spec.get("network", True)) else 0,
                        SCOPE_ALL if version >= 6 else 0)
    size = 24 if version >= 6 else 16 if version >= 4 else 8
    ruleset = libc.syscall(CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset: " + os.strerror(ctypes.get_errno()))
    try:
        for path, access in spec["rules"]:
            _add(libc, ruleset, path, int(access) & handled)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
        if libc.syscall(RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self: " + os.strerror(ctypes.get_errno()))
    finally:
        os.close(ruleset)


def _add(libc: ctypes.CDLL, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return  # gone since the rules were made: nothing to grant
    try:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            access &= FILE_ONLY
        rule = _PathBeneath(access, fd)
        if libc.syscall(ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"landlock_add_rule {path}: {os.strerror(error)}")
    finally:
        os.close(fd)


def drop_root_powers(libc: ctypes.CDLL) -> None:
    """As root, keep the uid but no capability, now or after exec (securebits locked): file
    permissions still apply, and no process outside the domain can be traced or read."""
    secbits = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS (each locked)
    if libc.prctl(PR_SET_SECUREBITS, secbits & ~0x10, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(SET_SECUREBITS): " + os.strerror(ctypes.get_errno()))
    cap = 0
    while libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0:
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        cap += 1
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): none
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset: " + os.strerror(ctypes.get_errno()))


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: landlock.py SPEC_JSON -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        restrict(json.loads(argv[1]))
        if os.geteuid() == 0:
            drop_root_powers(_libc())
    except (OSError, ValueError, KeyError) as exc:
        print(f"openclaw sandbox: Landlock could not be applied: {exc}", file=sys.stderr)
        return 126
    try:
        os.execvp(argv[3], argv[3:])
    except OSError as exc:
        print(f"openclaw sandbox: {argv[3]}: {exc.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))
