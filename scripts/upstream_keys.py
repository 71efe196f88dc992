#!/usr/bin/env python3
"""Regenerate src/openclaw/config/upstream_keys.json: the key tree of upstream OpenClaw's config
schema (names only: which keys exist where, which objects take any key), so our validator accepts
every key upstream knows and still catches typos.

    openclaw-upstream config schema > /tmp/schema.json
    python scripts/upstream_keys.py /tmp/schema.json [VERSION]

Tree nodes: 0 = no key constraints (a value, or an object that takes any key); otherwise an
object mapping each key to its node, "*" for keys matched by a pattern or additionalProperties,
and "[]" for the items of a list.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "src/openclaw/config/upstream_keys.json"


def reduce(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return 0
    branches = [schema] + [b for k in ("anyOf", "oneOf", "allOf") for b in schema.get(k) or []]
    node: dict[str, Any] = {}
    is_object = False
    for branch in branches:
        if not isinstance(branch, dict):
            continue
        if branch is not schema and any(k in branch for k in ("anyOf", "oneOf", "allOf")):
            sub = reduce(branch)
            if sub == 0 and _objectish(branch):
                return 0
            if isinstance(sub, dict):
                is_object = True
                _merge(node, sub)
            continue
        if "items" in branch and isinstance(branch["items"], dict):
            _merge(node, {"[]": reduce(branch["items"])})
        if not _objectish(branch):
            continue
        is_object = True
        for key, sub in (branch.get("properties") or {}).items():
            _merge(node, {key: reduce(sub)})
        extra = branch.get("additionalProperties", True if not branch.get("properties") else None)
        patterns = list((branch.get("patternProperties") or {}).values())
        if extra is True or (extra is None and not patterns and "propertyNames" not in branch):
            if not branch.get("properties") and not patterns:
                return 0  # an object that takes any key
            if extra is True:
                _merge(node, {"*": 0})
        elif isinstance(extra, dict):
            _merge(node, {"*": reduce(extra)})
        for sub in patterns:
            _merge(node, {"*": reduce(sub)})
    return node if (is_object or node) else 0


def _objectish(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, sub in other.items():
        if key not in into:
            into[key] = sub
        elif into[key] == 0 or sub == 0:
            into[key] = 0
        else:
            _merge(into[key], sub)


def main() -> None:
    schema = json.loads(Path(sys.argv[1]).read_text())
    tree = reduce(schema)
    version = sys.argv[2] if len(sys.argv) > 2 else "2026.9.6"
    OUT.write_text(json.dumps({"version": version, "tree": tree}, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
