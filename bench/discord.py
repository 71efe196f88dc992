#!/usr/bin/env python3
"""Discord's cost and behaviour against the loopback gateway + REST stand-in (tests/fake_discord.py).

- idle: gateways in a throwaway HOME measured after a settle, in turn: A without channels, B with
  `channels.discord` configured and connected (RSS and private memory, medians).
- first token: a DM published by the stand-in until the model stand-in receives the turn's request
  (the gateway's own time: gateway read, pairing/access, bus, dispatcher, session, request to the model).
- resume: the stand-in refuses sockets for a while, then takes them again; the time from its return
  to the session RESUMED.
- reconnects: N forced drops, a DM sent while each link is down; every one answered exactly once.

    python bench/discord.py [--runs 3] [--turns 30] [--reconnects 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from fake_discord import FakeDiscord, new_bot
from model_standin import ModelStandin, Reply
from run import Bench, memory, publish, wait_healthy

SETTLE_S = 3.0
OWNER = "300000000000000001"


def until(predicate: Any, timeout: float = 30.0, poll: float = 0.001) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(poll)


def configure(b: Bench, profile: str, dc: FakeDiscord | None, model: ModelStandin | None = None) -> tuple[int, str]:
    port, token = b.setup(profile), ""
    if dc is not None:
        token = new_bot(dc, profile.replace("-", "_"))
        b.cli("--profile", profile, "config", "set", "channels.discord",
              json.dumps({"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER]}))
    if model is not None:
        provider = {"baseUrl": model.openai_url, "apiKey": "bench", "models": [{"id": "instant"}]}
        b.cli("--profile", profile, "config", "set", "models.providers.standin", json.dumps(provider))
        b.cli("--profile", profile, "config", "set", "agents.defaults.model", "standin/instant")
    return port, token


def idle(b: Bench, dc: FakeDiscord, runs: int) -> dict[str, dict[str, float]]:
    setups = {"none": configure(b, "dc-none", None), "discord": configure(b, "dc-on", dc)}
    seen: dict[str, list[dict[str, float]]] = {k: [] for k in setups}
    for _ in range(runs):
        for kind, (port, token) in setups.items():
            proc = b.start("dc-none" if kind == "none" else "dc-on")
            wait_healthy(port, proc)
            if token:
                until(lambda token=token: dc.connected(token))
            time.sleep(SETTLE_S)  # idle memory needs an idle process
            seen[kind].append(memory(proc.pid))
            proc.terminate()
            proc.wait(timeout=15)
    return {k: {m: statistics.median(x[m] for x in ms) for m in ("rss", "private")} for k, ms in seen.items()}


def first_token(b: Bench, dc: FakeDiscord, model: ModelStandin, turns: int) -> dict[str, float]:
    port, token = configure(b, "dc-turns", dc, model)
    proc = b.start("dc-turns")
    wait_healthy(port, proc)
    until(lambda: dc.connected(token))
    dm, times = dc.dm_channel(OWNER), []
    for i in range(turns + 3):  # the first turns load the agent stack: not counted
        model.script(Reply(text=f"reply {i}"))
        seen_before = len(model.requests())
        started = time.time()
        dc.user_message(token, OWNER, f"message {i}")
        until(lambda n=seen_before: len(model.requests()) > n)
        until(lambda i=i: f"reply {i}" in dc.messages_to(token, dm))
        if i >= 3:
            times.append((model.requests()[-1].at - started) * 1000)
    b.stop_all()
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[int(len(times) * 0.9) - 1], "turns": turns}


def reconnects(b: Bench, dc: FakeDiscord, count: int, outages: int) -> dict[str, Any]:
    port, token = configure(b, "dc-drops", dc)
    proc = b.start("dc-drops")
    wait_healthy(port, proc)
    until(lambda: dc.connected(token))
    dm, resumes = dc.dm_channel(OWNER), []
    for i in range(count):
        dc.drop(token)
        dc.user_message(token, OWNER, "/whoami")
        until(lambda n=i + 1: len(dc.messages_to(token, dm)) >= n)
    for _ in range(outages):
        dc.down = True
        dc.drop(token)
        time.sleep(1.5)  # an outage long enough for several refused attempts
        before = dc.bots[token].resumes
        back = time.perf_counter()
        dc.down = False
        until(lambda before=before: dc.bots[token].resumes > before and dc.connected(token))
        resumes.append(time.perf_counter() - back)
    time.sleep(1.0)  # anything answered twice would arrive now
    answered = len(dc.messages_to(token, dm))
    bot = dc.bots[token]
    b.stop_all()
    return {"drops": count, "answered": answered, "lost": max(0, count - answered),
            "duplicated": max(0, answered - count), "identifies": bot.identifies, "resumes": bot.resumes,
            "resume_after_outage_s": {"median": statistics.median(resumes), "max": max(resumes), "runs": outages}}


def markdown(r: dict[str, Any]) -> str:
    none, on = r["idle"]["none"], r["idle"]["discord"]
    ft, rc = r["first_token"], r["reconnects"]
    return "\n".join([
        "| Figure | Value | Target |", "|---|---|---|",
        f"| idle RSS, no channel | {none['rss']:.1f} MB (private {none['private']:.1f}) | unchanged |",
        f"| idle RSS, Discord connected | {on['rss']:.1f} MB (private {on['private']:.1f}), "
        f"+{on['rss'] - none['rss']:.1f} MB | < 8 MB added |",
        f"| DM in -> model request (median / p90 of {ft['turns']}) | {ft['median_ms']:.1f} / {ft['p90_ms']:.1f} ms "
        "| < 10 ms |",
        f"| resumed after the stand-in is back (median / max of {rc['resume_after_outage_s']['runs']}) | "
        f"{rc['resume_after_outage_s']['median']:.2f} / {rc['resume_after_outage_s']['max']:.2f} s | < 2 s |",
        f"| {rc['drops']} forced drops: lost / duplicated | {rc['lost']} / {rc['duplicated']} "
        f"(identifies {rc['identifies']}, resumes {rc['resumes']}) | 0 / 0 |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--reconnects", type=int, default=100)
    parser.add_argument("--outages", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dc, model = FakeDiscord().start(), ModelStandin().start()
    with tempfile.TemporaryDirectory() as root:
        b = Bench(Path(root))
        try:
            result = {"idle": idle(b, dc, args.runs), "first_token": first_token(b, dc, model, args.turns),
                      "reconnects": reconnects(b, dc, args.reconnects, args.outages)}
        finally:
            b.stop_all()
            dc.stop()
            model.stop()
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
