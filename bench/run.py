#!/usr/bin/env python3
"""Gateway benchmarks: start-to-healthy, idle memory, CLI latency, RPC throughput, density.

Runs against real gateway processes in a throwaway HOME and prints figures
(and, with --markdown, a table for docs/benchmarks.md). Nothing touches the
real ~/.openclaw.

    python bench/run.py                 # everything, 50-gateway density
    python bench/run.py --density 10    # a smaller density run
    python bench/run.py --upstream /opt/upstream/bin/openclaw-upstream   # also time upstream once
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PY = sys.executable


SRC = str(Path(__file__).resolve().parent.parent / "src")
PROBE_HEAD = """
import json, sys, time
sys.path.insert(0, {src!r})
def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
"""  # the start of an import probe run with `python -c` (formatted with `src`)
PROBE_BODY = """
before, started, loaded = rss(), time.perf_counter(), len(sys.modules)
{code}
print(json.dumps({{"ms": (time.perf_counter() - started) * 1000, "mb": rss() - before,
                  "modules": len(sys.modules) - loaded}}))
"""


def import_cost(code: str, preload: str, runs: int = 5, python: str = PY) -> dict[str, float] | None:
    """What running `code` adds (median ms, MB of RSS, modules) in fresh interpreters that ran `preload`
    first (what the process holds already); None when it fails (a library that is not installed)."""
    probe = PROBE_HEAD.format(src=SRC) + preload + "\n" + PROBE_BODY.format(code=code)
    figures = []
    for _ in range(runs):
        proc = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        figures.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(f[key] for f in figures) for key in ("ms", "mb", "modules")}


def healthz(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait_healthy(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while not healthz(port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"gateway on {port} exited with {proc.returncode}")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"gateway on {port} not healthy after {timeout}s")
        time.sleep(0.002)
    return time.perf_counter() - started


def memory(pid: int) -> dict[str, float]:
    """RSS plus PSS and private memory (what a process really adds) in MB, from /proc."""
    out = {"rss": 0.0, "pss": 0.0, "private": 0.0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                kb = float(rest.split()[0]) if rest.split() else 0.0
                if key == "Rss":
                    out["rss"] = kb / 1024
                elif key == "Pss":
                    out["pss"] = kb / 1024
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["private"] += kb / 1024
    except OSError:
        import psutil

        out["rss"] = psutil.Process(pid).memory_info().rss / 2**20
    return out


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        home, tmp = root / "home", root / "tmp"
        home.mkdir()
        tmp.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
        self.env.update(HOME=str(home), TMPDIR=str(tmp), NO_COLOR="1")
        self.procs: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run([PY, "-m", "openclaw", *args], env=self.env, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"openclaw {' '.join(args)}: {proc.stderr.decode()}")
        return proc

    def setup(self, profile: str) -> int:
        out = self.cli("--profile", profile, "setup", "--json")
        return int(json.loads(out.stdout)["port"])

    def start(self, profile: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([PY, "-m", "openclaw", "--profile", profile, "gateway"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def token(self, profile: str) -> str:
        cfg = json.loads((Path(self.env["HOME"]) / f".openclaw-{profile}" / "openclaw.json").read_text())
        return cfg["gateway"]["auth"]["token"]


def bench_start(b: Bench, runs: int) -> dict[str, Any]:
    port = b.setup("start")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = b.start("start")
        wait_healthy(port, proc)
        times.append(time.perf_counter() - started)
        b.stop_all()
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": runs}


def bench_idle_memory(b: Bench, settle: float) -> dict[str, Any]:
    port = b.setup("idle")
    proc = b.start("idle")
    wait_healthy(port, proc)
    time.sleep(settle)  # measuring idle memory needs the process to be idle for a while
    mem = memory(proc.pid)
    b.stop_all()
    return mem


def bench_cli(b: Bench, runs: int) -> dict[str, Any]:
    port = b.setup("cli")
    proc = b.start("cli")
    wait_healthy(port, proc)
    out = {}
    for name in ("status", "health", "gateway status"):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            b.cli("--profile", "cli", *name.split())
            times.append(time.perf_counter() - started)
        out[name] = {"median_s": statistics.median(times), "min_s": min(times)}
    b.stop_all()
    return out


async def _rpc_client(port: int, token: str, deadline: float) -> int:
    from aiohttp import ClientSession

    done = 0
    async with ClientSession() as session, session.ws_connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.receive_json()  # connect.challenge
        await ws.send_json({"type": "req", "id": "c", "method": "connect", "params": {
            "minProtocol": 4, "maxProtocol": 4, "role": "operator", "scopes": ["operator.read"],
            "client": {"id": "test", "version": "bench", "platform": "linux", "mode": "test"},
            "auth": {"token": token}}})
        assert (await ws.receive_json())["ok"]
        while time.perf_counter() < deadline:
            await ws.send_json({"type": "req", "id": str(done), "method": "health"})
            while True:
                msg = await ws.receive_json()
                if msg.get("type") == "res":
                    break
            done += 1
    return done


def bench_rpc(b: Bench, clients: int, seconds: float) -> dict[str, Any]:
    port = b.setup("rpc")
    proc = b.start("rpc")
    wait_healthy(port, proc)
    token = b.token("rpc")

    async def run() -> int:
        deadline = time.perf_counter() + seconds
        counts = await asyncio.gather(*(_rpc_client(port, token, deadline) for _ in range(clients)))
        return sum(counts)

    started = time.perf_counter()
    total = asyncio.run(run())
    elapsed = time.perf_counter() - started
    b.stop_all()
    return {"clients": clients, "requests": total, "seconds": elapsed, "per_second": total / elapsed}


def _control(port: int, token: str, method: str, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def bench_browser(b: Bench, runs: int, settle: float) -> dict[str, Any]:
    """`browser start` to CDP-ready (first launch and warm), and the control service's idle memory."""
    if not shutil.which("chromium") and not shutil.which("google-chrome"):
        return {"skipped": "no Chromium installed"}
    off = b.setup("nobrowser")
    b.cli("--profile", "nobrowser", "config", "set", "browser.enabled", "false")
    proc = b.start("nobrowser")
    wait_healthy(off, proc)
    time.sleep(settle)
    without = memory(proc.pid)
    b.stop_all()
    port = b.setup("browser")
    proc = b.start("browser")
    wait_healthy(port, proc)
    time.sleep(settle)
    listening_idle = memory(proc.pid)
    token = b.token("browser")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        status, body = _control(port + 2, token, "POST", "/start")
        if status != 200:
            raise RuntimeError(f"browser start failed: {body}")
        times.append(time.perf_counter() - started)
        _control(port + 2, token, "POST", "/stop")
    time.sleep(settle)
    loaded_idle = memory(proc.pid)
    b.stop_all()
    return {
        "first_start_s": times[0], "warm_median_s": statistics.median(times[1:] or times), "runs": runs,
        "rss_browser_disabled_mb": without["rss"], "rss_control_listening_mb": listening_idle["rss"],
        "rss_control_used_idle_mb": loaded_idle["rss"],
        "control_idle_cost_mb": listening_idle["rss"] - without["rss"],
        "control_loaded_cost_mb": loaded_idle["rss"] - without["rss"],
    }


def bench_density(b: Bench, count: int) -> dict[str, Any]:
    profiles = [f"d{i:02d}" for i in range(count)]
    ports = {p: b.setup(p) for p in profiles}
    started = time.perf_counter()
    procs = {p: b.start(p) for p in profiles}
    pending = dict(ports)
    while pending:
        for profile, port in list(pending.items()):
            if procs[profile].poll() is not None:
                raise RuntimeError(f"{profile} exited with {procs[profile].returncode}")
            if healthz(port):
                del pending[profile]
        time.sleep(0.01)
    all_healthy = time.perf_counter() - started
    time.sleep(2.0)  # let every process settle to idle
    mems = [memory(p.pid) for p in procs.values()]
    listing = json.loads(b.cli("gateways", "--json").stdout)["instances"]
    healthy = sum(1 for i in listing if i["healthy"])
    collisions = sum(len(i["collisions"]) for i in listing)
    b.stop_all()
    return {
        "gateways": count,
        "all_healthy_s": all_healthy,
        "healthy_in_listing": healthy,
        "collisions": collisions,
        "total_rss_mb": sum(m["rss"] for m in mems),
        "total_pss_mb": sum(m["pss"] for m in mems),
        "mean_private_mb": statistics.mean(m["private"] for m in mems),
        "port_span": [min(ports.values()), max(ports.values()) + 110],
    }


def bench_upstream(binary: str, root: Path) -> dict[str, Any]:
    """One cold start of upstream's Node gateway, its idle memory, and its CLI latency."""
    home = root / "up-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    env.update(HOME=str(home), TMPDIR=str(root / "tmp"))
    port = 47789
    (home / ".openclaw").mkdir()
    (home / ".openclaw" / "openclaw.json").write_text(json.dumps(
        {"gateway": {"mode": "local", "port": port, "auth": {"mode": "token", "token": "bench-token-123456"}}}))
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "gateway", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_healthy(port, proc, timeout=180)
        to_healthy = time.perf_counter() - started
        time.sleep(5)
        import psutil

        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        rss = sum(p.memory_info().rss for p in tree) / 2**20
        cli = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([binary, "health"], env=env, capture_output=True, timeout=120)
            cli.append(time.perf_counter() - t)
        return {"start_to_healthy_s": to_healthy, "rss_mb": rss,
                "health_cli_median_s": statistics.median(cli)}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def publish(result: dict[str, Any], markdown_of: Any, as_json: bool) -> None:
    """Raw figures as JSON, or the dated table for docs/benchmarks.md."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"{time.strftime('%Y-%m-%d')}, {machine()}")
    print(markdown_of(result))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import psutil

    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}")


def markdown(r: dict[str, Any]) -> str:
    s, m, c, q, d = r["start"], r["idle"], r["cli"], r["rpc"], r["density"]
    rows = [
        (f"Start to healthy (median of {s['runs']})", f"{s['median_s']*1000:.0f} ms (min {s['min_s']*1000:.0f}, "
         f"max {s['max_s']*1000:.0f})", "< 500 ms"),
        ("Idle memory, one gateway", f"RSS {m['rss']:.1f} MB (PSS {m['pss']:.1f}, private {m['private']:.1f})",
         "< 50 MB RSS"),
    ]
    rows += [(f"`openclaw {k}` wall time (median)", f"{v['median_s']*1000:.0f} ms", "< 300 ms") for k, v in c.items()]
    rows += [
        (f"`health` RPC throughput, {q['clients']} clients", f"{q['per_second']:.0f} req/s "
         f"({q['requests']} in {q['seconds']:.1f} s)", "-"),
        (f"Density: {d['gateways']} gateways, time to all healthy", f"{d['all_healthy_s']:.1f} s", "-"),
        (f"Density: {d['gateways']} gateways, total RSS", f"{d['total_rss_mb']:.0f} MB (total PSS "
         f"{d['total_pss_mb']:.0f} MB, {d['mean_private_mb']:.1f} MB private each)", "< 3 GB"),
        ("Density: healthy in `openclaw gateways`, collisions", f"{d['healthy_in_listing']}/{d['gateways']}, "
         f"{d['collisions']}", "all, 0"),
    ]
    w = r.get("browser") or {}
    if "first_start_s" in w:
        rows += [
            ("Browser start to CDP-ready, first launch (fresh profile)", f"{w['first_start_s']*1000:.0f} ms", "-"),
            (f"Browser start to CDP-ready, warm (median of {w['runs'] - 1})", f"{w['warm_median_s']*1000:.0f} ms", "-"),
            ("Browser control service, idle (listening, never used)",
             f"+{w['control_idle_cost_mb']:.1f} MB RSS ({w['rss_control_listening_mb']:.1f} vs "
             f"{w['rss_browser_disabled_mb']:.1f} with browser.enabled=false)", "-"),
            ("Browser control service, idle after use (browser stopped)",
             f"+{w['control_loaded_cost_mb']:.1f} MB RSS ({w['rss_control_used_idle_mb']:.1f})", "-"),
        ]
    if r.get("upstream"):
        u = r["upstream"]
        rows += [("Upstream 2026.9.6: start to healthy", f"{u['start_to_healthy_s']:.1f} s", "(reference)"),
                 ("Upstream 2026.9.6: gateway RSS (process tree)", f"{u['rss_mb']:.0f} MB", "(reference)"),
                 ("Upstream 2026.9.6: `openclaw health` wall time", f"{u['health_cli_median_s']:.1f} s", "(reference)")]
    lines = ["| Measure | Result | Target |", "|---|---|---|"] + [f"| {a} | {b} | {t} |" for a, b, t in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="repetitions for start and CLI timings")
    parser.add_argument("--density", type=int, default=50, help="gateways in the density run")
    parser.add_argument("--rpc-clients", type=int, default=20)
    parser.add_argument("--rpc-seconds", type=float, default=5.0)
    parser.add_argument("--browser-runs", type=int, default=5, help="browser start/stop cycles")
    parser.add_argument("--idle-settle", type=float, default=3.0, help="seconds idle before measuring memory")
    parser.add_argument("--upstream", help="path to upstream's openclaw CLI to measure once for comparison")
    parser.add_argument("--json", action="store_true", help="print raw JSON results")
    parser.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="openclaw-bench-"))
    bench = Bench(root)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
    try:
        steps = [
            ("start", lambda: bench_start(bench, args.runs)),
            ("idle", lambda: bench_idle_memory(bench, args.idle_settle)),
            ("cli", lambda: bench_cli(bench, args.runs)),
            ("rpc", lambda: bench_rpc(bench, args.rpc_clients, args.rpc_seconds)),
            ("browser", lambda: bench_browser(bench, args.browser_runs, args.idle_settle)),
            ("density", lambda: bench_density(bench, args.density)),
        ]
        if args.upstream:
            steps.append(("upstream", lambda: bench_upstream(args.upstream, root)))
        for name, step in steps:
            print(f"... {name}", file=sys.stderr, flush=True)
            results[name] = step()
            print(f"    {json.dumps(results[name])}", file=sys.stderr, flush=True)
    finally:
        bench.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    print(f"\n{results['date']} · {results['machine']}\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
