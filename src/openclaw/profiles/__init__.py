"""Profiles: which instance a command talks about, and where that instance lives."""

from openclaw.profiles.names import display_name, profile_cli_prefix, profile_default_port
from openclaw.profiles.paths import InstancePaths, resolve_paths, runtime_dir

__all__ = [
    "InstancePaths",
    "display_name",
    "profile_cli_prefix",
    "profile_default_port",
    "resolve_paths",
    "runtime_dir",
]
