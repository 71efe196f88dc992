"""Plain data carried between config layers (no pydantic, so readers stay fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem at one key path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class ConfigSnapshot:
    """What is on disk right now: raw text, parsed data, and (once validated) the model."""

    path: Path
    exists: bool
    raw_text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    hash: str | None = None
    config: Any = None  # OpenClawConfig once validated

    @property
    def valid(self) -> bool:
        return not self.issues

    def get(self, *keys: str, default: Any = None) -> Any:
        """Read a resolved value by keys without the pydantic model (for fast CLI paths)."""
        node: Any = self.resolved
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node
