#!/usr/bin/env python3
"""What the MCP client costs: loading it, each stdio tool call, and an idle gateway's memory.

1. Import time and RSS of the client a gateway loads on the first turn with `mcp.servers`, next to
   the `mcp` SDK's client modules (each in a fresh interpreter that already holds what a gateway
   turn has loaded: aiohttp, pydantic, the agent runtime and the other tools).
2. One stdio `tools/call` (the test server's `echo`), median of many: through the gateway's whole
   path (the agent tool, the manager, the session, the fenced launcher), through the session alone,
   and with a bare client writing a line and reading a line (the server's own time plus the pipe).
   The client's share is the difference from the bare client.
3. Idle gateway RSS with no `mcp` config and with a server configured (nothing loads until a turn),
   and after one turn that connects the server.

    python bench/mcp.py [--calls 500] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SERVER = str(HERE.parent / "tests" / "mcp_servers" / "echo_server.py")

from agent_turns import Standin  # noqa: E402
from run import PY, Bench, import_cost, memory, publish, wait_healthy  # noqa: E402

PRELOAD = """import aiohttp, asyncio, pydantic  # a gateway holds these
import openclaw.agents.runtime, openclaw.tools.files, openclaw.tools.shell, openclaw.tools.web  # and, on a turn"""
IMPORTS = {
    "this project: openclaw.mcp (session, stdio, HTTP, SSE, manager) + tools.mcp":
        "import openclaw.mcp.manager, openclaw.tools.mcp",
    "mcp SDK 2.x: mcp.client.session + stdio + streamable_http + sse":
        "import mcp.client.session, mcp.client.stdio, mcp.client.streamable_http, mcp.client.sse",
}


def imports(runs: int) -> dict[str, Any]:
    return {name: import_cost(code, PRELOAD, runs) for name, code in IMPORTS.items()}


def _request(i: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                       "params": {"name": "echo", "arguments": {"text": "x"}}}).encode() + b"\n"


def bare(calls: int) -> list[float]:
    """The floor: a blocking client that writes one line and reads one line per call."""
    proc = subprocess.Popen([PY, SERVER, "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    hello = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
    proc.stdin.write(json.dumps(hello).encode() + b"\n")
    proc.stdin.flush()
    proc.stdout.readline()
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    times = []
    for i in range(1, calls + 1):
        started = time.perf_counter()
        proc.stdin.write(_request(i))
        proc.stdin.flush()
        proc.stdout.readline()
        times.append((time.perf_counter() - started) * 1000)
    proc.terminate()
    proc.wait(10)
    return times


async def through_session(calls: int) -> list[float]:
    from openclaw.mcp.session import McpSession
    from openclaw.mcp.stdio import StdioProcess

    session = McpSession(StdioProcess([PY, SERVER, "stdio"], ".", dict(os.environ), lambda _l: None), "bench")
    await session.open(30)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await session.call_tool("echo", {"text": "x"}, 10)
        times.append((time.perf_counter() - started) * 1000)
    await session.close()
    return times


async def through_gateway_path(calls: int, home: Path) -> tuple[list[float], str]:
    """The agent tool a turn calls: manager, session and the fenced launcher, as a gateway runs it."""
    from openclaw.agents.tools import ToolContext
    from openclaw.config.view import Config
    from openclaw.mcp.manager import McpManager
    from openclaw.profiles.paths import resolve_paths
    from openclaw.tools.mcp import mcp_tools

    env = {**os.environ, "HOME": str(home)}
    config = Config({"mcp": {"servers": {"echo": {"command": PY, "args": [SERVER, "stdio"]}}}})
    manager = McpManager(resolve_paths(env), lambda: config, env)
    await manager.ready(30)
    [tool] = [t for t in mcp_tools(manager) if t.name == "echo__echo"]
    fence = "bubblewrap" if any("bwrap" in " ".join(p.cmdline()) for p in _children()) else "landlock or none"
    ctx = ToolContext(home, "main", "agent:main:main", True)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await tool.run({"text": "x"}, ctx)
        times.append((time.perf_counter() - started) * 1000)
    await manager.close()
    return times, fence


def _children() -> list[Any]:
    import psutil

    return psutil.Process().children(recursive=True)


def calls(n: int) -> dict[str, Any]:
    floor = bare(n)
    session = asyncio.run(through_session(n))
    with tempfile.TemporaryDirectory() as tmp:
        path, fence = asyncio.run(through_gateway_path(n, Path(tmp)))
    base = statistics.median(floor)
    return {"calls": n, "bare_ms": base, "session_ms": statistics.median(session),
            "tool_ms": statistics.median(path), "fence": fence,
            "session_added_ms": statistics.median(session) - base, "tool_added_ms": statistics.median(path) - base,
            "tool_p90_ms": sorted(path)[int(0.9 * len(path))]}


def idle(settle: float) -> dict[str, float]:
    """Idle RSS: no mcp config, a server configured (not yet used), and that server after one turn."""
    out: dict[str, float] = {}
    standin = Standin()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        try:
            for profile, servers in (("plain", None), ("mcp", {"echo": {"command": PY, "args": [SERVER, "stdio"]}})):
                port = bench.setup(profile)
                bench.cli("--profile", profile, "config", "set", "models.providers.stand",
                          json.dumps({"baseUrl": standin.url, "apiKey": "k"}))
                bench.cli("--profile", profile, "config", "set", "agents.defaults.model", "stand/m1")
                if servers:
                    bench.cli("--profile", profile, "config", "set", "mcp.servers", json.dumps(servers))
                proc = bench.start(profile)
                wait_healthy(port, proc)
                time.sleep(settle)
                out[f"{profile}_idle_mb"] = memory(proc.pid)["rss"]
                bench.cli("--profile", profile, "agent", "-m", "hello")
                time.sleep(settle)
                out[f"{profile}_after_turn_mb"] = memory(proc.pid)["rss"]
        finally:
            bench.stop_all()
            standin.stop()
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = ["| Client | Import (median) | RSS added | Modules |", "|---|---|---|---|"]
    for name, f in r["imports"].items():
        lines.append(f"| {name} | not installed | - | - |" if f is None else
                     f"| {name} | {f['ms']:.0f} ms | {f['mb']:.1f} MB | {f['modules']:.0f} |")
    c = r["calls"]
    lines += ["", f"| stdio `tools/call` (median of {c['calls']}) | ms | added over the bare client |", "|---|---|---|",
              f"| bare client (the server's own time + pipe) | {c['bare_ms']:.2f} | - |",
              f"| McpSession (our client alone) | {c['session_ms']:.2f} | {c['session_added_ms']:.2f} |",
              f"| agent tool → manager → session, fenced ({c['fence']}) | {c['tool_ms']:.2f} | "
              f"{c['tool_added_ms']:.2f} (p90 {c['tool_p90_ms']:.2f} ms total) |"]
    i = r["idle"]
    lines += ["", "| Gateway RSS | no mcp config | a stdio server configured |", "|---|---|---|",
              f"| idle, before any turn | {i['plain_idle_mb']:.1f} MB | {i['mcp_idle_mb']:.1f} MB |",
              f"| after one turn | {i['plain_after_turn_mb']:.1f} MB | {i['mcp_after_turn_mb']:.1f} MB |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per import figure")
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"imports": imports(args.runs), "calls": calls(args.calls), "idle": idle(args.settle)}
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
