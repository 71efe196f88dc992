#!/usr/bin/env python3
"""The assistant's cost: what a gateway adds to each agent turn, with an instant stand-in model.

A stand-in OpenAI-compatible provider runs as its own process and reports how
long it spent on every request; the gateway's share of a turn is the client's
round trip minus that. Each figure comes from real gateway processes in a
throwaway HOME, driven over the WebSocket protocol as upstream's CLI drives it
(`agent` with an interim `accepted`, `agent`/`chat` events, then the final answer).

    python bench/agent_turns.py                 # full size (1,000 turns over 100 sessions)
    python bench/agent_turns.py --scale 0.2     # a quicker run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import PY, Bench, memory, publish, wait_healthy

SETTLE_S = 1.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Standin:
    """The stand-in model in its own process (so it never shares a core's GIL with the client)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([PY, str(Path(__file__).parent / "model_standin.py")], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def timings(self) -> list[tuple[float, float]]:
        """(ms to the first text chunk, ms to the end) per request since the last call."""
        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/__timings", timeout=10) as resp:
            return [tuple(t) for t in json.loads(resp.read())]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Client:
    """One operator connection (mode cli, like upstream's `openclaw agent`)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token, self.n = port, token, 0

    async def __aenter__(self) -> Client:
        from aiohttp import ClientSession

        self.session = ClientSession()
        self.ws = await self.session.ws_connect(f"ws://127.0.0.1:{self.port}", max_msg_size=0)
        await self.ws.receive_json()  # connect.challenge
        await self.ws.send_json({"type": "req", "id": "c", "method": "connect", "params": {
            "minProtocol": 4, "maxProtocol": 4, "role": "operator", "scopes": ["operator.write", "operator.read"],
            "client": {"id": "cli", "version": "bench", "platform": "linux", "mode": "cli"},
            "auth": {"token": self.token}}})
        hello = await self.ws.receive_json()
        assert hello.get("ok"), hello
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.ws.close()
        await self.session.close()

    async def turn(self, session_key: str, text: str) -> tuple[float, float]:
        """One `agent` turn: (ms to the first streamed delta, ms to the final answer)."""
        self.n += 1
        req_id = f"t{self.n}"
        started = time.perf_counter()
        first = None
        await self.ws.send_json({"type": "req", "id": req_id, "method": "agent", "params": {
            "message": text, "sessionKey": session_key, "idempotencyKey": f"{session_key}:{self.n}:{started}"}})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("type") == "event":
                if first is None and msg.get("event") == "chat" and msg["payload"].get("state") == "delta":
                    first = time.perf_counter()
                continue
            if msg.get("id") != req_id:
                continue
            payload = msg.get("payload") or {}
            if not msg.get("ok"):
                raise RuntimeError(f"agent failed: {msg.get('error')}")
            if payload.get("status") == "accepted":
                continue
            if payload.get("status") != "ok":
                raise RuntimeError(f"turn ended {payload.get('status')}: {payload.get('summary')}")
            end = time.perf_counter()
            return ((first or end) - started) * 1000, (end - started) * 1000


def gateway(b: Bench, profile: str, model_url: str | None) -> tuple[subprocess.Popen[bytes], int, str]:
    port = b.setup(profile)
    if model_url:
        provider = {"baseUrl": model_url, "apiKey": "bench", "models": [{"id": "instant", "contextWindow": 200000}]}
        b.cli("--profile", profile, "config", "set", "models.providers.standin", json.dumps(provider))
        b.cli("--profile", profile, "config", "set", "agents.defaults.model", "standin/instant")
    proc = b.start(profile)
    wait_healthy(port, proc)
    time.sleep(SETTLE_S)
    return proc, port, b.token(profile)


async def sequential(port: int, token: str, standin: Standin, turns: int, per_session: int) -> dict[str, Any]:
    """One turn after another, `per_session` turns to a conversation."""
    standin.timings()
    async with Client(port, token) as client:
        await client.turn("agent:main:warmup", "load the agent stack")  # the first turn imports it
        standin.timings()
        seen = [await client.turn(f"agent:main:seq{per_session}-{i // per_session}", f"message {i}")
                for i in range(turns)]
    model = standin.timings()
    assert len(model) == len(seen), (len(model), len(seen))
    added = [total - m_total for (_, total), (_, m_total) in zip(seen, model, strict=True)]
    first_added = [first - m_first for (first, _), (m_first, _) in zip(seen, model, strict=True)]
    return {"turns": turns, "round_trip_p50": pct([t for _, t in seen], 50),
            "model_p50": pct([m for _, m in model], 50),
            "added_p50": pct(added, 50), "added_p99": pct(added, 99),
            "first_added_p50": pct(first_added, 50), "first_added_p99": pct(first_added, 99)}


async def concurrent(port: int, token: str, sessions: int, turns_each: int, tag: str) -> dict[str, Any]:
    async def talk(i: int) -> list[float]:
        async with Client(port, token) as client:
            return [(await client.turn(f"agent:main:{tag}-{i}", f"hello {n}"))[1] for n in range(turns_each)]

    started = time.perf_counter()
    results = await asyncio.gather(*(talk(i) for i in range(sessions)))
    elapsed = time.perf_counter() - started
    latencies = [t for r in results for t in r]
    return {"sessions": sessions, "turns": len(latencies), "seconds": elapsed, "per_second": len(latencies) / elapsed,
            "latency_p50": pct(latencies, 50), "latency_p99": pct(latencies, 99)}


def run(scale: float) -> dict[str, Any]:
    standin = Standin()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="oc-agent-bench-") as tmp:
        b = Bench(Path(tmp))
        try:
            proc, _, _ = gateway(b, "plain", None)
            out["idle_no_model"] = memory(proc.pid)
            b.stop_all()
            proc, port, token = gateway(b, "agent", standin.url)
            out["idle_with_model"] = memory(proc.pid)
            out["sequential"] = asyncio.run(sequential(port, token, standin, max(40, int(500 * scale)), 20))
            out["after_first_turns"] = memory(proc.pid)
            deep = asyncio.run(sequential(port, token, standin, max(40, int(200 * scale)), 10 ** 6))
            out["deep"] = {**deep, "history": 2 * deep["turns"]}
            out["c10"] = asyncio.run(concurrent(port, token, 10, max(5, int(50 * scale)), "c10"))
            b.stop_all()  # a fresh gateway for the 1,000-turn memory figure
            proc, port, token = gateway(b, "mem", standin.url)
            out["c100"] = asyncio.run(concurrent(port, token, 100, max(2, int(10 * scale)), "c100"))
            time.sleep(SETTLE_S)
            out["after_c100"] = memory(proc.pid)
            out["after_c100_idle"] = memory(proc.pid)
        finally:
            b.stop_all()
            standin.stop()
    return out


def markdown(r: dict[str, Any]) -> str:
    s, c10, c100 = r["sequential"], r["c10"], r["c100"]
    idle0, idle1 = r["idle_no_model"]["rss"], r["idle_with_model"]["rss"]
    rows = [
        ("Gateway time added per turn, sequential, 20-turn conversations (p50 / p99)",
         f"{s['added_p50']:.1f} / {s['added_p99']:.1f} ms", "< 10 ms (p50)"),
        (f"The same, turns 1 to {r['deep']['turns']} of one conversation (up to {r['deep']['history']} messages "
         "of history sent each turn)", f"{r['deep']['added_p50']:.1f} / {r['deep']['added_p99']:.1f} ms", "-"),
        ("Round trip per turn through the gateway (p50; the stand-in's own share)",
         f"{s['round_trip_p50']:.1f} ms ({s['model_p50']:.1f} ms)", "-"),
        ("Time added to the first streamed token (p50 / p99)",
         f"{s['first_added_p50']:.1f} / {s['first_added_p99']:.1f} ms", "-"),
        ("Turns per second, 10 concurrent sessions", f"{c10['per_second']:.0f} ({c10['turns']} turns, "
         f"p50 {c10['latency_p50']:.0f} ms)", ">= 200"),
        ("Turns per second, 100 concurrent sessions", f"{c100['per_second']:.0f} ({c100['turns']} turns, "
         f"p50 {c100['latency_p50']:.0f} ms)", "-"),
        ("Idle RSS, model configured, no turn yet (no model configured)", f"{idle1:.1f} MB ({idle0:.1f} MB)",
         "unchanged"),
        (f"RSS after the first {s['turns'] + 1} turns (agent stack loaded)", f"{r['after_first_turns']['rss']:.1f} MB",
         "-"),
        (f"RSS after {c100['turns']} turns over 100 sessions (fresh gateway; growth over idle)",
         f"{r['after_c100']['rss']:.1f} MB (+{r['after_c100']['rss'] - idle1:.1f} MB)", "< +30 MB"),
    ]
    lines = ["| Measure | Result | Target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full turn counts")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON")
    args = parser.parse_args()
    result = run(args.scale)
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
