"""Extra folders for a sandbox, written as upstream's `docker.binds`: `HOST:TARGET[:ro|rw]`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bind:
    """Host `source` seen at `target` inside the sandbox, read-only unless `writable`."""

    source: str
    target: str
    writable: bool

    def __str__(self) -> str:
        return f"{self.source}:{self.target}:{'rw' if self.writable else 'ro'}"


def parse_bind(spec: str) -> Bind:
    """Read-only unless `rw` is explicit; both paths absolute (the host one may start with `~`)."""
    parts = spec.split(":")
    if len(parts) == 2:
        parts.append("ro")
    if len(parts) != 3 or not parts[0] or not parts[1] or parts[2] not in ("ro", "rw"):
        raise ValueError(f"bind {spec!r} must be HOST:TARGET[:ro|rw]")
    if not parts[0].startswith(("/", "~")) or not parts[1].startswith("/"):
        raise ValueError(f"bind {spec!r} must use absolute paths (HOST may start with ~)")
    return Bind(parts[0], parts[1], parts[2] == "rw")
