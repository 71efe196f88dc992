"""Profile names and the names derived from them (state dirs, services, ports)."""

from __future__ import annotations

import re

from openclaw.errors import UsageError

PROFILE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)
DEFAULT_PROFILE = "default"
DEV_PROFILE = "dev"
DEFAULT_PORT = 18789
DEV_PORT = 19001


def is_default(profile: str | None) -> bool:
    """`None`, empty and `default` (any case) all mean the unsuffixed default instance."""
    return not profile or profile.lower() == DEFAULT_PROFILE


def normalize_profile(profile: str | None) -> str | None:
    """Validate a profile name; returns None for the default profile."""
    if profile is None:
        return None
    name = profile.strip()
    if not PROFILE_RE.match(name):
        raise UsageError('Invalid --profile (use letters, numbers, "_", "-" only)')
    return None if is_default(name) else name


def state_dir_name(profile: str | None) -> str:
    return ".openclaw" if is_default(profile) else f".openclaw-{profile}"


def display_name(profile: str | None) -> str:
    return DEFAULT_PROFILE if is_default(profile) else str(profile)


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def profile_default_port(profile: str | None) -> int:
    """Base port when neither flag, env nor config names one.

    Named profiles get upstream's hash port so both CLIs agree on where an
    unconfigured profile lives; setup always writes an explicit port anyway.
    """
    if is_default(profile):
        return DEFAULT_PORT
    if profile == DEV_PROFILE:
        return DEV_PORT
    return 20000 + fnv1a32(str(profile).encode()) % 40000


def systemd_unit(profile: str | None) -> str:
    return "openclaw-gateway.service" if is_default(profile) else f"openclaw-gateway-{profile}.service"


def launchd_label(profile: str | None) -> str:
    return "ai.openclaw.gateway" if is_default(profile) else f"ai.openclaw.{profile}"


def windows_task(profile: str | None) -> str:
    return "OpenClaw Gateway" if is_default(profile) else f"OpenClaw Gateway ({profile})"


def service_description(profile: str | None) -> str:
    return "OpenClaw Gateway" if is_default(profile) else f"OpenClaw Gateway (profile: {profile})"


def profile_cli_prefix(profile: str | None) -> str:
    """`openclaw` or `openclaw --profile X`, for hints that name a command."""
    if is_default(profile):
        return "openclaw"
    if profile == DEV_PROFILE:
        return "openclaw --dev"
    return f"openclaw --profile {profile}"
