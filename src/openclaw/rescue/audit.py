"""Every operator command, allowed or not, appended to `<state>/logs/rescue-audit.log` (JSON lines)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from openclaw.fsutil import ensure_private_dir
from openclaw.timestamps import utc_iso


def audit(logs_dir: Path, **fields: Any) -> None:
    ensure_private_dir(logs_dir)
    record = {"time": utc_iso(timespec="milliseconds"), **fields}
    fd = os.open(logs_dir / "rescue-audit.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
