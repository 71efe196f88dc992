#!/usr/bin/env python3
"""What memory costs: the prompt's memory part with 1,000 notes, `memory_search` over 10,000 notes
(5 MB) by keyword and hybrid, the index build, the vector math (pure Python against numpy), and a
gateway's idle memory before and after memory is used.

Everything runs in-process on generated notes in a throwaway dir; the hybrid figures use the model
stand-in's deterministic embeddings on loopback (64 dimensions), the vector-math figures random
1,536-dimension vectors (OpenAI's text-embedding-3-small size).

    python bench/memory.py                 # prints a table
    python bench/memory.py --notes 2000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))

from run import Bench, machine, memory, wait_healthy  # noqa: E402

WORDS = [f"w{i}" for i in range(20_000)] + ["tea", "boat", "dentist", "zebra", "project", "friday", "marigold"]


def note(rng: random.Random, size: int) -> str:
    lines, total = ["# Note", ""], 8
    while total < size:
        line = "- " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def make_notes(folder: Path, count: int, size: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    notes = folder / "memory"
    notes.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    for i in range(count):
        day = today - dt.timedelta(days=i // 3)
        (notes / f"{day.isoformat()}-{i:05d}.md").write_text(note(rng, size))
    (folder / "MEMORY.md").write_text("# Memory\n\n- Prefers oolong tea.\n")


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


async def timed(work: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        await work()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def bench_prompt(root: Path, notes: int, runs: int) -> dict[str, Any]:
    from openclaw.agents import prompt
    from openclaw.config.view import Config
    from openclaw.memory.recall import sections
    from openclaw.memory.registry import close_all, index_for

    ws = root / "prompt-ws"
    make_notes(ws, notes, 500)
    config = Config({})
    tools = {"read", "memory_search", "memory_get"}

    async def turn(fresh: bool) -> None:
        index_for(root / "state", "main", ws, config, {}).schedule(3600)  # what `_plan` does
        await sections(ws, tools, "bench-session", fresh)
        await prompt.workspace_files(ws)

    fresh = await timed(lambda: turn(True), runs)
    later = await timed(lambda: turn(False), runs)
    await close_all()
    return {"notes": notes, "fresh_session_p50_ms": p50(fresh), "fresh_session_p95_ms": p95(fresh),
            "later_turn_p50_ms": p50(later), "later_turn_p95_ms": p95(later)}


QUERIES = ["oolong tea", "boat marigold", "dentist friday", "zebra project", "w17 w1203 w9999", "w42",
           "what did we decide about the zebra project", "w123 w456"]


async def bench_search(root: Path, notes: int, runs: int, embed_url: str | None) -> dict[str, Any]:
    from openclaw.config.view import Config
    from openclaw.memory.registry import close_all, index_for

    ws = root / ("hybrid-ws" if embed_url else "fts-ws")
    make_notes(ws, notes, 500)
    size = sum(p.stat().st_size for p in (ws / "memory").iterdir())
    raw: dict[str, Any] = {}
    if embed_url:
        raw = {"memory": {"search": {"provider": "openai-compatible", "model": "hash-embed",
                                     "remote": {"baseUrl": embed_url, "apiKey": "k"}}}}
    index = index_for(root / ("state-h" if embed_url else "state-f"), "main", ws, Config(raw), {})
    t = time.perf_counter()
    report = await index.sync()
    build = time.perf_counter() - t
    await index.search("warm up")
    i = 0

    async def one() -> None:
        nonlocal i
        i += 1
        await index.search(QUERIES[i % len(QUERIES)])

    samples = await timed(one, runs)
    hits = len(await index.search("oolong tea"))
    await close_all()
    return {"notes": notes, "bytes": size, "chunks": report.chunks, "index_build_s": build,
            "search_p50_ms": p50(samples), "search_p95_ms": p95(samples), "hits_for_oolong_tea": hits}


def bench_vectors(count: int, dims: int, runs: int) -> dict[str, Any]:
    from openclaw.memory.vectors import Matrix

    rng = random.Random(3)
    vectors = [tuple(rng.gauss(0, 1) for _ in range(dims)) for _ in range(count)]
    query = vectors[5]
    out: dict[str, Any] = {"vectors": count, "dims": dims}
    for name, flag in (("numpy", True), ("pure_python", False)):
        t = time.perf_counter()
        matrix = Matrix(list(range(count)), vectors, use_numpy=flag)
        load = time.perf_counter() - t
        if flag and not matrix.numpy:
            out[name] = "not installed"
            continue
        samples = []
        for _ in range(runs if flag else max(3, runs // 20)):
            t = time.perf_counter()
            top = matrix.top(query, 24)
            samples.append((time.perf_counter() - t) * 1000)
        assert top[0][0] == 5
        out[name] = {"load_s": load, "top24_p50_ms": p50(samples)}
    return out


IDLE = r"""
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
import openclaw.gateway.process.services, openclaw.agents.runtime, openclaw.tools, openclaw.chat.builtin  # noqa
import openclaw.tools.memory  # noqa: the tool specs, loaded with the toolset
before = rss()
loaded = sorted(m for m in sys.modules if m.startswith("openclaw.memory."))
import openclaw.memory.registry, openclaw.memory.recall, openclaw.memory.excerpt  # noqa: first use
print(before, rss(), ",".join(loaded))
"""


def bench_idle() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", IDLE], capture_output=True, text=True, check=True).stdout.split()
    loaded = out[2] if len(out) > 2 else ""
    return {"gateway_stack_rss_mb": float(out[0]), "after_memory_used_rss_mb": float(out[1]),
            "memory_modules_before_use": loaded or "none"}


def bench_gateway_idle(settle: float) -> dict[str, Any]:
    """Idle gateways' memory: one without memory settings, one with memory search and the
    session-memory hook configured (neither has run a turn)."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(Path(tmp))
        try:
            for name, extra in (("plain", []), ("memory-configured", [
                    ("memory.search.provider", "openai-compatible"),
                    ("memory.search.remote.baseUrl", "http://127.0.0.1:9/v1"),
                    ("hooks.internal.entries.session-memory.enabled", "true")])):
                port = b.setup(name)
                for key, value in extra:
                    b.cli("--profile", name, "config", "set", key, value)
                proc = b.start(name)
                wait_healthy(port, proc)
                time.sleep(settle)  # idle memory needs the process idle for a while
                out[name] = memory(proc.pid)
                b.stop_all()
        finally:
            b.stop_all()
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from model_standin import ModelStandin

    results: dict[str, Any] = {"machine": machine(), "date": dt.date.today().isoformat()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["HOME"] = str(root / "home")
        results["prompt"] = await bench_prompt(root, args.prompt_notes, args.runs)
        results["fts"] = await bench_search(root, args.notes, args.runs, None)
        standin = ModelStandin(record=False).start()
        try:
            results["hybrid"] = await bench_search(root, args.notes, args.runs, standin.openai_url)
        finally:
            standin.stop()
    results["vectors"] = bench_vectors(args.notes, 1536, args.runs)
    results["idle"] = bench_idle()
    results["gateway_idle"] = bench_gateway_idle(args.settle)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000, help="notes for the search figures")
    parser.add_argument("--prompt-notes", type=int, default=1_000, help="notes for the prompt figures")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before a gateway's memory is read")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['date']} on {results['machine']}")
    for part in ("prompt", "fts", "hybrid", "vectors", "idle", "gateway_idle"):
        print(f"{part}: " + json.dumps(results[part], default=lambda v: round(v, 3)))


if __name__ == "__main__":
    main()
