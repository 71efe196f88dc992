"""Browser control errors: an HTTP status, a stable code and one clear message."""

from __future__ import annotations

from typing import Any


class BrowserError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code}


def bad_request(message: str, code: str = "BAD_REQUEST") -> BrowserError:
    return BrowserError(400, code, message)


def not_running(profile: str) -> BrowserError:
    return BrowserError(409, "BROWSER_NOT_RUNNING",
                        f'browser not running for profile "{profile}"; start it with POST /start')
