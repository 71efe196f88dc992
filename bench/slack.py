#!/usr/bin/env python3
"""Slack channel figures: the client library choice (import time and RSS of slack_sdk's Socket Mode +
AsyncWebClient against ours, with the gateway's stack loaded), idle RSS of a gateway with Slack
configured and not, message-in to the model's first request, reconnect time after the stand-in comes
back, and forced reconnects with messages in flight (lost / answered twice). Runs in a throwaway HOME
against tests/fake_slack.py.

- first request: a DM written by the stand-in to the socket until the model stand-in receives the
  turn's request (the gateway's own time: socket read, pending store, access, bus, dispatcher,
  session, request to the model); the first turns load the agent stack and are not counted.

    python bench/slack.py [--turns 30] [--reconnects 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from fake_slack import App, FakeSlack  # noqa: E402
from model_standin import ModelStandin  # noqa: E402
from run import Bench, import_cost, memory, wait_healthy  # noqa: E402

STACK = "import aiohttp, openclaw.gateway.process.runner, openclaw.channels.telegram"
LIBS = {"ours": "import openclaw.channels.slack",
        "slack_sdk": "import slack_sdk.socket_mode.aiohttp, slack_sdk.web.async_client"}


def idle_rss(b: Bench, fake: FakeSlack, slack: bool) -> float:
    name = "withslack" if slack else "plain"
    port = b.setup(name)
    if slack:
        app = fake.add_app(name)
        cfg = {"botToken": app.bot_token, "appToken": app.app_token, "apiRoot": fake.api_root}
        b.cli("--profile", name, "config", "set", "channels.slack", json.dumps(cfg))
    proc = b.start(name)
    wait_healthy(port, proc)
    if slack:
        deadline = time.monotonic() + 20
        while not fake.connected(app) and time.monotonic() < deadline:
            time.sleep(0.05)
    time.sleep(3.0)  # idle memory needs an idle process
    return memory(proc.pid)["rss"]


def with_model_and_slack(b: Bench, fake: FakeSlack, model: ModelStandin, profile: str,
                         access: dict[str, object]) -> App:
    """A gateway whose model is the stand-in and whose Slack app (with these DM rules) is connected."""
    port = b.setup(profile)
    provider = {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 10}
    b.cli("--profile", profile, "config", "set", "models.providers.stand", json.dumps(provider))
    b.cli("--profile", profile, "config", "set", "agents.defaults.model", "stand/m1")
    app = fake.add_app(profile)
    cfg = {"botToken": app.bot_token, "appToken": app.app_token, "apiRoot": fake.api_root, **access}
    b.cli("--profile", profile, "config", "set", "channels.slack", json.dumps(cfg))
    proc = b.start(profile)
    wait_healthy(port, proc)
    _until(lambda: fake.connected(app))
    return app


def first_request(b: Bench, fake: FakeSlack, model: ModelStandin, turns: int) -> dict[str, float]:
    app = with_model_and_slack(b, fake, model, "turns", {"dmPolicy": "allowlist", "allowFrom": ["U1"]})
    times = []
    for i in range(turns + 3):  # the first turns load the agent stack: not counted
        seen = len(model.requests())
        started = time.time()
        fake.say(app, "U1", f"message {i}")
        _until(lambda n=seen: len(model.requests()) > n)
        _until(lambda i=i: f"echo: message {i}" in fake.texts(app, "DU1"))
        if i >= 3:
            times.append((model.requests()[-1].at - started) * 1000)
    times.sort()
    return {"turns": turns, "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[int(len(times) * 0.9) - 1], 1)}


def reconnects(b: Bench, fake: FakeSlack, model: ModelStandin, count: int) -> dict[str, float]:
    app = with_model_and_slack(b, fake, model, "drops", {"dmPolicy": "open", "allowFrom": ["*"]})
    fake.refusing = True  # Slack "down": the socket drops and apps.connections.open fails for 3 s
    fake.drop(app)
    time.sleep(3.0)
    back = time.monotonic()
    fake.refusing = False
    _until(lambda: fake.connected(app))
    resumed = time.monotonic() - back
    texts = []
    for i in range(count):
        before = app.connects
        (fake.drop if i % 2 else fake.disconnect)(app)
        texts.append(f"m{i}")
        fake.say(app, "U1", texts[-1])
        _until(lambda b=before: app.connects > b and fake.connected(app))
    _until(lambda: len(fake.texts(app, "DU1")) >= count and not app.unacked, timeout=120)
    time.sleep(1.0)  # a duplicate would show up now
    got = fake.texts(app, "DU1")
    wanted = {f"echo: {t}" for t in texts}
    return {"resumed_s": round(resumed, 3), "sent": count, "answered": len(got), "lost": len(wanted - set(got)),
            "duplicated": len(got) - len(set(got))}


def _until(predicate, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--reconnects", type=int, default=100)
    args = parser.parse_args()
    for name, stmt in LIBS.items():
        cost = import_cost(stmt, STACK)
        print(f"import {name}: " + (f"{cost['ms']:.1f} ms, {cost['mb']:.1f} MB RSS" if cost else "not installed"))
    fake, model = FakeSlack().start(), ModelStandin(record=False).start()
    timed = ModelStandin().start()  # records each request's arrival time
    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(Path(tmp))
        try:
            plain, with_slack = idle_rss(b, fake, False), idle_rss(b, fake, True)
            print(f"idle RSS: {plain:.1f} MB without Slack, {with_slack:.1f} MB with (+{with_slack - plain:.1f} MB)")
            print(f"DM in -> model request: {first_request(b, fake, timed, args.turns)}")
            print(f"reconnects: {reconnects(b, fake, model, args.reconnects)}")
        finally:
            b.stop_all()
            fake.stop()
            model.stop()
            timed.stop()


if __name__ == "__main__":
    main()
