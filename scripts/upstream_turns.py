#!/usr/bin/env python3
"""Regenerate tests/fixtures/upstream-turns/agent-turns.json: what upstream's gateway says during turns.

In a fresh HOME: upstream's `onboard --non-interactive`, a stand-in model (bench/model_standin.py)
as `local/qwen`, `gateway run`; then `agent --session-id ... --json` (and the other session-id
cases), and the `agent`/`chat` events a second operator connection sees during an `agent` turn, a
streamed `chat.send` turn and a `chat.send` turn stopped with `chat.abort`. Slow (minutes).

    .venv/bin/python scripts/upstream_turns.py [/path/to/openclaw-upstream]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from model_standin import ModelStandin, Reply  # noqa: E402

from openclaw.client.rpc import GatewayClient  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "upstream-turns" / "agent-turns.json"
PORT = 27891


def upstream_bin() -> str:
    found = (sys.argv[1] if len(sys.argv) > 1 else None) or shutil.which("openclaw-upstream")
    return found or "/opt/upstream/bin/openclaw-upstream"


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = subprocess.run([upstream_bin(), *args], env=env, capture_output=True, text=True, timeout=600, check=True)
    data: dict[str, Any] = json.loads(proc.stdout[proc.stdout.index("{"):])
    return data


def wait_ready(token: str) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2):
                GatewayClient(f"ws://127.0.0.1:{PORT}", token, timeout=10).connect()
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(2)
    raise SystemExit("upstream's gateway did not become ready")


class Watcher(threading.Thread):
    """A long-lived operator connection (as a UI's) that keeps every agent and chat event."""

    def __init__(self, token: str) -> None:
        super().__init__(daemon=True)
        self.client = GatewayClient(f"ws://127.0.0.1:{PORT}", token, timeout=30)
        self.client.connect()
        self.events: list[dict[str, Any]] = []
        self.stop = False

    def run(self) -> None:
        ws = self.client._ws
        while not self.stop and ws is not None:
            try:
                msg = json.loads(ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            if msg.get("type") == "event" and msg.get("event") in ("agent", "chat"):
                self.events.append({"event": msg["event"], "payload": msg["payload"]})

    def take(self) -> list[dict[str, Any]]:
        out, self.events = self.events, []
        return out

    def until_terminal(self, run_id: str) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if any(e["event"] == "chat" and e["payload"].get("runId") == run_id
                   and e["payload"].get("state") in ("final", "aborted", "error") for e in self.events):
                time.sleep(3)  # the lifecycle events that follow
                return
            time.sleep(0.2)
        raise SystemExit(f"run {run_id} did not end")


def turn(token: str, method: str, params: dict[str, Any], abort_key: str | None = None) -> str:
    client = GatewayClient(f"ws://127.0.0.1:{PORT}", token, timeout=600)
    client.connect()
    run_id = str(uuid.uuid4())
    if abort_key is None:
        client.call(method, {**params, "idempotencyKey": run_id}, expect_final=method == "agent")
    else:
        client.call(method, {**params, "idempotencyKey": run_id})
        deadline = time.monotonic() + 600
        while not any(e.get("event") == "chat" and (e.get("payload") or {}).get("state") == "delta"
                      for e in client.events) and time.monotonic() < deadline:
            msg = client._recv(deadline)
            if msg.get("type") == "event":
                client.events.append(msg)
        client.call("chat.abort", {"sessionKey": abort_key, "runId": run_id})
    client.close()
    return run_id


def main() -> None:
    home = tempfile.mkdtemp(prefix="openclaw-turns-")
    env = {**os.environ, "HOME": home}
    model = ModelStandin().start()
    subprocess.run([upstream_bin(), "onboard", "--non-interactive", "--accept-risk", "--skip-daemon",
                    "--skip-health", "--gateway-port", str(PORT)], env=env, capture_output=True, timeout=600,
                   check=True)
    config_path = Path(home) / ".openclaw" / "openclaw.json"
    config = json.loads(config_path.read_text())
    config["models"] = {"providers": {"local": {"baseUrl": model.openai_url, "apiKey": "k",
                                                "api": "openai-completions",
                                                "models": [{"id": "qwen", "name": "Qwen"}]}}}
    config["agents"]["defaults"]["model"] = "local/qwen"
    config_path.write_text(json.dumps(config, indent=2))
    token = config["gateway"]["auth"]["token"]
    gateway = subprocess.Popen([upstream_bin(), "gateway", "run"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(token)
        agent_json = cli(env, "agent", "--session-id", "Xone", "--message", "hello one", "--json")
        watcher = Watcher(token)
        watcher.start()
        model.script(Reply(text="Hello there, this is a streamed reply from the stand-in.", chunk=6, delay_s=0.3))
        turn(token, "agent", {"message": "stream please", "sessionKey": "agent:main:rec1"})
        time.sleep(3)
        agent_events = watcher.take()
        model.script(Reply(text="Once upon a time there was a small gateway that streamed.", chunk=6, delay_s=0.3))
        watcher.until_terminal(turn(token, "chat.send", {"sessionKey": "agent:main:rec2", "message": "a story"}))
        chat_events = watcher.take()
        model.script(Reply(text="Once upon a time there was a gateway that streamed very slowly, word by word.",
                           chunk=4, delay_s=1.0))
        watcher.until_terminal(turn(token, "chat.send", {"sessionKey": "agent:main:rec3", "message": "a story"},
                                    abort_key="agent:main:rec3"))
        stopped_events = watcher.take()
        watcher.stop = True
        routing = session_routing(env, agent_events)
    finally:
        os.killpg(gateway.pid, 15)
        gateway.wait(timeout=60)
        model.stop()
    text = json.dumps(agent_json).replace(home, "/home/user")
    agent_json = json.loads(text)
    report = agent_json["result"]["meta"]["systemPromptReport"]
    for key in ("injectedWorkspaceFiles",):
        report[key] = report[key][:1]
    for key in ("skills", "tools"):
        report[key]["entries"] = report[key]["entries"][:1]
    OUT.write_text(json.dumps({
        "_recorded": ("upstream openclaw gateway (fresh HOME, onboard --non-interactive, a stand-in "
                      "OpenAI-compatible model local/qwen); events seen by a second operator connection; "
                      "by scripts/upstream_turns.py"),
        "agentJson": agent_json, "agentMethodEvents": agent_events, "chatSendEvents": chat_events,
        "chatSendStoppedEvents": stopped_events, "sessionIdRouting": routing}, indent=1))
    print(OUT)


def session_routing(env: dict[str, str], agent_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which session upstream's `agent` runs on for each way of naming one by id."""
    rec1 = next(e["payload"]["sessionId"] for e in agent_events if e["payload"].get("sessionId"))
    cases = [["--session-id", "Xone"], ["--session-id", rec1], ["--session-id", "agent:main:Foo"],
             ["--session-id", "Q9", "--session-key", "agent:main:kk"], ["--session-id", "Zed", "--to", "+15551234567"]]
    out = []
    for args in cases:
        meta = cli(env, "agent", *args, "--message", "which session?", "--json")["result"]["meta"]
        shown = ["<id of agent:main:rec1>" if a == rec1 else a for a in args]
        session_id = meta["agentMeta"]["sessionId"]
        out.append({"argv": ["agent", *shown], "sessionKey": meta["systemPromptReport"]["sessionKey"],
                    "sessionId": "<id of agent:main:rec1>" if session_id == rec1 else session_id})
    return out


if __name__ == "__main__":
    main()
