"""Where exec approval events go: the gateway registers its broadcast per state dir at start,
without loading the approvals store (SQLite) until an approval is first needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Publish = Callable[[str, dict[str, Any]], None]
_publishers: dict[Path, Publish] = {}


def set_publisher(state_dir: Path, publish: Publish) -> None:
    _publishers[state_dir.resolve()] = publish


def publisher(state_dir: Path) -> Publish | None:
    return _publishers.get(state_dir.resolve())
