#!/usr/bin/env python3
"""What opening upstream's stores costs: time and memory, on state written by upstream itself.

Copies the committed upstream fixture (tests/fixtures/upstream-state/<version>/: a global store with
upstream's ~105 tables and an agent store with sessions and transcripts) into a throwaway dir and,
in one fresh interpreter per run, times what a gateway start does with the global store (the
gateway-owner lease, loading devices) and what the first use of sessions does with the agent store
(open, list, read a history), with the process's RSS before and after each.

    python bench/stores.py             # 10 runs
    python bench/stores.py --runs 20 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from run import machine  # noqa: E402
from upstream_state import install, versions  # noqa: E402

PROBE = r"""
import asyncio, json, sys, time
from pathlib import Path

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

state = Path(sys.argv[1])
out = {}
import openclaw.gateway.process.locks, openclaw.agents.sessions  # the code is loaded before timing
from openclaw.gateway.state.devicestore import DeviceStore
from openclaw.stores import leases
from openclaw.stores.globaldb import global_db, immediate
from openclaw.stores.agentfile import agent_db_path
from openclaw.agents.sessions import SessionStore

out["rss_before_mb"] = rss()
t = time.perf_counter()
store = global_db(state)
def take(db):
    store.ensure(db, "state-leases", leases.DDL)
    with immediate(db):
        return leases.acquire(db, 18789)
owner, holder = store.call(take)
out["lease_ms"] = (time.perf_counter() - t) * 1000
t = time.perf_counter()
devices = DeviceStore(state)
devices.load()
out["devices_ms"] = (time.perf_counter() - t) * 1000
out["rss_after_global_mb"] = rss()

async def sessions():
    s = SessionStore(agent_db_path(state, "main"))
    t = time.perf_counter()
    listed = await s.list()
    out["sessions_list_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    history = await s.history(listed[0])
    out["history_ms"] = (time.perf_counter() - t) * 1000
    out["sessions"], out["messages"] = len(listed), len(history)
    await s.close()

asyncio.run(sessions())
out["rss_after_agent_mb"] = rss()
store.call(lambda db: leases.release(db, owner))
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    version = versions()[-1]
    rows = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            state = install(version, Path(tmp))
            done = subprocess.run([sys.executable, "-c", PROBE, str(state)], capture_output=True, text=True,
                                  check=True, cwd=ROOT)
            rows.append(json.loads(done.stdout))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    if args.json:
        print(json.dumps({"machine": machine(), "fixture": version, "runs": args.runs, **med}, indent=2))
        return
    print(f"{machine()}; upstream {version} fixture, median of {args.runs} fresh processes")
    print(f"global store at start: lease {med['lease_ms']:.1f} ms, devices {med['devices_ms']:.1f} ms; "
          f"RSS {med['rss_before_mb']:.1f} -> {med['rss_after_global_mb']:.1f} MB")
    print(f"agent store on first use: sessions.list {med['sessions_list_ms']:.1f} ms "
          f"({med['sessions']:.0f} sessions), a history {med['history_ms']:.1f} ms ({med['messages']:.0f} messages); "
          f"RSS -> {med['rss_after_agent_mb']:.1f} MB")


if __name__ == "__main__":
    main()
