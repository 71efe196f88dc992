"""Root flags (`--profile`, `--dev`, ...) and the profile's projection into the environment.

Paths are resolved from the environment everywhere, so the CLI entry point
scans root flags first, projects the chosen profile into the process
environment it passes in, and only then dispatches. Child processes
(services, shells) inherit the result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openclaw.errors import UsageError
from openclaw.profiles.names import (
    DEV_PROFILE,
    launchd_label,
    normalize_profile,
    state_dir_name,
    systemd_unit,
    windows_task,
)

SELECTOR_KEYS = (
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_PROFILE",
    "OPENCLAW_GATEWAY_PORT",
    "OPENCLAW_LAUNCHD_LABEL",
    "OPENCLAW_SYSTEMD_UNIT",
    "OPENCLAW_WINDOWS_TASK_NAME",
)


@dataclass
class RootOptions:
    profile: str | None = None
    dev: bool = False
    no_color: bool = False
    log_level: str | None = None
    argv: list[str] = field(default_factory=list)

    @property
    def selected_profile(self) -> str | None:
        return DEV_PROFILE if self.dev else self.profile


def _take_value(args: Sequence[str], i: int, flag: str) -> tuple[str, int]:
    token = args[i]
    if token.startswith(flag + "="):
        return token[len(flag) + 1 :], i + 1
    if i + 1 < len(args):
        nxt = args[i + 1]
        if not nxt.startswith("-") or _is_negative_number(nxt):
            return nxt, i + 2
    raise UsageError(f"{flag} requires a value")


def _is_negative_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def scan_root_flags(argv: Sequence[str]) -> RootOptions:
    """Pull root flags out of argv wherever they stand before a bare `--`."""
    opts = RootOptions()
    rest: list[str] = []
    i = 0
    profile_seen = False
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        if token == "--dev":
            if profile_seen and opts.profile and opts.profile.lower() != DEV_PROFILE:
                raise UsageError("Cannot combine --dev with --profile")
            opts.dev = True
            i += 1
        elif token == "--profile" or token.startswith("--profile="):
            value, i = _take_value(argv, i, "--profile")
            if opts.dev:
                raise UsageError("Cannot combine --dev with --profile")
            if not value.strip():
                raise UsageError("--profile requires a value")
            opts.profile = value.strip()
            profile_seen = True
        elif token == "--no-color":
            opts.no_color = True
            i += 1
        elif token == "--log-level" or token.startswith("--log-level="):
            opts.log_level, i = _take_value(argv, i, "--log-level")
        else:
            rest.append(token)
            i += 1
    if opts.profile is not None:
        normalized = normalize_profile(opts.profile)
        opts.profile = normalized if normalized is not None else "default"
    if opts.dev and opts.profile and opts.profile.lower() == DEV_PROFILE:
        opts.profile = None
    opts.argv = rest
    return opts


def resolve_home(env: Mapping[str, str]) -> Path:
    """`OPENCLAW_HOME` (tilde-expanded) > `HOME` > `USERPROFILE` > the account home."""
    for key in ("OPENCLAW_HOME", "HOME", "USERPROFILE"):
        value = (env.get(key) or "").strip()
        if value:
            if value.startswith("~"):
                base = env.get("HOME") or os.path.expanduser("~")
                value = base + value[1:]
            return Path(value)
    return Path(os.path.expanduser("~"))


def expand_user(value: str, env: Mapping[str, str]) -> Path:
    """Expand a leading `~` against the effective home, not the OS account."""
    if value == "~" or value.startswith("~/"):
        return resolve_home(env) / value[2:] if value != "~" else resolve_home(env)
    return Path(value)


def profile_state_dir(profile: str | None, env: Mapping[str, str]) -> Path:
    return resolve_home(env) / state_dir_name(profile)


def _same_path(a: str, b: Path, env: MutableMapping[str, str]) -> bool:
    return os.path.abspath(expand_user(a, env)) == os.path.abspath(b)


def _is_gateway_service_env(env: MutableMapping[str, str]) -> bool:
    kind = (env.get("OPENCLAW_SERVICE_KIND") or "").strip()
    return env.get("OPENCLAW_SERVICE_MARKER") == "openclaw" and kind in ("", "gateway")


def apply_profile_env(profile: str, env: MutableMapping[str, str]) -> None:
    """Project `profile` into the environment with upstream's rules.

    A named profile replaces state/config paths inherited from another
    profile (including a running gateway service's environment) but keeps
    paths the user customized explicitly.
    """
    inherited = (env.get("OPENCLAW_PROFILE") or "").strip() or "default"
    existing_state = (env.get("OPENCLAW_STATE_DIR") or "").strip()
    existing_config = (env.get("OPENCLAW_CONFIG_PATH") or "").strip()
    inh_dir = profile_state_dir(inherited, env)
    sel_dir = profile_state_dir(profile, env)
    switches = os.path.abspath(inh_dir) != os.path.abspath(sel_dir)
    switches_state = bool(existing_state) and switches and _same_path(existing_state, inh_dir, env)
    replaces_config = (
        switches
        and (not existing_state or switches_state)
        and bool(existing_config)
        and _same_path(existing_config, inh_dir / "openclaw.json", env)
    )
    from_service = switches and _is_gateway_service_env(env) and switches_state and replaces_config
    if from_service:
        for key in SELECTOR_KEYS:
            env.pop(key, None)
    env["OPENCLAW_PROFILE"] = profile
    retained = None if from_service else (existing_state or None)
    state_dir = Path(retained) if (retained and not switches_state) else sel_dir
    if not retained or switches_state:
        env["OPENCLAW_STATE_DIR"] = str(state_dir)
    if not from_service and (not existing_config or replaces_config):
        env["OPENCLAW_CONFIG_PATH"] = str(expand_user(str(state_dir), env) / "openclaw.json")
    if switches and not from_service:
        _drop_inherited_service_names(inherited, env)


def _drop_inherited_service_names(inherited: str, env: MutableMapping[str, str]) -> None:
    unit = systemd_unit(inherited)
    checks = {
        "OPENCLAW_LAUNCHD_LABEL": {launchd_label(inherited)},
        "OPENCLAW_SYSTEMD_UNIT": {unit, unit.removesuffix(".service")},
        "OPENCLAW_WINDOWS_TASK_NAME": {windows_task(inherited)},
    }
    for key, names in checks.items():
        if env.get(key) in names:
            env.pop(key, None)


def apply_root_options(opts: RootOptions, env: MutableMapping[str, str]) -> None:
    """Project the selected profile (flag, else a valid `OPENCLAW_PROFILE`)."""
    profile = opts.selected_profile
    if profile is None:
        from_env = (env.get("OPENCLAW_PROFILE") or "").strip()
        if from_env:
            profile = normalize_profile(from_env) or "default"
    if profile is not None:
        apply_profile_env(profile, env)
    if opts.no_color:
        env["NO_COLOR"] = "1"
    if opts.log_level:
        env["OPENCLAW_LOG_LEVEL"] = opts.log_level
