"""The MCP client in-process: upstream's tool names, the tool policy's groups and globs, config
spellings and refusals, how results read, a server that floods its output, and the CLI's reading
commands staying light."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import PY, Env

from openclaw.agents.tools import Tool, select
from openclaw.config.validate import validate_config
from openclaw.config.view import Config
from openclaw.mcp.config import read_server
from openclaw.mcp.naming import server_names, tool_name
from openclaw.models.types import ToolSpec


def test_tool_names_follow_upstream_rules() -> None:
    prefixes = server_names(["docs", "Docs", "my server!", "", "9lives", "x" * 40])
    assert prefixes == {"docs": "docs", "Docs": "Docs-2", "my server!": "my-server-", "": "mcp",
                        "9lives": "mcp-9lives", "x" * 40: "x" * 30}
    taken: set[str] = set()
    assert tool_name("docs", "search", taken) == "docs__search"
    assert tool_name("docs", "Search", taken) == "docs__Search-2"  # collisions ignore case
    assert tool_name("docs", "read.file", taken) == "docs__read-file"
    assert tool_name("docs", "_private", taken) == "docs__tool-_private"
    long = tool_name("x" * 30, "y" * 80, taken)
    assert len(long) == 64 and long.startswith("x" * 30 + "__y")


def test_policy_drops_mcp_tools_by_group_and_glob() -> None:
    async def run(_args: dict[str, Any], _ctx: Any) -> str:
        return ""

    def tool(name: str, group: str = "") -> Tool:
        return Tool(ToolSpec(name, "", {"type": "object"}), run, kind="act" if group else "read", group=group)

    tools = [tool("read"), tool("docs__search", "bundle-mcp"), tool("web__fetch", "bundle-mcp")]

    def kept(policy: dict[str, Any]) -> list[str]:
        return [t.name for t in select(tools, Config({"tools": policy}), "main", operator=True)]

    assert kept({}) == ["read", "docs__search", "web__fetch"]
    assert kept({"deny": ["bundle-mcp"]}) == ["read"]
    assert kept({"deny": ["docs__*"]}) == ["read", "web__fetch"]
    assert kept({"allow": ["read", "web__*"]}) == ["read", "web__fetch"]
    assert [t.name for t in select(tools, Config({}), "main", operator=False)] == ["read"]  # `act`: owners only


def test_config_reads_upstream_spellings_and_drops_loader_keys() -> None:
    entry = read_server("w", {"url": "https://x.example/mcp", "type": "http", "connectionTimeoutMs": 5000})
    assert (entry.transport, entry.connect_timeout_s, entry.request_timeout_s) == ("streamable-http", 5.0, 60.0)
    assert read_server("s", {"url": "http://x/sse"}).transport == "sse"  # no transport: legacy SSE
    stdio = read_server("c", {"command": "uvx", "workingDirectory": "/srv", "env": {"N": 1, "B": True}})
    assert (stdio.transport, stdio.cwd, stdio.env) == ("stdio", "/srv", (("N", "1"), ("B", "true")))
    tls = read_server("t", {"url": "https://x/mcp", "ssl_verify": False, "clientCert": "~/c.pem", "clientKey": "k"})
    assert (tls.tls_verify, tls.client_cert, tls.client_key, tls.problem) == (False, "~/c.pem", "k", "")
    assert "auth: oauth is not supported" in read_server("o", {"url": "https://x/mcp", "auth": "oauth"}).problem
    _, issues = validate_config({"mcp": {"servers": {"c": {"command": "node", "env": {"NODE_OPTIONS": "-r x"}}}}})
    assert issues == []  # upstream starts with such an entry (and drops the key): so do we
    hooked = read_server("c", {"command": "node", "env": {"NODE_OPTIONS": "-r x", "LD_PRELOAD": "/x.so", "K": "v"}})
    assert (hooked.env, hooked.dropped_env, hooked.problem) == ((("K", "v"),), ("NODE_OPTIONS", "LD_PRELOAD"), "")
    _, issues = validate_config({"mcp": {"servers": {"c": {"url": "ws://x"}}}})
    assert "not an http:// or https:// URL" in issues[0].message
    _, issues = validate_config({"mcp": {"servers": {"ok": {"url": "http://x", "type": "http", "oauth": {}}}}})
    assert issues == []


def test_a_servers_program_folders_are_given_back(tmp_path: Path) -> None:
    """What the fence gives back read-only for a stdio server: its virtualenv (not just bin/), the
    folder of a program found on PATH, and the folder of each absolute path among its arguments."""
    from openclaw.mcp.launch import program_folders

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    script = tmp_path / "servers" / "echo.py"
    script.parent.mkdir()
    script.write_text("")
    server = read_server("s", {"command": str(python), "args": [str(script), "stdio", "/no/such/file"]})
    assert program_folders(server, {"PATH": "/usr/bin"}) == (venv, script.parent)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "srv").write_text("#!/bin/sh\n")
    (tools / "srv").chmod(0o755)
    assert program_folders(read_server("t", {"command": "srv"}), {"PATH": str(tools)}) == (tools,)


def test_results_become_text_the_model_reads() -> None:
    from openclaw.tools.mcp import render

    content = [{"type": "text", "text": "hello"}, {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
               {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside"}},
               {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAAA", "mimeType": "app/x"}},
               {"type": "resource_link", "uri": "file:///c", "name": "c"}, {"type": "hologram"}]
    assert render({"content": content}).splitlines() == [
        "hello", "[audio: audio/wav, 3 bytes]", "inside", "[resource file:///b.bin: app/x]",
        "[resource link: c file:///c]", "[hologram content]"]
    assert render({"content": [], "structuredContent": {"n": 1}}) == '{"n": 1}'
    assert render({}) == "(the tool returned no content)"


HOSTILE = r'''
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("method") == "initialize":
        print("not json at all", flush=True)
        print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"protocolVersion": "2025-06-18",
              "capabilities": {}, "serverInfo": {"name": "hostile"}}}), flush=True)
    elif msg.get("method") == "tools/call":
        sys.stdout.write('{"jsonrpc": "2.0", "id": %d, "result": "%s"}\n' % (msg["id"], "x" * (9 << 20)))
        sys.stdout.flush()
'''


def test_a_server_that_floods_its_output_is_cut_off() -> None:
    import asyncio
    import os

    from openclaw.mcp.session import McpError, McpSession
    from openclaw.mcp.stdio import StdioProcess

    noise: list[str] = []

    async def go() -> str:
        session = McpSession(StdioProcess([PY, "-c", HOSTILE], ".", dict(os.environ), noise.append), "hostile")
        await session.open(20)
        assert session.protocol_version == "2025-06-18" and session.server_info == {"name": "hostile"}
        try:
            await session.call_tool("flood", {}, 20)
        except McpError as exc:
            return str(exc)
        finally:
            await session.close()
        return "answered"

    assert asyncio.run(go()) == "the connection closed: the server wrote a line longer than 8388608 bytes"
    assert noise == ["(not JSON on stdout) not json at all"]



@pytest.mark.parametrize("command", ["list", "show", "status"])
def test_reading_commands_stay_light(env: Env, command: str) -> None:
    """Reading the config loads neither the client (aiohttp) nor validation (pydantic)."""
    env.write_config({"gateway": {"mode": "local"}, "mcp": {"servers": {"w": {"url": "http://x/mcp"}}}})
    proc = subprocess.run([PY, "-X", "importtime", "-m", "openclaw", "mcp", command], env=env.vars,
                          capture_output=True, text=True, timeout=60, check=True)
    loaded = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
              if line.startswith("import time:") and "|" in line}
    assert not loaded & {"aiohttp", "pydantic", "rich"}
