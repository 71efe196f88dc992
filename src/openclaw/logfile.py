"""Structured logs: JSON lines under `<state>/logs/gateway.log`, rotated by size.

Each line carries `time`, `level`, `subsystem` and `message` (the keys
upstream's `openclaw logs` reads), plus any structured fields.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import Any

from openclaw.fsutil import ensure_private_dir

LOG_NAME = "gateway.log"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
TRACE = 5
LEVELS = {
    "trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
    "error": logging.ERROR, "fatal": logging.CRITICAL, "silent": logging.CRITICAL + 10,
}
_NAMES = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
          logging.ERROR: "error", logging.CRITICAL: "fatal"}

logging.addLevelName(TRACE, "TRACE")
log = logging.getLogger("openclaw")


def level_value(name: str | None, default: int = logging.INFO) -> int:
    return LEVELS.get((name or "").lower(), default)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _subsystem(logger_name: str) -> str:
    if logger_name.startswith("aiohttp"):
        return "http"
    return logger_name.removeprefix("openclaw.").removeprefix("openclaw") or "gateway"


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso(record.created),
            "level": _NAMES.get(record.levelno, record.levelname.lower()),
            "subsystem": _subsystem(record.name),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = _NAMES.get(record.levelno, record.levelname.lower())
        sub = _subsystem(record.name)
        text = f"{stamp} {level:<5} [{sub}] {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """Rotating file handler whose files are created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode.replace("w", "a"), encoding=self.encoding)


def log_path(logs_dir: Path) -> Path:
    return logs_dir / LOG_NAME


def configure(logs_dir: Path, file_level: int, console_level: int, max_bytes: int | None) -> Path:
    """(Re)configure the `openclaw` logger; safe to call again on in-process restart."""
    ensure_private_dir(logs_dir)
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    path = log_path(logs_dir)
    file_handler = PrivateRotatingHandler(path, maxBytes=max_bytes or DEFAULT_MAX_BYTES, backupCount=BACKUPS,
                                          encoding="utf-8")
    file_handler.setFormatter(JsonLineFormatter())
    file_handler.setLevel(file_level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(ConsoleFormatter())
    console.setLevel(console_level)
    log.addHandler(file_handler)
    log.addHandler(console)
    log.setLevel(min(file_level, console_level))
    log.propagate = False
    # aiohttp reports handler errors on its own loggers; keep them in the same file
    web_log = logging.getLogger("aiohttp")
    web_log.handlers = [file_handler, console]
    web_log.setLevel(logging.WARNING)
    web_log.propagate = False
    return path


def set_levels(file_level: int, console_level: int) -> None:
    for handler in log.handlers:
        is_file = isinstance(handler, logging.FileHandler)
        handler.setLevel(file_level if is_file else console_level)
    log.setLevel(min(file_level, console_level))


def shutdown() -> None:
    logging.getLogger("aiohttp").handlers = []
    for handler in list(log.handlers):
        handler.flush()
        handler.close()
        log.removeHandler(handler)


def info(message: str, subsystem: str = "gateway", **fields: Any) -> None:
    logging.getLogger(f"openclaw.{subsystem}").info(message, extra={"fields": fields})


def warn(message: str, subsystem: str = "gateway", **fields: Any) -> None:
    logging.getLogger(f"openclaw.{subsystem}").warning(message, extra={"fields": fields})


def error(message: str, subsystem: str = "gateway", **fields: Any) -> None:
    logging.getLogger(f"openclaw.{subsystem}").error(message, extra={"fields": fields})


def debug(message: str, subsystem: str = "gateway", **fields: Any) -> None:
    logging.getLogger(f"openclaw.{subsystem}").debug(message, extra={"fields": fields})
