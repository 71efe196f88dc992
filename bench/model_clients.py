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
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import import_cost

PRELOAD = "import aiohttp, asyncio, ssl  # what every gateway already holds"

VARIANTS = {
    "this project: models.openai + models.anthropic + models.client":
        "from openclaw.models import anthropic, client, openai\nclient.ModelClient({})",
    "openai SDK (AsyncOpenAI)": "import openai\nopenai.AsyncOpenAI(api_key='x')",
    "anthropic SDK (AsyncAnthropic)": "import anthropic\nanthropic.AsyncAnthropic(api_key='x')",
}


def print_table(variants: Mapping[str, str | None], python: str, runs: int, failed: str,
                skipped: str = "not measured") -> None:
    """One row a client: what importing and creating it adds to a process holding PRELOAD (a variant
    given as None is `skipped`; one whose code fails is `failed`)."""
    print("| Client | Import + create (median) | RSS added |")
    print("|---|---|---|")
    for name, code in variants.items():
        figures = import_cost(code, PRELOAD, runs, python) if code is not None else None
        if figures is None:
            print(f"| {name} | {failed if code is not None else skipped} | - |")
        else:
            print(f"| {name} | {figures['ms']:.0f} ms | {figures['mb']:.1f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure with")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print_table(VARIANTS, args.python, args.runs, f"not installed for {args.python}")


if __name__ == "__main__":
    main()
