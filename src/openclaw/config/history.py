"""Last-known-good config: recorded on every good gateway start, restored by rollback."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from openclaw.config.store import config_hash, restore_file
from openclaw.fsutil import atomic_write, ensure_private_dir

LAST_GOOD = "last-good.json"
META = "last-good.meta.json"
KEEP = 10


@dataclass(frozen=True)
class GoodConfig:
    raw_text: str
    hash: str
    recorded_at: float
    source: Path


def record_last_good(history_dir: Path, config_path: Path, raw_text: str) -> None:
    """Keep this text as the last-known-good config, plus a short dated trail."""
    ensure_private_dir(history_dir)
    digest = config_hash(raw_text)
    current = load_last_good(history_dir)
    meta = {"hash": digest, "recordedAt": time.time(), "source": str(config_path)}
    if current is None or current.hash != digest:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        atomic_write(history_dir / f"{stamp}-{digest[:8]}.json", raw_text)
        _prune(history_dir)
    atomic_write(history_dir / LAST_GOOD, raw_text)
    atomic_write(history_dir / META, json.dumps(meta) + "\n")


def _prune(history_dir: Path) -> None:
    trail = sorted(p for p in history_dir.glob("*-*.json") if p.name not in (LAST_GOOD, META))
    for old in trail[:-KEEP]:
        old.unlink(missing_ok=True)


def load_last_good(history_dir: Path) -> GoodConfig | None:
    text_path = history_dir / LAST_GOOD
    if not text_path.exists():
        return None
    raw = text_path.read_text(encoding="utf-8")
    recorded, source = text_path.stat().st_mtime, text_path
    meta_path = history_dir / META
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            recorded = float(meta.get("recordedAt", recorded))
            source = Path(meta.get("source") or source)
        except (ValueError, OSError):
            pass
    return GoodConfig(raw, config_hash(raw), recorded, source)


def rollback(history_dir: Path, config_path: Path) -> GoodConfig | None:
    """Restore the last-known-good text; returns None when nothing was ever recorded."""
    good = load_last_good(history_dir)
    if good is None:
        return None
    restore_file(config_path, good.raw_text)
    return good
