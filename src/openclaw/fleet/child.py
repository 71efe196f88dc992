"""What a member does between `fork` and serving: shed the supervisor, become an instance.

The forked process holds the supervisor's signal handlers, descriptors (the control socket,
its pipes, the lifeline) and environment. It puts itself in its own process group (a stop of
the member reaches its tools' processes too), restores default signal handling, keeps only the
"serving" pipe, writes its console to its own log, names its profile in its environment, applies
its limits, and runs the gateway exactly as `openclaw --profile NAME gateway` would.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sys
import traceback
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from openclaw.fleet.member import Member
from openclaw.procutil import die_with_parent

if TYPE_CHECKING:
    from openclaw.fleet.limits import Enforcer

# Variables that would point a member at another instance's state, config, port or secret.
FOREIGN_ENV = ("OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_PORT", "OPENCLAW_GATEWAY_TOKEN",
               "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_PROFILE", "OPENCLAW_CONFIG_SEED", "OPENCLAW_WORKSPACE_SEED")
CONSOLE_LOG = "fleet-console.log"
# The signals the supervisor handles; blocked across each fork (Supervisor._start).
SUPERVISOR_SIGNALS = frozenset({signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


def member_env(base: dict[str, str], name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in FOREIGN_ENV}
    env["OPENCLAW_PROFILE"] = name
    env.update(extra or {})
    return env


def run_member(member: Member, base_env: Mapping[str, str], ready_fd: int, enforcer: Enforcer | None,
               supervisor: int, keep: Iterable[int] = ()) -> NoReturn:
    """The forked member's whole life; never returns to the supervisor's code. Its process
    environment becomes its own instance's (what the tools it runs inherit)."""
    code = 1
    try:
        _shed_supervisor(member, set(keep), supervisor)
        env = member_env(dict(base_env), member.name, enforcer.child_env(member.name) if enforcer else None)
        os.environ.clear()
        os.environ.update(env)
        if enforcer is not None:
            enforcer.in_child(member.name)
        code = _serve(env, ready_fd)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - the member's end, told in its console log
        code = _report(exc)
    finally:
        _flush()
        os._exit(code)


def _shed_supervisor(member: Member, keep: set[int], supervisor: int) -> None:
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    for sig in SUPERVISOR_SIGNALS:  # forked with them blocked: none can run the supervisor's handler here
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SUPERVISOR_SIGNALS)  # one that came meanwhile acts now
    die_with_parent(supervisor)  # a supervisor killed outright takes its members with it (a clean stop)
    logs = member.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    console = os.open(logs / CONSOLE_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(console, 1)
    os.dup2(console, 2)
    _close_inherited(keep)


def _close_inherited(keep: set[int]) -> None:
    """Every descriptor above stdio but `keep`: the supervisor's sockets and pipes are not ours."""
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = top if 0 < top < 1 << 20 else 1 << 16
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, top)


def _serve(env: dict[str, str], ready_fd: int) -> int:
    from openclaw.gateway.process.runner import run_gateway
    from openclaw.gateway.settings import RunOptions
    from openclaw.profiles.paths import resolve_paths

    def serving() -> None:
        with contextlib.suppress(OSError):  # the supervisor is gone: serving goes on regardless
            os.write(ready_fd, f"{os.getpid()}\n".encode())

    return run_gateway(resolve_paths(env), RunOptions(), env, on_serving=serving)


def _report(exc: BaseException) -> int:
    from openclaw import memguard
    from openclaw.errors import OpenClawError

    memguard.check(exc)  # out of memory under its limit: exit 75, so the supervisor reports it as such

    if isinstance(exc, OpenClawError):
        print(f"[openclaw] {exc}", file=sys.stderr)
        return exc.exit_code
    traceback.print_exception(exc)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


__all__: list[Any] = ["member_env", "run_member"]
