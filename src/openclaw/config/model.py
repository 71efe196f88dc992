"""Plain data carried between config layers (no pydantic, so readers stay fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw.config.view import Config


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

    @property
    def valid(self) -> bool:
        return not self.issues

    def view(self) -> Config:
        """The typed view of `resolved`, built once (again only if `resolved` is replaced)."""
        cached = self.__dict__.get("_view")
        if cached is None or cached.raw is not self.resolved:
            from openclaw.config.view import Config

            cached = self.__dict__["_view"] = Config(self.resolved)
        return cached

    def get(self, *keys: str, default: Any = None) -> Any:
        """Read a resolved value by keys (for the few keys read nowhere else)."""
        return self.view().get(*keys, default=default)
