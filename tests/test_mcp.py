"""The MCP client through real gateways: servers over stdio, streamable HTTP and SSE (small
MCPServer test servers) whose tools the stand-in model calls; filters, timeouts, hot reload, list
changes, the fence, process groups, `openclaw mcp`, and upstream's CLI reading what we write
(in-process parts: test_mcp_client.py)."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers import PY, Env, Gateway, upstream_bin, wait_for
from model_standin import ModelStandin, Reply

SERVER = str(Path(__file__).parent / "mcp_servers" / "echo_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stdio_entry(tag: str, **extra: Any) -> dict[str, Any]:
    return {"command": PY, "args": [SERVER, "stdio", tag], **extra}


def server_processes(tag: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if tag in (proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def gateway_with(env: Env, port: int, gateways: list[Gateway], model: ModelStandin,
                 servers: dict[str, Any], **settings: Any) -> Gateway:
    env.provision(None, port)
    env.use_model(model.openai_url)
    env.set_config(("mcp.servers", json.dumps(servers)), *((k, json.dumps(v)) for k, v in settings.items()))
    gw = env.gateway().start()
    gateways.append(gw)
    return gw.wait_healthy(port)


def turn(env: Env, model: ModelStandin, *replies: Reply, text: str = "go") -> list[dict[str, Any]]:
    """One agent turn through the gateway; the model's requests during it."""
    seen = len(model.requests())
    model.script(*replies)
    env.cli("agent", "-m", text, "--timeout", "60", check=True)
    return [r.body for r in model.requests()[seen:]]


def offered(body: dict[str, Any]) -> list[str]:
    """The MCP tools offered to the model (named `server__tool`)."""
    return sorted(t["function"]["name"] for t in body.get("tools") or [] if "__" in t["function"]["name"])


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


@pytest.fixture
def tag() -> str:
    return f"mcp-test-{random.randrange(10**9)}"


def test_a_stdio_server_tool_is_called_by_the_model_and_its_group_ends_with_the_gateway(
        env: Env, base: int, gateways: list[Gateway], model: ModelStandin, tag: str) -> None:
    gw = gateway_with(env, base, gateways, model, {
        "echo": stdio_entry(tag, toolFilter={"exclude": ["broken", "gr*"]}),
        "dead": {"command": "/bin/false"},  # fails at once: reported, never holds up the others
        "mute": {"command": "sh", "args": ["-c", "sleep 300", f"{tag}-mute"], "connectionTimeoutMs": 1000},  # silent
    })
    requests = turn(env, model, Reply(tool_calls=[
        ("echo__echo", {"text": "hi"}), ("echo__picture", {}), ("echo__resources_read", {"uri": "note://greeting"}),
        ("echo__prompts_get", {"name": "haiku", "arguments": {"topic": "tea"}}), ("echo__resources_list", {})]),
        Reply(text="done"))
    assert offered(requests[0]) == ["echo__add", "echo__clock", "echo__crash", "echo__echo", "echo__look",
                                    "echo__picture", "echo__prompts_get", "echo__prompts_list",
                                    "echo__resources_list", "echo__resources_read", "echo__slow"]
    assert "read" in [t["function"]["name"] for t in requests[0]["tools"]]  # the other tools are there too
    echoed, picture, resource, prompt, resources = tool_results(requests[-1])[-5:]
    assert echoed == "echo: hi"
    assert picture.startswith("a tiny picture\n[image: image/png, ") and picture.endswith(" bytes]")
    assert (resource, prompt) == ("hello from a resource", "user: Write a haiku about tea.")
    assert json.loads(resources)["resources"][0]["uri"] == "note://greeting"
    assert "mcp server dead is unavailable: " in gw.output()  # its pipe closed, or its output ended
    catalog = json.loads(env.cli("gateway", "call", "tools.catalog", "--params", "{}", check=True).stdout)
    [group] = [g for g in catalog["groups"] if g["id"] == "plugin:bundle-mcp"]
    assert group["source"] == "plugin" and [t["id"] for t in group["tools"]][:2] == ["echo__add", "echo__clock"]
    assert "mcp server mute is unavailable: no answer within 1s (connectionTimeoutMs)" in gw.output()
    wait_for(lambda: not server_processes(f"{tag}-mute"), 10, what="the mute server to be stopped")
    procs = server_processes(tag)
    assert procs, "the server runs while the gateway does"
    groups = {p.pid: os_pgid(p.pid) for p in procs}
    assert gw.proc is not None and os_pgid(gw.proc.pid) not in groups.values()  # its own process group
    gw.stop()
    wait_for(lambda: not server_processes(tag), 10, what="the server's processes to be gone")


def os_pgid(pid: int) -> int:
    import os

    return os.getpgid(pid)


def test_a_stdio_server_runs_fenced_with_its_own_env_and_none_of_the_gateways_secrets(
        env: Env, base: int, gateways: list[Gateway], model: ModelStandin, tag: str) -> None:
    env.provision(None, base)
    folder = env.home / ".openclaw" / "workspace" / "srv"  # a relative cwd is the workspace's
    folder.mkdir(parents=True)
    env.use_model(model.openai_url)
    entry = stdio_entry(tag, env={"GREETING": "hello", "PYTHONSTARTUP": "/srv/x.py"}, cwd="srv")
    env.set_config(("mcp.servers", json.dumps({"echo": entry})))
    gw = env.gateway(extra_env={"OPENAI_API_KEY": "sk-not-for-servers"}).start()
    gateways.append(gw)
    gw.wait_healthy(base)
    token = env.token()
    requests = turn(env, model, Reply(tool_calls=[("echo__look", {"variable": "GREETING"}),
                                                  ("echo__look", {"variable": "OPENAI_API_KEY"}),
                                                  ("echo__look", {"variable": "PYTHONSTARTUP"}),
                                                  ("echo__look", {"path": str(env.config_path())})]),
                    Reply(text="done"))
    greeting, key, startup, config = tool_results(requests[-1])[-4:]
    assert startup.startswith("PYTHONSTARTUP=(unset)")  # a start-up key is dropped (and logged), as upstream
    assert greeting == f"GREETING=hello cwd={folder}"
    assert key.startswith("OPENAI_API_KEY=(unset)")
    assert token not in config and config in ("file: ", "file error: Permission denied",
                                              "file error: No such file or directory")


def test_a_server_that_dies_is_started_again_on_the_next_turn(env: Env, base: int, gateways: list[Gateway],
                                                              model: ModelStandin, tag: str) -> None:
    gw = gateway_with(env, base, gateways, model, {"echo": stdio_entry(tag)})
    requests = turn(env, model, Reply(tool_calls=[("echo__crash", {})]), Reply(text="it fell over"))
    assert tool_results(requests[-1])[-1].startswith("error: echo__crash: the connection closed: the server's "
                                                     "output ended")  # with its exit code, when it came in time
    requests = turn(env, model, Reply(tool_calls=[("echo__echo", {"text": "back"})]), Reply(text="done"))
    assert tool_results(requests[-1])[-1] == "echo: back"
    lost = [line for line in gw.output().splitlines() if "mcp server echo is unavailable: connection lost: " in line]
    assert len(lost) == 1 and lost[0].endswith("; trying again now")


def test_a_killed_gateway_leaves_no_server_behind(env: Env, base: int, gateways: list[Gateway],
                                                  model: ModelStandin, tag: str) -> None:
    gw = gateway_with(env, base, gateways, model, {"echo": stdio_entry(tag)})
    turn(env, model, Reply(text="connected"))
    assert server_processes(tag)
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    wait_for(lambda: not server_processes(tag), 10, what="the orphaned server to die with the gateway")


@pytest.fixture
def http_servers() -> Iterator[tuple[int, int, int]]:
    """The test server over streamable HTTP (event-stream and JSON answers) and over SSE, on loopback ports."""
    ports = free_port(), free_port(), free_port()
    procs = [subprocess.Popen([PY, SERVER, mode, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for mode, port in zip(("http", "sse", "http-json"), ports, strict=True)]

    def up(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            return False

    try:
        for port in ports:
            wait_for(lambda p=port: up(p), 20, what=f"the MCP test server on {port}")  # type: ignore[misc]
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def test_servers_over_streamable_http_and_sse(env: Env, base: int, gateways: list[Gateway], model: ModelStandin,
                                               http_servers: tuple[int, int, int]) -> None:
    web, old, plain = http_servers
    gateway_with(env, base, gateways, model, {
        "web": {"url": f"http://127.0.0.1:{web}/mcp", "transport": "streamable-http", "headers": {"X-Test": "1"},
                "toolFilter": {"include": ["echo", "ad?"]}},
        "old": {"url": f"http://127.0.0.1:{old}/sse", "toolFilter": {"include": ["echo"]}},
        "plain": {"url": f"http://127.0.0.1:{plain}/mcp", "type": "http", "toolFilter": {"include": ["echo"]}},
    })
    requests = turn(env, model, Reply(tool_calls=[("web__echo", {"text": "over http"}), ("old__echo", {"text": "sse"}),
                                                  ("web__add", {"a": 2, "b": 3}), ("plain__echo", {"text": "json"})]),
                    Reply(text="done"))
    assert offered(requests[0]) == ["old__echo", "plain__echo", "web__add", "web__echo"]
    assert tool_results(requests[-1])[-4:] == ["echo: over http", "echo: sse", "5.0", "echo: json"]


def test_timeouts_errors_reload_and_list_changes(env: Env, base: int, gateways: list[Gateway], model: ModelStandin,
                                                 tag: str) -> None:
    gw = gateway_with(env, base, gateways, model, {"echo": stdio_entry(tag, requestTimeoutMs=1000),
                                                   "keep": stdio_entry(f"{tag}-keep", toolFilter={"include": ["add"]})})
    requests = turn(env, model, Reply(tool_calls=[("echo__slow", {"seconds": 30}), ("echo__broken", {})]),
                    Reply(text="done"))
    slow, broken = tool_results(requests[-1])[-2:]
    assert slow == "error: echo__slow: tools/call got no answer within 1s (requestTimeoutMs)"
    assert broken.startswith("error: ") and "broken" in broken
    # the server says its list changed: the next turn offers the new tool
    turn(env, model, Reply(tool_calls=[("echo__grow", {})]), Reply(text="grown"))
    wait_for(lambda: "tool list changed" in gw.output(), 10, what="the catalog refreshed")
    assert "echo__extra" in offered(turn(env, model, Reply(text="ok"))[0])
    # a changed entry replaces its server; the unchanged one stays as it is
    before, kept = server_processes(tag), server_processes(f"{tag}-keep")
    env.cli("mcp", "set", "echo", json.dumps(stdio_entry(tag, toolFilter={"include": ["echo"]})), check=True)
    wait_for(lambda: "mcp server echo stopped: its config changed" in gw.output(), 10, what="the reload")
    assert offered(turn(env, model, Reply(text="ok"))[0]) == ["echo__echo", "keep__add"]
    assert before and not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in before)
    assert kept and server_processes(f"{tag}-keep") == kept
    env.cli("config", "set", "tools.deny", '["bundle-mcp"]', check=True)
    wait_for(lambda: "tools.deny" in gw.output(), 10, what="the deny list applied")
    assert offered(turn(env, model, Reply(text="ok"))[0]) == []
    # removed: its processes stop without waiting for a turn
    env.cli("mcp", "unset", "echo", check=True)
    wait_for(lambda: not server_processes(tag), 10, what="the removed server to stop")
    assert server_processes(f"{tag}-keep") == kept


def test_mcp_list_show_and_doctor_probe(env: Env, tag: str) -> None:
    env.setup()
    added = env.cli("mcp", "add", "echo", "--command", PY, "--arg", SERVER, "--arg", "stdio", "--arg", tag,
                    "--exclude", "broken", check=True).stdout
    assert added.startswith("echo: 8 tools (echo__add, ") and "MCP server echo added" in added
    assert env.config()["mcp"]["servers"]["echo"] == stdio_entry(tag, toolFilter={"exclude": ["broken"]})
    away = f"http://127.0.0.1:{free_port()}/mcp"  # nothing listens there
    refused = env.cli("mcp", "add", "away", "--url", away, "--transport", "streamable-http")
    assert refused.returncode == 1 and "away did not answer: cannot reach" in refused.stderr
    assert "nothing saved" in refused.stderr and "away" not in env.config()["mcp"]["servers"]
    assert env.cli("mcp", "add", "both", "--command", "x", "--url", away).returncode == 2
    env.cli("mcp", "set", "away", json.dumps({"url": away, "type": "http", "headers": {"Authorization": "Bearer abc"}}),
            check=True)
    listing = env.cli("mcp", "list", check=True).stdout
    assert listing.splitlines()[1:] == [f"- away: streamable-http {away}", f"- echo: stdio {PY} {SERVER} stdio {tag}"]
    assert list(env.cli_json("mcp", "list")) == ["away", "echo"]
    assert "Bearer abc" not in env.cli("mcp", "show", "away", check=True).stdout
    assert "Bearer abc" not in env.cli("config", "get", "mcp.servers", check=True).stdout  # nor in config.get
    assert env.cli("mcp", "show", "nope").returncode == 1
    probe = env.cli("mcp", "doctor", "--probe")
    assert probe.returncode == 1, probe.stdout
    lines = probe.stdout.splitlines()
    assert "- echo: ok" in lines
    assert any(line.startswith("  - probe: 8 of 9 tools (connect ") and line.endswith(
        "echo__add, echo__clock, echo__crash, echo__echo, echo__grow, echo__look, echo__picture, echo__slow")
        for line in lines)
    assert "  - warning: headers.Authorization holds a literal secret; prefer a ${VAR} reference to the environment" \
        in lines
    [failed] = [line for line in lines if line.startswith("  ! error: probe failed:")]
    assert "cannot reach http://127.0.0.1:" in failed
    report = env.cli_json("mcp", "doctor", "echo", "--probe")
    assert report["ok"] is True and report["servers"][0]["probe"]["listed"] == 9
    [away_status, echo_status] = env.cli_json("mcp", "status")["servers"]
    assert (away_status["transport"], away_status["connectionTimeoutMs"], echo_status["toolFilter"]) == (
        "streamable-http", 30000, {"include": [], "exclude": ["broken"]})
    probed = env.cli_json("mcp", "probe", "echo")
    assert probed["servers"]["echo"]["tools"] == 8 and "echo__look" in probed["tools"] and probed["diagnostics"] == []
    failing = env.cli("mcp", "probe")
    assert failing.returncode == 1 and "! away: cannot reach http://127.0.0.1:" in failing.stdout
    assert env.cli("mcp", "set", "bad", json.dumps({"command": "x", "env": {"LD_PRELOAD": "/x.so"}})).returncode == 78


def test_agent_local_gets_the_servers_and_stops_them(env: Env, base: int, model: ModelStandin, tag: str) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    env.set_config(("mcp.servers", json.dumps({"echo": stdio_entry(tag)})))
    seen = len(model.requests())
    model.script(Reply(tool_calls=[("echo__echo", {"text": "local"})]), Reply(text="done"))
    assert env.cli("agent", "--local", "-m", "go", check=True).stdout.strip() == "done"
    assert tool_results(model.requests()[seen:][-1].body)[-1] == "echo: local"
    assert not server_processes(tag)  # stopped with the run


@pytest.mark.upstream
@pytest.mark.skipif(not upstream_bin(), reason="upstream openclaw CLI not installed")
def test_upstream_reads_the_servers_we_write(env: Env) -> None:
    env.setup()
    env.cli("mcp", "add", "docs", "--url", "http://127.0.0.1:9/mcp", "--transport", "streamable-http",
            "--include", "search,read_*", "--timeout", "20", "--no-probe", check=True)
    env.cli("mcp", "set", "local", json.dumps({"command": "uvx", "args": ["mcp-server-fetch"], "env": {"A": "1"}}),
            check=True)
    upstream = str(upstream_bin())
    listed = subprocess.run([upstream, "mcp", "list", "--json"], env=env.vars, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == env.cli_json("mcp", "list")
    doctor = subprocess.run([upstream, "mcp", "doctor", "--json"], env=env.vars, capture_output=True, text=True,
                            timeout=120)
    assert sorted(s["name"] for s in json.loads(doctor.stdout)["servers"]) == ["docs", "local"]
