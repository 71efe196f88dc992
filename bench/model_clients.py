#!/usr/bin/env python3
"""What a model client costs a gateway before its first turn: import time and memory of the
official SDKs next to this project's own clients (aiohttp, already loaded by the gateway).

Each variant runs in a fresh interpreter, after importing aiohttp (which every gateway has),
and reports the extra wall time and RSS of creating a client. The SDKs are not dependencies:
to compare, point --python at an interpreter that has them (`pip install openai anthropic aiohttp`).

    python bench/model_clients.py
    python bench/model_clients.py --python /tmp/sdk/bin/python --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PROBE_HEAD

SRC = str(Path(__file__).resolve().parent.parent / "src")

PROBE = PROBE_HEAD + """import aiohttp, asyncio, ssl  # what every gateway already holds
before, started = rss(), time.perf_counter()
{code}
print(json.dumps({{"ms": (time.perf_counter() - started) * 1000, "mb": rss() - before}}))
"""

VARIANTS = {
    "this project: models.openai + models.anthropic + models.client":
        "from openclaw.models import anthropic, client, openai\nclient.ModelClient({})",
    "openai SDK (AsyncOpenAI)": "import openai\nopenai.AsyncOpenAI(api_key='x')",
    "anthropic SDK (AsyncAnthropic)": "import anthropic\nanthropic.AsyncAnthropic(api_key='x')",
}


def measure(python: str, code: str, runs: int) -> dict[str, float] | None:
    results = []
    for _ in range(runs):
        proc = subprocess.run([python, "-c", PROBE.format(src=SRC, code=code)], capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {"ms": statistics.median(r["ms"] for r in results), "mb": statistics.median(r["mb"] for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure with")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| Client | Import + create (median) | RSS added |")
    print("|---|---|---|")
    for name, code in VARIANTS.items():
        figures = measure(args.python, code, args.runs)
        if figures is None:
            print(f"| {name} | not installed for {args.python} | - |")
        else:
            print(f"| {name} | {figures['ms']:.0f} ms | {figures['mb']:.1f} MB |")


if __name__ == "__main__":
    main()
