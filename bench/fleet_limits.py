#!/usr/bin/env python3
"""What a fleet member needs under RLIMIT_AS: the floor of `--memory` when no cgroup is at hand.

Members are forked from a warm parent that imported what the supervisor imports, then held to
RLIMIT_AS by `Enforcer.in_child` exactly as in a fleet (`OPENCLAW_FLEET_CGROUP=off`). The floor
is found by bisection, in MiB beyond the address space shared with the parent: the least that
still reaches /healthz, and the least that also serves a run of agent turns through the
stand-in model. For comparison, the address space a member reserves without one malloc arena
and small thread stacks, and whether this machine offers the cgroup way at all.

    python bench/fleet_limits.py            # 20 turns per trial
    python bench/fleet_limits.py --turns 100 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from agent_turns import Client, Standin
from run import Bench, healthz, memory, publish

from openclaw.fleet import cgroup
from openclaw.fleet.limits import MIN_MEMORY, Enforcer, MemberLimits, mapped_bytes
from openclaw.fleet.preload import preload

MIB = 1 << 20


def vm(pid: int) -> dict[str, float]:
    """VmSize, VmPeak (MiB) and threads of a live process."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmSize", "VmPeak"):
                out[key] = int(rest.split()[0]) / 1024
            elif key == "Threads":
                out[key] = int(rest)
    return out


class Trial:
    """One member forked from this (warm) process, its limits applied as the supervisor's child does."""

    def __init__(self, b: Bench, profile: str, port: int, limit: int | None, tuned: bool = True) -> None:
        self.port, self.token = port, b.token(profile)
        self.log = b.root / f"{profile}-{limit}-{time.monotonic_ns()}.log"
        enforcer = Enforcer(MemberLimits(memory_bytes=limit), {cgroup.CGROUP_ENV: "off"})
        self.pid = os.fork()
        if self.pid == 0:
            code = 1
            try:
                out = os.open(self.log, os.O_WRONLY | os.O_CREAT, 0o600)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.environ.clear()
                os.environ.update({**b.env, "OPENCLAW_PROFILE": profile, **enforcer.child_env(profile)})
                tempfile.tempdir = None
                if tuned:
                    enforcer.in_child(profile)
                from openclaw.gateway.process.runner import run_gateway
                from openclaw.gateway.settings import RunOptions
                from openclaw.profiles.paths import resolve_paths

                code = run_gateway(resolve_paths(os.environ), RunOptions(), dict(os.environ))
            finally:
                os._exit(code)

    def healthy(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                self.pid = 0
                return False
            if healthz(self.port):
                return True
            time.sleep(0.01)
        return False

    def turns(self, count: int) -> bool:
        async def talk() -> None:
            async with Client(self.port, self.token) as client:
                for i in range(count):
                    await client.turn(f"agent:main:s{i % 5}", "a question, asked at some length " * 40)

        try:
            asyncio.run(asyncio.wait_for(talk(), 60))
        except Exception:  # noqa: BLE001 - a member that ran out of memory mid-turn fails the trial
            return False
        return self.pid != 0 and not os.waitpid(self.pid, os.WNOHANG)[0] and healthz(self.port)

    def stop(self) -> int | None:
        if not self.pid:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        return os.waitpid(self.pid, 0)[1]


def floor(b: Bench, profile: str, port: int, turns: int) -> int:
    """The least MiB beyond the shared address space at which a member starts (turns=0) or also serves."""
    low, high = 0, MIN_MEMORY // MIB  # low fails (nothing fits in 0), high passes (checked by the caller)
    while high - low > 1:
        mid = (low + high) // 2
        trial = Trial(b, profile, port, mid * MIB)
        ok = trial.healthy() and (turns == 0 or trial.turns(turns))
        trial.stop()
        low, high = (low, mid) if ok else (mid, high)
    return high


def measure(turns: int) -> dict[str, Any]:
    preload()
    gc.freeze()
    result: dict[str, Any] = {"turns": turns, "shared_mib": mapped_bytes() / MIB}
    standin = Standin()
    root = Path(tempfile.mkdtemp(prefix="openclaw-fleet-limits-"))
    b = Bench(root)
    try:
        port = b.setup("floor")
        b.cli("--profile", "floor", "config", "set", "models.providers.stand",
              json.dumps({"baseUrl": standin.url, "apiKey": "k", "timeoutSeconds": 10}))
        b.cli("--profile", "floor", "config", "set", "agents.defaults.model", "stand/m1")
        at_min = Trial(b, "floor", port, MIN_MEMORY)
        if not (at_min.healthy() and at_min.turns(turns)):
            raise RuntimeError(f"a member does not serve at {MIN_MEMORY // MIB} MiB:\n{at_min.log.read_text()}")
        result["at_min"] = {"limit_mib": MIN_MEMORY / MIB, **vm(at_min.pid), **memory(at_min.pid)}
        at_min.stop()
        plain = Trial(b, "floor", port, None, tuned=False)  # the same member without one arena, small stacks
        plain.healthy()
        plain.turns(turns)
        result["untuned"] = vm(plain.pid)
        plain.stop()
        result["floor_start_mib"] = floor(b, "floor", port, 0)
        result["floor_turns_mib"] = floor(b, "floor", port, turns)
        enforcer = Enforcer(MemberLimits(memory_bytes=MIN_MEMORY), os.environ)
        result["here"] = {"backend": enforcer.backend, "reason": enforcer.reason}
    finally:
        b.stop_all()
        standin.proc.terminate()
    return result


def markdown(r: dict[str, Any]) -> str:
    m, u = r["at_min"], r["untuned"]
    rows = [
        ("Address space shared with the supervisor (not counted)", f"{r['shared_mib']:.0f} MiB"),
        ("Floor of `--memory` under RLIMIT_AS: reaches /healthz", f"{r['floor_start_mib']} MiB"),
        (f"Floor of `--memory` under RLIMIT_AS: {r['turns']} agent turns", f"{r['floor_turns_mib']} MiB"),
        (f"A member at {m['limit_mib']:.0f} MiB after {r['turns']} turns",
         f"VmPeak {m['VmPeak']:.0f} MiB, {m['Threads']:.0f} threads, RSS {m['rss']:.1f} MB "
         f"(PSS {m['pss']:.1f}, private {m['private']:.1f})"),
        ("The same without one malloc arena and 1 MiB thread stacks",
         f"VmPeak {u['VmPeak']:.0f} MiB, {u['Threads']:.0f} threads"),
        ("The way memory is held on this machine", f"{r['here']['backend']}: {r['here']['reason']}"),
    ]
    return "\n".join(["| Measure | Result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    publish(measure(args.turns), markdown, args.json)


if __name__ == "__main__":
    main()
