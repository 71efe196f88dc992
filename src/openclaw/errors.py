"""Errors that carry their own exit code, so every layer can fail with one clear line."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # EX_CONFIG: systemd's RestartPreventExitStatus=78 stops restart loops on it


class OpenClawError(Exception):
    """A failure the user can act on; `str(err)` is the one line we print."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class GatewayLockError(OpenClawError):
    """Another process owns this state dir, config or port (exit 1)."""


class UsageError(OpenClawError):
    """Bad flags or arguments (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(OpenClawError):
    """The configuration is invalid or blocks the operation (exit 78)."""

    exit_code = EXIT_CONFIG
