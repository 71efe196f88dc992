"""The agent's tools, in-process: files and their limits, exec and its process group, web_fetch and
private addresses."""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
from helpers import wait_for

from openclaw.agents.tools import ToolContext, ToolError, select
from openclaw.config.view import Config
from openclaw.profiles.paths import resolve_paths
from openclaw.sandbox.confine import ToolSandbox
from openclaw.tools.files import file_tools
from openclaw.tools.shell import run_exec
from openclaw.tools.web import fetch, public


def sandbox() -> ToolSandbox:
    return ToolSandbox(resolve_paths(os.environ), lambda: Config({}), os.environ)


def ctx(tmp_path: Path, operator: bool = True) -> ToolContext:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    return ToolContext(workspace, "main", "agent:main:main", operator)


def call(tool_name: str, args: dict[str, Any], context: ToolContext, _state_dirs: list[Path] | None = None) -> str:
    tools = {t.name: t for t in file_tools(sandbox())}
    return asyncio.run(tools[tool_name].run(args, context))


def exec_(args: dict[str, Any], context: ToolContext) -> Any:
    return run_exec(args, context, sandbox())


def test_files_in_the_workspace_and_never_in_a_state_dir(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    state = resolve_paths(os.environ).home / ".openclaw-rescue"
    state.mkdir()
    (state / "openclaw.json").write_text('{"token": "secret"}')
    (tmp_path / ".openclaw-rescue").symlink_to(state)
    assert call("write", {"path": "notes/a.txt", "content": "one\ntwo\nthree\n"}, c, [state]).startswith("wrote")
    assert call("read", {"path": "notes/a.txt"}, c, [state]) == "one\ntwo\nthree"
    assert call("read", {"path": "notes/a.txt", "offset": 1, "limit": 1}, c, [state]).startswith("two\n[... 1 more")
    edited = call("edit", {"path": "notes/a.txt", "old_text": "two", "new_text": "2"}, c, [state])
    assert edited.startswith("replaced 1")
    call("write", {"path": "b.txt", "content": "x x"}, c, [state])
    with pytest.raises(ToolError, match="occurs 2 times"):
        call("edit", {"path": "b.txt", "old_text": "x", "new_text": "y"}, c, [state])
    for path in (str(state / "openclaw.json"), "../.openclaw-rescue/openclaw.json"):
        with pytest.raises(ToolError, match="off limits"):
            call("read", {"path": path}, c, [state])
    (c.workspace / "link").symlink_to(state)
    with pytest.raises(ToolError, match="off limits"):
        call("read", {"path": "link/openclaw.json"}, c, [state])


def test_selection_drops_mutating_tools_for_strangers_and_applies_allow_deny() -> None:
    tools = file_tools(sandbox())
    assert [t.name for t in select(tools, Config({}), "main", operator=False)] == ["read"]
    config = {"agents": {"entries": {"main": {"tools": {"deny": ["edit"]}}}}}
    assert [t.name for t in select(tools, Config(config), "main", operator=True)] == ["read", "write"]
    assert [t.name for t in select(tools, Config({"tools": {"allow": ["write"]}}), "main", True)] == ["write"]


def _running(word: str) -> list[psutil.Process]:
    """Live processes (any pid namespace) whose command line holds `word`."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if word in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_exec_runs_in_the_workspace_and_its_time_limit_kills_the_group(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    out = asyncio.run(exec_({"command": "pwd; echo err >&2; exit 3"}, c))
    assert out.splitlines()[0] == str(c.workspace) and "err" in out and out.endswith("[exit code 3]")
    nap = f"300.{random.randrange(10**6):06d}"
    out = asyncio.run(exec_({"command": f"sleep {nap} & sleep {nap} & wait", "timeout": 1}, c))
    assert out.endswith("[killed after 1s]")
    wait_for(lambda: not _running(f"sleep {nap}"), 10, what="the command's children to be gone")


def test_exec_output_is_capped(tmp_path: Path) -> None:
    out = asyncio.run(exec_({"command": "yes line | head -c 200000"}, ctx(tmp_path)))
    assert len(out) < 21_000 and "characters cut" in out


def test_a_stopped_run_kills_its_command(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    marker = c.workspace / "started"
    nap = f"300.{random.randrange(10**6):06d}"

    async def go() -> None:
        task = asyncio.ensure_future(exec_({"command": f"echo yes > started; sleep {nap}"}, c))
        while not marker.exists() or not marker.read_text().strip():  # noqa: ASYNC110 - the child writes it
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    wait_for(lambda: not _running(f"sleep {nap}"), 10, what="the command to be gone")


@pytest.fixture
def local_site() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/hop":
                self.send_response(302)
                self.send_header("Location", "/page")
                self.end_headers()
                return
            body = b"<html><script>x()</script><h1>Hello</h1><p>private page</p></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_web_fetch_refuses_this_host_unless_allowed(local_site: int) -> None:
    with pytest.raises(ToolError, match="loopback or private address"):
        asyncio.run(fetch(f"http://127.0.0.1:{local_site}/page", allow_private=False))
    with pytest.raises(ToolError, match="loopback or private address"):
        asyncio.run(fetch(f"http://localhost:{local_site}/hop", allow_private=False))
    status, kind, text = asyncio.run(fetch(f"http://127.0.0.1:{local_site}/hop", allow_private=True))
    assert status == 200 and "html" in kind and "private page" in text
    assert not public("10.1.2.3") and not public("169.254.169.254") and not public("::1") and public("1.1.1.1")
    assert not public("::ffff:127.0.0.1")  # mapped loopback is loopback


def test_the_browser_tool_opens_web_pages_only(tmp_path: Path) -> None:
    """The browser runs outside the fence: a file: URL would read any file of this host."""
    from openclaw.tools.browser import browser_tool, web_url

    tool = browser_tool(lambda: pytest.fail("a refused URL never reaches the browser service"))
    for url in ("file:///etc/passwd", "FILE:///x", "chrome://settings", "view-source:file:///etc/hosts",
                "javascript:alert(1)", "data:text/html,<b>x</b>"):
        with pytest.raises(ToolError, match="http\\(s\\) pages only"):
            asyncio.run(tool.run({"action": "open", "url": url}, ctx(tmp_path)))
    assert web_url("example.com/a") == "https://example.com/a" and web_url("about:blank") == "about:blank"
