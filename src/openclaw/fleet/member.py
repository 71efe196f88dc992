"""One member as the supervisor sees it: its process, its state and its restart policy.

Pure bookkeeping (no processes are touched here), so the policy reads top-down and tests
call it directly: exit 0 means stopped on purpose and 78 a wrong config (both left down, a
restart would change nothing); over its limit or any other death is restarted, after
0.5 s doubling to 30 s while it keeps dying young; five deaths in two minutes is a crash loop
and the member is left down until `fleet restart NAME`.
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_CONFIG = 78
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # a member that ran this long starts its backoff over
BREAKER_DEATHS = 5
BREAKER_WINDOW_S = 120.0


def describe_status(status: int) -> str:
    """A raw `waitpid` status in words: `exit 3`, `killed by SIGKILL`."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"killed by {name}"
    return f"exit {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else f"status {status}"


@dataclass
class Member:
    name: str
    state_dir: Path
    config_path: Path
    port: int
    pid: int | None = None
    state: str = "down"  # starting | serving | restarting | stopped | config-error | failed | down
    restarts: int = 0
    over_limit: int = 0
    last_exit: str | None = None
    started_at: float = 0.0  # monotonic
    next_start: float | None = None
    restart_requested: bool = False
    deaths: deque[float] = field(default_factory=lambda: deque(maxlen=BREAKER_DEATHS))
    young_deaths: int = 0

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Member:
        return cls(str(data["name"]), Path(data["stateDir"]), Path(data["configPath"]), int(data["port"]))

    @property
    def settled(self) -> bool:
        """Serving, or given up on: what the launcher waits for before it reports."""
        return self.state in ("serving", "stopped", "config-error", "failed")

    def started(self, pid: int, now: float | None = None) -> None:
        self.pid, self.state = pid, "starting"
        self.started_at = time.monotonic() if now is None else now

    def serving(self) -> None:
        self.state = "serving"

    def reset_breaker(self) -> None:
        self.deaths.clear()
        self.young_deaths = 0

    def ended(self, status: int, over_limit: str | None, stopping: bool, now: float) -> str:
        """Decide what follows this member's death; returns the line the supervisor logs."""
        self.pid = None
        self.last_exit = over_limit or describe_status(status)
        if stopping:
            self.state = "down"
            return f"stopped ({self.last_exit})"
        if self.restart_requested:
            self.restart_requested = False
            return self._restart_at(now, 0.0, "restarting on request")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        if over_limit is None and code == 0:
            self.state = "stopped"
            return "exited 0: stopped on purpose, left down (fleet restart NAME starts it)"
        if over_limit is None and code == EXIT_CONFIG:
            self.state = "config-error"
            return f"config error (exit 78), left down: see {self.state_dir / 'logs' / 'fleet-console.log'}"
        if over_limit is not None:
            self.over_limit += 1
        return self._after_death(now)

    def _after_death(self, now: float) -> str:
        self.deaths.append(now)
        if len(self.deaths) == BREAKER_DEATHS and now - self.deaths[0] < BREAKER_WINDOW_S:
            self.state = "failed"
            return (f"{self.last_exit}; {BREAKER_DEATHS} deaths in {BREAKER_WINDOW_S:.0f} s: crash loop, "
                    "left down (fleet restart NAME tries again)")
        self.young_deaths = 1 if now - self.started_at >= STABLE_AFTER_S else self.young_deaths + 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.young_deaths - 1))
        return self._restart_at(now, delay, f"{self.last_exit}; restarting in {delay:g} s")

    def _restart_at(self, now: float, delay: float, line: str) -> str:
        self.state = "restarting"
        self.restarts += 1
        self.next_start = now + delay
        return line

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "profile": self.name, "pid": self.pid, "state": self.state,
                "port": self.port, "url": f"ws://127.0.0.1:{self.port}", "restarts": self.restarts,
                "overLimit": self.over_limit, "lastExit": self.last_exit}
