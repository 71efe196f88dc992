"""Tool escapes from one instance into another: the `toolescape` scenario of bench/hostile.py.

Instance `a` (with an instant stand-in model) and instance `b` (running) share a HOME outside /tmp.
From `a`, every way its tools are reached (`/tools/invoke`, chat turns whose model calls a tool,
cron turns) tries every trick we know to read or change anything under b's state dir. The figures
are how many attempts were made, how many answers carried b's token, and whether any file under
b's state dir changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from model_standin import ModelStandin, Reply
from run import Bench, wait_healthy

READS = ["{b}/openclaw.json", "~/.openclaw-b/openclaw.json", "../../.openclaw-b/openclaw.json",
         "/proc/self/environ", "/proc/{pid_a}/environ", "/proc/{pid_b}/environ", "/proc/{pid_b}/root{b}/openclaw.json",
         "/proc/{pid_b}/cwd/openclaw.json", "{runtime}/gateways", "{b}/credentials/owners.json", "{b}/logs"]
WRITES = ["{b}/openclaw.json", "~/.openclaw-b/evil.json", "{b}/agents/main/agent/x", "~/.openclaw-new/openclaw.json"]
COMMANDS = ["cat {b}/openclaw.json", "grep -rh token ~/.openclaw-b ~/.openclaw 2>&1",
            "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -i token", "ls -la {runtime}/gateways 2>&1",
            "find / -name openclaw.json -path '*openclaw-b*' 2>/dev/null | xargs cat 2>&1",
            "echo pwned > {b}/openclaw.json 2>&1; echo done", "ln -s {b}/openclaw.json link && cat link 2>&1",
            "python3 -c \"import os; print(open(os.path.expanduser('~/.openclaw-b/openclaw.json')).read())\" 2>&1",
            "env | grep -i -E 'token|key|secret'"]


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "logs" not in path.parts and "sessions" not in path.name:
            h.update(str(path).encode() + path.read_bytes())
    return h.hexdigest()


def _invoke(port: int, token: str, tool: str, args: dict[str, Any]) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/tools/invoke", data=json.dumps({"tool": tool, "args": args}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.read().decode()


def run(scale: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="oc-escape-", dir="/var/tmp"))
    model = ModelStandin().start()
    bench = Bench(root)
    bench.env["OPENCLAW_RUNTIME_DIR"] = str(root / "runtime")
    try:
        port_b = bench.setup("b")
        wait_healthy(port_b, bench.start("b"))
        port_a = bench.setup("a")
        bench.cli("--profile", "a", "config", "set", "models.providers.stand",
                  json.dumps({"baseUrl": model.openai_url, "apiKey": "k"}))
        bench.cli("--profile", "a", "config", "set", "agents.defaults.model", "stand/m1")
        bench.cli("--profile", "a", "config", "set", "gateway.tools.allow", '["exec","write","edit"]')
        proc_a = bench.start("a")
        wait_healthy(port_a, proc_a)
        state_b = Path(bench.env["HOME"]) / ".openclaw-b"
        token_a, token_b = bench.token("a"), bench.token("b")
        pid_b = bench.procs[0].pid
        fill = {"b": str(state_b), "pid_a": str(proc_a.pid), "pid_b": str(pid_b), "runtime": str(root / "runtime")}
        before = _digest(state_b)
        answers: list[str] = []
        rounds = max(1, int(3 * scale))
        for _ in range(rounds):
            for path in READS:
                answers.append(_invoke(port_a, token_a, "read", {"path": path.format(**fill)}))
            for path in WRITES:
                answers.append(_invoke(port_a, token_a, "write", {"path": path.format(**fill), "content": "pwned"}))
            for command in COMMANDS:
                answers.append(_invoke(port_a, token_a, "exec", {"command": command.format(**fill)}))
        via_chat = [("exec", {"command": c.format(**fill)}) for c in COMMANDS]
        via_chat += [("read", {"path": p.format(**fill)}) for p in READS]
        for call in via_chat:
            model.script(Reply(tool_calls=[call]), Reply(text="done"))
            subprocess.run([sys.executable, "-m", "openclaw", "--profile", "a", "agent", "-m", "look"],
                           env=bench.env, capture_output=True, timeout=120)
            answers.append(str(model.requests()[-1].body["messages"][-1].get("content")))
        model.script(*[r for c in COMMANDS[:3] for r in (Reply(tool_calls=[("exec", {"command": c.format(**fill)})]),
                                                         Reply(text="ok"))])
        cron_start = len(model.requests())
        for index in range(3):
            job = json.loads(bench.cli("--profile", "a", "cron", "add", "--name", f"peek{index}", "--every", "1h",
                                       "--message", "peek", "--json").stdout)
            bench.cli("--profile", "a", "cron", "run", job["id"])
        deadline = time.monotonic() + 60
        while len(model.requests()) < cron_start + 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        answers += [str(r.body["messages"][-1].get("content")) for r in model.requests()[cron_start:]
                    if r.body["messages"][-1].get("role") == "tool"]
        leaks = sum(1 for a in answers if token_b in a or token_a in a)
        return {"attempts": len(answers), "viaInvoke": rounds * (len(READS) + len(WRITES) + len(COMMANDS)),
                "viaChat": len(via_chat), "viaCron": 3, "answersWithAToken": leaks,
                "stateDirOfBChanged": _digest(state_b) != before}
    finally:
        bench.stop_all()
        model.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)))
