#!/usr/bin/env python3
"""Instances as pods, measured: the rendered manifests run in their own network and mount
namespaces (as tests/podsim.py does; needs root), for the figures the manifests are sized from.

Renders a host with a main bot (browser off) and a rescue bot (browser on), then per pod: spawn to
`/startupz` answering 200 on the pod's address (first start seeds the config; later ones reuse
the volume), the gateway's memory idle, with Chromium running a page, and SIGTERM to
exit, idle and with the browser open.

    sudo python bench/kubernetes.py            # 5 starts per pod
    sudo python bench/kubernetes.py --quick    # 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from helpers import free_base, make_env  # noqa: E402
from podsim import POD_IP, Mountpoints, Objects, Pod, can_simulate, load_docs  # noqa: E402
from run import memory, publish, wait_healthy  # noqa: E402


def tree_memory(pid: int) -> dict[str, float]:
    """RSS and PSS of a process and its descendants, MB. Chromium is many processes sharing
    libraries: their RSS counts those pages once per process, PSS shares them out (closer to
    what the pod's memory cgroup is charged)."""
    import psutil

    proc = psutil.Process(pid)
    each = [memory(p.pid) for p in [proc, *proc.children(recursive=True)]]
    return {"rss": sum(m["rss"] for m in each), "pss": sum(m["pss"] for m in each), "processes": len(each)}


POLL = """
import sys, time, urllib.request
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200:
            print(time.time()); break
    except OSError:
        time.sleep(0.005)
"""


def started_in(pod: Pod) -> float:
    """Spawn to startup probe passing, ms, polled every 5 ms from inside the pod's network (one
    poller process, so the probe's own cost does not count)."""
    began = time.time()
    pod.start()
    own = os.readlink("/proc/self/ns/net")
    while os.readlink(f"/proc/{pod.pid}/ns/net") == own:  # until unshare has made the pod's network
        time.sleep(0.001)
    url = f"http://{POD_IP}:18789/startupz"
    poll = subprocess.run(["nsenter", "-t", str(pod.pid), "-n", "--", sys.executable, "-c", POLL, url],
                          capture_output=True, text=True, timeout=90)
    return (float(poll.stdout.strip()) - began) * 1000


def host_start_ms(env: Any, port: int, starts: int) -> float:
    """The same main instance started on the host (no pod), for comparison on the same machine."""
    times = []
    for _ in range(starts):
        gw = env.gateway().start()
        assert gw.proc is not None
        times.append(wait_healthy(port, gw.proc) * 1000)
        gw.stop()
    return statistics.median(times)


def render(root: Path, starts: int) -> tuple[Path, float, float]:
    env = make_env(root / "host")
    port = free_base()
    env.setup(None, port)
    env.cli("config", "set", "browser.enabled", "false", check=True)
    env.setup("rescue")  # the planner keeps its footprint clear of the others
    out = root / "manifests"
    began = time.perf_counter()
    env.cli("deploy", "kubernetes", "--all", "--out", str(out), check=True)
    return out, (time.perf_counter() - began) * 1000, host_start_ms(env, port, starts)


def measure_pod(sts: dict[str, Any], objects: Objects, root: Path, starts: int) -> dict[str, Any]:
    start_ms, stop_ms = [], []
    volumes: dict[str, Path] = {}
    idle: dict[str, float] = {}
    for i in range(starts):
        pod = Pod(sts, objects, root, volumes=volumes)
        start_ms.append(started_in(pod))
        pod.wait_started()
        if i == 0:
            time.sleep(2)  # settle before reading idle memory
            idle = memory(pod.pid)
        stop_ms.append(pod.stop() * 1000)
        volumes = pod.volumes
    out: dict[str, Any] = {"start_ms": statistics.median(start_ms), "stop_idle_ms": statistics.median(stop_ms),
                           "idle_rss": idle["rss"], "idle_pss": idle["pss"]}
    config = objects.get("ConfigMap", sts["metadata"]["name"] + "-config")["data"]["openclaw.json"]
    if json.loads(config).get("browser", {}).get("enabled", True):
        pod = Pod(sts, objects, root, volumes=volumes).start()
        pod.wait_started()
        page = "data:text/html,<h1>hello</h1>"
        opened = pod.exec("openclaw", "browser", "open", page, "--json", timeout=120)
        if opened.returncode != 0:
            raise SystemExit(f"browser open failed: {opened.stdout}{opened.stderr}")
        out["with_browser"] = tree_memory(pod.pid)
        out["stop_browser_ms"] = pod.stop() * 1000
    return out


def run(starts: int) -> dict[str, Any]:
    reason = can_simulate()
    if reason:
        raise SystemExit(f"cannot simulate pods here: {reason}")
    with tempfile.TemporaryDirectory(prefix="oc-bench-k8s-") as tmp:
        root = Path(tmp)
        out, render_ms, host_ms = render(root, starts)
        docs = load_docs(out)
        objects = Objects(docs)
        result: dict[str, Any] = {"render_ms": render_ms, "host_start_ms": host_ms, "pods": {}}
        with Mountpoints(docs):
            for sts in objects.all("StatefulSet"):
                result["pods"][sts["metadata"]["name"]] = measure_pod(sts, objects, root, starts)
        subprocess.run(["chmod", "-R", "u+w", tmp], check=False)
        return result


def markdown(r: dict[str, Any]) -> str:
    rows = ["| Pod | Start to startup probe (median) | Idle RSS (PSS) | With Chromium and a page: tree PSS (RSS) | "
            "SIGTERM to exit, idle / with browser |", "|---|---|---|---|---|"]
    for name, p in r["pods"].items():
        tree = p.get("with_browser")
        browser = (f"{tree['pss']:.0f} MB ({tree['rss']:.0f} MB, {tree['processes']} processes)" if tree
                   else "browser off")
        stop_browser = f" / {p['stop_browser_ms']:.0f} ms" if "stop_browser_ms" in p else ""
        rows.append(f"| {name} | {p['start_ms']:.0f} ms | {p['idle_rss']:.1f} MB ({p['idle_pss']:.1f}) | {browser} | "
                    f"{p['stop_idle_ms']:.0f} ms{stop_browser} |")
    return "\n".join([f"Rendering two instances (`deploy kubernetes --all`): {r['render_ms']:.0f} ms; the main "
                      f"instance started on the host, no pod: {r['host_start_ms']:.0f} ms to healthy (median)", "",
                      *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 starts per pod")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON")
    args = parser.parse_args()
    result = run(2 if args.quick else 5)
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
