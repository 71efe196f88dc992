#!/usr/bin/env python3
"""Where a gateway's start time goes, and start measured against a bare `import aiohttp`.

Starts real gateways in a throwaway HOME (nothing touches ~/.openclaw) and prints:

- paired runs, in turn: spawn of `python -m openclaw --profile start gateway` to the first
  `GET /healthz` 200 (polled every 2 ms), then a bare `python -c "import aiohttp"` to its exit;
  the ratio is taken pair by pair, so a machine that speeds up or slows down between runs (a
  shared one) moves both sides alike;
- `openclaw health` wall time against a running gateway (the whole process);
- idle RSS/PSS after the gateway has been idle a few seconds;
- with --importtime, the modules that cost most between spawn and healthy (`python -X
  importtime`, medians over the runs), self and cumulative.

    python bench/start.py                    # 10 pairs, 10 health calls
    python bench/start.py --runs 20 --importtime 5
    python bench/start.py --baseline /path/to/old/src     # the old code's start in each round too
"""

from __future__ import annotations

import argparse
import compileall
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import PY, Bench, machine, memory, wait_healthy

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _gateway(b: Bench, profile: str, *flags: str, stderr: Any = subprocess.DEVNULL,
             src: str | None = None) -> subprocess.Popen[bytes]:
    env = b.env if src is None else {**b.env, "PYTHONPATH": src}
    proc = subprocess.Popen([PY, *flags, "-m", "openclaw", "--profile", profile, "gateway"], env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr)
    b.procs.append(proc)
    return proc


def _start(b: Bench, port: int, src: str | None = None, profile: str = "start") -> float:
    t0 = time.perf_counter()
    proc = _gateway(b, profile, src=src)
    wait_healthy(port, proc)
    took = time.perf_counter() - t0
    b.stop_all()
    return took


def paired(b: Bench, port: int, runs: int, baseline: str | None = None, base_port: int = 0) -> dict[str, Any]:
    """Start-to-healthy and a bare aiohttp import, in turn; medians and the median pair ratio. One
    start first, not counted: it compiles nothing (see main) but validates the new config once.
    With `baseline` (another checkout's src/), its start runs in each round too, so the two codes
    meet the same machine; in a profile of its own, since the record of a validated config names
    the code that judged it (each code would validate again after the other)."""
    wait_healthy(port, _gateway(b, "start"))
    b.stop_all()
    if baseline:
        _start(b, base_port, baseline, "base")
    starts, bare, ratios, base, base_ratios = [], [], [], [], []
    for _ in range(runs):
        start = _start(b, port)
        t0 = time.perf_counter()
        subprocess.run([PY, "-c", "import aiohttp"], env=b.env, check=True)
        imp = time.perf_counter() - t0
        starts.append(start)
        bare.append(imp)
        ratios.append(start / imp)
        if baseline:
            base.append(_start(b, base_port, baseline, "base"))
            base_ratios.append(base[-1] / imp)
    out = {"runs": runs, "start_median_s": statistics.median(starts), "start_min_s": min(starts),
           "start_max_s": max(starts), "import_aiohttp_median_s": statistics.median(bare),
           "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}
    if baseline:
        out.update(baseline_start_median_s=statistics.median(base),
                   baseline_ratio_median=statistics.median(base_ratios),
                   vs_baseline_median=statistics.median(s / o for s, o in zip(starts, base, strict=True)))
    return out


def idle_memory(b: Bench, port: int, settle: float, src: str, profile: str) -> dict[str, float]:
    """Idle memory of a gateway of another checkout (the baseline), measured as for this code."""
    proc = _gateway(b, profile, src=src)
    wait_healthy(port, proc)
    time.sleep(settle)
    mem = memory(proc.pid)
    b.stop_all()
    return mem


def health_and_idle(b: Bench, port: int, runs: int, settle: float) -> dict[str, Any]:
    proc = _gateway(b, "start")
    wait_healthy(port, proc)
    time.sleep(settle)  # idle memory needs the process idle for a while
    mem = memory(proc.pid)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        b.cli("--profile", "start", "health")
        times.append(time.perf_counter() - t0)
    b.stop_all()
    return {"health_median_s": statistics.median(times), "health_min_s": min(times),
            "health_max_s": max(times), "runs": runs, **{f"idle_{k}_mb": v for k, v in mem.items()}}


def importtime(b: Bench, port: int, runs: int, top: int) -> dict[str, Any]:
    """Median self and cumulative microseconds per module over `runs` starts, the top `top` of each."""
    selfs: dict[str, list[int]] = defaultdict(list)
    cums: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        with tempfile.TemporaryFile() as err:
            proc = _gateway(b, "start", "-X", "importtime", stderr=err)
            wait_healthy(port, proc)
            b.stop_all()
            err.seek(0)
            for line in err.read().decode(errors="replace").splitlines():
                m = IMPORT_LINE.match(line)
                if m:
                    selfs[m[4]].append(int(m[1]))
                    cums[m[4]].append(int(m[2]))

    def ranked(table: dict[str, list[int]]) -> list[tuple[str, float]]:
        rows = [(name, statistics.median(v) / 1000) for name, v in table.items()]
        return sorted(rows, key=lambda r: -r[1])[:top]

    return {"runs": runs, "modules": len(selfs), "self_ms": ranked(selfs), "cumulative_ms": ranked(cums)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="pairs of (gateway start, bare import)")
    parser.add_argument("--health-runs", type=int, default=10, help="`openclaw health` calls")
    parser.add_argument("--idle-settle", type=float, default=3.0, help="seconds idle before measuring memory")
    parser.add_argument("--importtime", type=int, default=0, metavar="N", help="also N starts under -X importtime")
    parser.add_argument("--top", type=int, default=25, help="modules listed per -X importtime table")
    parser.add_argument("--baseline", metavar="SRC", help="another checkout's src/ to start in each round too")
    parser.add_argument("--json", action="store_true", help="print raw JSON results")
    args = parser.parse_args()

    # An installed package carries its bytecode; a checkout run with PYTHONDONTWRITEBYTECODE=1
    # would compile every module of the package at every start (here +0.3 s), which is not start time.
    import openclaw

    compileall.compile_dir(str(Path(openclaw.__file__).parent), quiet=1)
    if args.baseline:
        compileall.compile_dir(str(Path(args.baseline) / "openclaw"), quiet=1)
    root = Path(tempfile.mkdtemp(prefix="openclaw-bench-start-"))
    bench = Bench(root)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
    try:
        port = bench.setup("start")
        base_port = bench.setup("base") if args.baseline else 0
        results["paired"] = paired(bench, port, args.runs, args.baseline, base_port)
        results["cli"] = health_and_idle(bench, port, args.health_runs, args.idle_settle)
        if args.baseline:
            results["baseline_idle_mb"] = idle_memory(bench, base_port, args.idle_settle, args.baseline, "base")
        if args.importtime:
            results["importtime"] = importtime(bench, port, args.importtime, args.top)
    finally:
        bench.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    p, c = results["paired"], results["cli"]
    print(f"{results['date']}, {results['machine']}")
    print(f"start to healthy: median {p['start_median_s'] * 1000:.0f} ms (min {p['start_min_s'] * 1000:.0f}, "
          f"max {p['start_max_s'] * 1000:.0f}); bare `import aiohttp` {p['import_aiohttp_median_s'] * 1000:.0f} ms; "
          f"ratio per pair median {p['ratio_median']:.2f} (min {p['ratio_min']:.2f}, max {p['ratio_max']:.2f}), "
          f"{p['runs']} pairs")
    if "baseline_start_median_s" in p:
        print(f"baseline {args.baseline}: start median {p['baseline_start_median_s'] * 1000:.0f} ms, ratio to the "
              f"bare import {p['baseline_ratio_median']:.2f}; "
              f"this code / baseline per round {p['vs_baseline_median']:.2f}")
    print(f"`openclaw health`: median {c['health_median_s'] * 1000:.0f} ms (min {c['health_min_s'] * 1000:.0f}, "
          f"max {c['health_max_s'] * 1000:.0f}), {c['runs']} runs")
    print(f"idle: RSS {c['idle_rss_mb']:.1f} MB, PSS {c['idle_pss_mb']:.1f} MB, private {c['idle_private_mb']:.1f} MB")
    if "baseline_idle_mb" in results:
        m = results["baseline_idle_mb"]
        print(f"baseline idle: RSS {m['rss']:.1f} MB, PSS {m['pss']:.1f} MB, private {m['private']:.1f} MB")
    if "importtime" in results:
        t = results["importtime"]
        print(f"\n-X importtime, median of {t['runs']} starts, {t['modules']} modules")
        for title in ("cumulative_ms", "self_ms"):
            print(f"\n  {title.replace('_ms', '')} (ms)")
            for name, ms in t[title]:
                print(f"  {ms:8.1f}  {name}")


if __name__ == "__main__":
    main()
