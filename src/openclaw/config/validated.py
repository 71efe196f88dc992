"""The key of the last resolved config that passed schema validation, so that a gateway starting
again with the same config skips importing pydantic and building the schema: on a small machine
that costs about as much as importing aiohttp, half the time to healthy.

The key covers the resolved config (after `${VAR}` substitution) and the code that judges it (this
package's version, the schema modules' and pydantic's files, by size and modification time), so a
change to either validates again. Only a config found valid is recorded; an unreadable or foreign
record just means validating.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from openclaw import __version__
from openclaw.fsutil import atomic_write, ensure_private_dir

RECORD = "last-validated"  # in the instance's config history dir
JUDGES = ("schema.py", "validate.py", "keys.py", "upstream_keys.json")


def _judges() -> list[Path]:
    here = Path(__file__).parent
    files = [here / name for name in JUDGES]
    spec = importlib.util.find_spec("pydantic")  # finds, does not import
    if spec is not None and spec.origin:
        files.append(Path(spec.origin).with_name("version.py"))
    return files


def validation_key(resolved: dict[str, Any]) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in _judges():
        try:
            st = path.stat()
            digest.update(f"\n{path}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"\n{path}:-".encode())
    body = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    digest.update(b"\n" + body.encode())
    return digest.hexdigest()


def known_valid(record: Path, key: str) -> bool:
    try:
        return record.read_text(encoding="utf-8").strip() == key
    except (OSError, ValueError):
        return False


def remember_valid(record: Path, key: str) -> None:
    """Best effort: a record that cannot be written costs the next start a validation, nothing more."""
    try:
        ensure_private_dir(record.parent)
        atomic_write(record, key + "\n")
    except OSError:
        pass
