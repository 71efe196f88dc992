#!/usr/bin/env python3
"""Heartbeats' cost: idle memory with the default heartbeat scheduled against none, and what a
heartbeat run adds to the agent turn it makes (against an instant stand-in model).

Idle: gateways in a throwaway HOME, each measured after a settle, in turn (A B C A B C ...):
A has nothing that beats (no heartbeat block: nothing scheduled, as before heartbeats), B has the
default heartbeat block (`{target: none}`, every 30 minutes) and no model (the scheduler, the cron
store and the heartbeat package loaded, the job declared), C has the same block and a model.

A run: `wake {mode: now}` over the WebSocket protocol until the `heartbeat` event arrives, minus
the stand-in's own time; beside it an `agent` turn on the same gateway, for reference.

    python bench/heartbeat.py [--runs 5] [--turns 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from agent_turns import Client, Standin, pct
from run import Bench, memory, publish, wait_healthy

SETTLE_S = 3.0


def configure(b: Bench, profile: str, kind: str, model_url: str) -> int:
    port = b.setup(profile)
    if kind in ("block", "model"):
        b.cli("--profile", profile, "config", "set", "agents.defaults.heartbeat", json.dumps({"target": "none"}))
    if kind == "model":
        provider = {"baseUrl": model_url, "apiKey": "bench", "models": [{"id": "instant", "contextWindow": 200000}]}
        b.cli("--profile", profile, "config", "set", "models.providers.standin", json.dumps(provider))
        b.cli("--profile", profile, "config", "set", "agents.defaults.model", "standin/instant")
    return port


def idle(b: Bench, runs: int, model_url: str) -> dict[str, dict[str, float]]:
    kinds = {"none": "A", "block": "B", "model": "C"}
    ports = {kind: configure(b, f"hb-{kind}", kind, model_url) for kind in kinds}
    seen: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind in kinds:
            proc = b.start(f"hb-{kind}")
            wait_healthy(ports[kind], proc)
            time.sleep(SETTLE_S)
            seen[kind].append(memory(proc.pid))
            proc.terminate()
            proc.wait(timeout=15)
    return {kind: {k: statistics.median(m[k] for m in ms) for k in ("rss", "private")} for kind, ms in seen.items()}


class Operator(Client):
    async def beat(self) -> float:
        """`wake now`, then wait for the `heartbeat` event: ms from the request to the event."""
        self.n += 1
        req_id = f"w{self.n}"
        started = time.perf_counter()
        await self.ws.send_json({"type": "req", "id": req_id, "method": "wake",
                                 "params": {"mode": "now", "text": f"bench {self.n}"}})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("type") == "event" and msg.get("event") == "heartbeat":
                if msg["payload"].get("status") == "failed":
                    raise RuntimeError(f"heartbeat failed: {msg['payload']}")
                return (time.perf_counter() - started) * 1000
            if msg.get("id") == req_id and not msg.get("ok"):
                raise RuntimeError(f"wake failed: {msg.get('error')}")


async def runs_of(port: int, token: str, turns: int, standin: Standin) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"heartbeat": [], "agent": []}
    async with Operator(port, token) as op:
        for _ in range(3):  # warm: the agent stack and the stores load with the first turns
            await op.beat()
            await op.turn("agent:main:bench", "warm")
        standin.timings()
        for i in range(turns):
            beat = await op.beat()
            own = standin.timings()
            out["heartbeat"].append(beat - sum(t[1] for t in own))
            _, total = await op.turn("agent:main:bench", f"turn {i}")
            own = standin.timings()
            out["agent"].append(total - sum(t[1] for t in own))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    standin = Standin()
    with tempfile.TemporaryDirectory(prefix="oc-bench-hb-") as tmp:
        b = Bench(Path(tmp))
        try:
            result: dict[str, Any] = {"idle": idle(b, args.runs, standin.url)}
            port = configure(b, "hb-turns", "model", standin.url)
            proc = b.start("hb-turns")
            wait_healthy(port, proc)
            result["runs"] = asyncio.run(runs_of(port, b.token("hb-turns"), args.turns, standin))
        finally:
            b.stop_all()
            standin.stop()
    publish(result, markdown, args.json)


def markdown(r: dict[str, Any]) -> str:
    i, runs = r["idle"], r["runs"]
    rows = [
        ("Idle, nothing scheduled (no heartbeat block)", f"RSS {i['none']['rss']:.1f} MB, "
         f"private {i['none']['private']:.1f} MB"),
        ("Idle, default heartbeat scheduled, no model", f"RSS {i['block']['rss']:.1f} MB "
         f"(+{i['block']['rss'] - i['none']['rss']:.1f}), private {i['block']['private']:.1f} MB "
         f"(+{i['block']['private'] - i['none']['private']:.1f})"),
        ("Idle, default heartbeat scheduled, model configured", f"RSS {i['model']['rss']:.1f} MB "
         f"(+{i['model']['rss'] - i['none']['rss']:.1f}), private {i['model']['private']:.1f} MB "
         f"(+{i['model']['private'] - i['none']['private']:.1f})"),
    ]
    for name, label in (("heartbeat", "A heartbeat run (wake -> event), gateway's share"),
                        ("agent", "An `agent` turn on the same gateway, gateway's share")):
        values = runs[name]
        rows.append((label, f"p50 {pct(values, 50):.1f} ms, p90 {pct(values, 90):.1f} ms ({len(values)} runs)"))
    return "\n".join(["| What | Figure |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


if __name__ == "__main__":
    main()
