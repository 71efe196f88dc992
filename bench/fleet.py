#!/usr/bin/env python3
"""A fleet of N gateways from one warm supervisor, next to N plain `openclaw gateway` spawns.

In a throwaway HOME, with a model stand-in on loopback, prints:

- `openclaw fleet up N`: seconds from the command's start until it returned (every member
  serving) and until a sweep of `GET /healthz` over all members answered 200;
- memory after a settle: total PSS of members + supervisor, mean private MB per member, and the
  supervisor's own RSS / PSS / private;
- one member's agent turn (OpenAI-compatible HTTP through the stand-in): median wall ms and
  the member's CPU ms per turn;
- `openclaw fleet down`: seconds until it returned (every member and the supervisor gone);
- then the same N profiles started as N plain processes at once: all healthy, PSS, private, the
  same agent turn.

    python bench/fleet.py                 # 100 members
    python bench/fleet.py --count 20 --turns 20 --json
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from model_standin import ModelStandin
from run import PY, Bench, healthz, memory, publish, wait_healthy

BASE_PORT = 20000  # 100 footprints end at 31100, below the kernel's ephemeral ports (32768 up)


def _base_config(root: Path, model: ModelStandin) -> Path:
    path = root / "base.json"
    path.write_text(json.dumps({
        "models": {"providers": {"stand": {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 10}}},
        "agents": {"defaults": {"model": "stand/m1"}},
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": True}}}},
    }))
    return path


def _sweep(ports: list[int]) -> int:
    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(healthz, ports))


def _turn(port: int, token: str, text: str) -> float:
    body = json.dumps({"model": "openclaw", "user": "bench", "messages": [{"role": "user", "content": text}]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    try:
        conn.request("POST", "/v1/chat/completions", body,
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"turn on {port}: HTTP {resp.status}")
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def _turns(pid: int, port: int, token: str, count: int) -> dict[str, float]:
    import psutil

    proc = psutil.Process(pid)
    _turn(port, token, "warm up")  # the first turn loads the agent stack: not what a turn costs
    cpu0 = sum(proc.cpu_times()[:2])
    walls = [_turn(port, token, f"turn {i}") for i in range(count)]
    cpu = (sum(proc.cpu_times()[:2]) - cpu0) * 1000 / count
    return {"turn_median_ms": statistics.median(walls), "turn_cpu_ms": cpu}


def _memory(pids: list[int]) -> dict[str, float]:
    mems = [memory(pid) for pid in pids]
    return {"total_pss_mb": sum(m["pss"] for m in mems), "mean_private_mb": statistics.mean(m["private"] for m in mems)}


def bench_fleet(b: Bench, count: int, base: Path, turns: int, settle: float) -> dict[str, Any]:
    started = time.perf_counter()
    out = b.cli("fleet", "up", str(count), "--from-config", str(base), "--base-port", str(BASE_PORT), "--json")
    returned = time.perf_counter() - started
    report = json.loads(out.stdout)
    ports = [m["ports"]["base"] for m in report["members"]]
    healthy = _sweep(ports)
    all_healthy = time.perf_counter() - started
    time.sleep(settle)
    pids = [m["pid"] for m in report["members"]]
    sup = report["supervisor"]["pid"]
    result: dict[str, Any] = {"count": count, "up_returned_s": returned, "all_healthy_s": all_healthy,
                              "healthy": healthy, **_memory(pids)}
    result["total_pss_mb"] += memory(sup)["pss"]
    result["supervisor"] = memory(sup)
    first = report["members"][0]
    result.update(_turns(first["pid"], first["ports"]["base"], b.token(first["name"]), turns))
    started = time.perf_counter()
    b.cli("fleet", "down")
    result["down_s"] = time.perf_counter() - started
    result["profiles"] = [m["name"] for m in report["members"]]
    result["ports"] = ports
    return result


def bench_plain(b: Bench, profiles: list[str], ports: list[int], turns: int, settle: float) -> dict[str, Any]:
    started = time.perf_counter()
    procs = [subprocess.Popen([PY, "-m", "openclaw", "--profile", p, "gateway"], env=b.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in profiles]
    b.procs.extend(procs)
    for port, proc in zip(ports, procs, strict=True):
        wait_healthy(port, proc, timeout=300)
    all_healthy = time.perf_counter() - started
    time.sleep(settle)
    result: dict[str, Any] = {"count": len(profiles), "all_healthy_s": all_healthy,
                              **_memory([p.pid for p in procs])}
    result.update(_turns(procs[0].pid, ports[0], b.token(profiles[0]), turns))
    b.stop_all()
    return result


def markdown(r: dict[str, Any]) -> str:
    f, p, s = r["fleet"], r.get("plain"), r["fleet"]["supervisor"]
    rows = [
        ("all healthy from the command's start", f"{f['all_healthy_s']:.2f} s", p and f"{p['all_healthy_s']:.2f} s"),
        ("total PSS", f"{f['total_pss_mb']:.0f} MB", p and f"{p['total_pss_mb']:.0f} MB"),
        ("private per member", f"{f['mean_private_mb']:.1f} MB", p and f"{p['mean_private_mb']:.1f} MB"),
        ("agent turn, median wall", f"{f['turn_median_ms']:.1f} ms", p and f"{p['turn_median_ms']:.1f} ms"),
        ("agent turn, member CPU", f"{f['turn_cpu_ms']:.1f} ms", p and f"{p['turn_cpu_ms']:.1f} ms"),
        ("down", f"{f['down_s']:.2f} s", p and "-"),
        ("supervisor idle RSS / PSS / private",
         f"{s['rss']:.1f} / {s['pss']:.1f} / {s['private']:.1f} MB", p and "-"),
    ]
    head = f"| {f['count']} gateways | `fleet up` | plain spawns |\n|---|---|---|\n"
    return head + "\n".join(f"| {a} | {b} | {c or '-'} |" for a, b, c in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before memory is read")
    parser.add_argument("--no-plain", action="store_true", help="skip the N plain spawns")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = ModelStandin().start()
    with tempfile.TemporaryDirectory(prefix="oc-fleet-bench-") as tmp:
        b = Bench(Path(tmp))
        try:
            fleet = bench_fleet(b, args.count, _base_config(Path(tmp), model), args.turns, args.settle)
            result: dict[str, Any] = {"fleet": fleet}
            if not args.no_plain:
                result["plain"] = bench_plain(b, fleet["profiles"], fleet["ports"], args.turns, args.settle)
            fleet.pop("profiles")
            fleet.pop("ports")
        finally:
            b.stop_all()
            subprocess.run([PY, "-m", "openclaw", "fleet", "down"], env=b.env, capture_output=True)
            model.stop()
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
