"""Where one instance keeps its things, resolved once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from openclaw.profiles.env import expand_user, profile_state_dir, resolve_home
from openclaw.profiles.names import DEV_PROFILE, display_name, is_default, normalize_profile


@dataclass(frozen=True)
class InstancePaths:
    """The resolved identity of one instance: profile, state dir, config, default workspace."""

    profile: str | None
    home: Path
    state_dir: Path
    config_path: Path
    custom_state: bool

    @property
    def name(self) -> str:
        return display_name(self.profile)

    @property
    def cli(self) -> str:
        """The command that reaches this instance, for hints: `openclaw [--profile X]`, or with the
        environment that isolated it by hand (`OPENCLAW_STATE_DIR=... OPENCLAW_CONFIG_PATH=...`)."""
        import shlex

        from openclaw.profiles.names import profile_cli_prefix

        words = []
        if self.custom_state:
            words.append(f"OPENCLAW_STATE_DIR={shlex.quote(str(self.state_dir))}")
        if os.path.abspath(self.config_path) != os.path.abspath(self.state_dir / "openclaw.json"):
            words.append(f"OPENCLAW_CONFIG_PATH={shlex.quote(str(self.config_path))}")
        return " ".join([*words, profile_cli_prefix(self.profile)])

    @property
    def lock_dir(self) -> Path:
        return self.state_dir / "tmp" / f"openclaw-{_uid()}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def history_dir(self) -> Path:
        return self.state_dir / "config-history"

    @property
    def default_workspace(self) -> Path:
        """`~/.openclaw/workspace[-NAME]`; a custom state dir keeps its workspace inside it."""
        if self.custom_state and self.profile is None:
            return self.state_dir / "workspace"
        root = self.home / ".openclaw"
        if is_default(self.profile):
            return root / "workspace"
        return root / f"workspace-{self.profile}"


def _uid() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else os.environ.get("USERNAME", "user")


def runtime_dir() -> Path:
    """Host-wide, per-user directory for the running-gateway registry and config locks.

    Read from the process environment (like `tempfile.gettempdir()`), not a passed one: every
    process of this user on this host must agree on it, whatever profile it serves."""
    import tempfile  # only commands that touch the registry or locks pay for it

    override = os.environ.get("OPENCLAW_RUNTIME_DIR")
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / f"openclaw-{_uid()}"


def resolve_paths(env: Mapping[str, str]) -> InstancePaths:
    home = resolve_home(env)
    raw_profile = (env.get("OPENCLAW_PROFILE") or "").strip() or None
    profile = normalize_profile(raw_profile) if raw_profile else None
    canonical = profile_state_dir(profile, env)
    state_env = (env.get("OPENCLAW_STATE_DIR") or "").strip()
    state_dir = Path(os.path.abspath(expand_user(state_env, env))) if state_env else canonical
    config_env = (env.get("OPENCLAW_CONFIG_PATH") or "").strip()
    config_path = (
        Path(os.path.abspath(expand_user(config_env, env))) if config_env else state_dir / "openclaw.json"
    )
    custom = os.path.abspath(state_dir) != os.path.abspath(canonical)
    return InstancePaths(profile, home, state_dir, config_path, custom)


def paths_for_state_dir(state_dir: Path, home: Path) -> InstancePaths:
    """Paths of another instance found on disk (`~/.openclaw[-NAME]`)."""
    name = state_dir.name
    profile = None
    if name.startswith(".openclaw-"):
        profile = name[len(".openclaw-") :]
    return InstancePaths(profile, home, state_dir, state_dir / "openclaw.json", False)


__all__ = ["DEV_PROFILE", "InstancePaths", "paths_for_state_dir", "resolve_paths", "runtime_dir"]
