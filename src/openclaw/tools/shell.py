"""`exec`: a shell command in the workspace, in its own process group, with a time and output limit.

It runs inside the call's confinement (`sandbox.confine`): the instance fence, or the full sandbox
for sessions it covers, with an environment that holds none of the gateway's secrets. Stopping the
run (or the time limit) kills the whole group; inside bubblewrap the command and everything it
started die with their PID namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.models.types import ToolSpec
from openclaw.sandbox.confine import Refused, ToolSandbox
from openclaw.tools.approvals import approvals_for, gate

DEFAULT_TIMEOUT_S = 60
MAX_TIMEOUT_S = 600
MAX_OUTPUT = 20_000  # characters kept: the head and the tail


def _killpg(proc: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    _killpg(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 2)
    except TimeoutError:
        _killpg(proc, signal.SIGKILL)
        await proc.wait()


async def _collect(stream: asyncio.StreamReader) -> tuple[str, int]:
    """Output with the middle dropped past MAX_OUTPUT; (text, characters dropped)."""
    head, tail, dropped = "", "", 0
    while chunk := await stream.read(65536):
        text = chunk.decode("utf-8", errors="replace")
        if len(head) < MAX_OUTPUT // 2:
            take = MAX_OUTPUT // 2 - len(head)
            head, text = head + text[:take], text[take:]
        tail += text
        if len(tail) > MAX_OUTPUT // 2:
            dropped += len(tail) - MAX_OUTPUT // 2
            tail = tail[-(MAX_OUTPUT // 2):]
    return head + (f"\n[... {dropped} characters cut ...]\n" if dropped else "") + tail, dropped


async def run_exec(args: dict[str, Any], ctx: ToolContext, sandbox: ToolSandbox) -> str:
    command = args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ToolError("command is required")
    limit = min(MAX_TIMEOUT_S, max(1, int(args.get("timeout") or DEFAULT_TIMEOUT_S)))
    refused = await gate(approvals_for(sandbox.paths.state_dir), ctx.agent_id, ctx.session_key, command,
                         str(ctx.workspace))
    if refused:
        raise ToolError(refused)
    confined = await sandbox.confine(ctx.agent_id, ctx.session_key, ctx.workspace, ctx.readable)
    try:
        argv = await asyncio.to_thread(confined.command, ["/bin/sh", "-c", command])
    except Refused as exc:
        raise ToolError(str(exc)) from None
    # the run's skill variables where the command's environment has none (not in a sandbox, as upstream)
    env = confined.env if confined.view.sandboxed else {**ctx.extra_env, **confined.env}
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=confined.view.workdir, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True, env=env,
    )
    assert proc.stdout is not None
    reading = asyncio.ensure_future(_collect(proc.stdout))
    try:
        await asyncio.wait_for(proc.wait(), limit)
    except TimeoutError:
        await _stop(proc)
        output, _ = await reading
        return f"{output}\n[killed after {limit}s]"
    except asyncio.CancelledError:  # the run was stopped
        await asyncio.shield(_stop(proc))
        reading.cancel()
        raise
    output, _ = await reading
    return f"{output}\n[exit code {proc.returncode}]" if output else f"[exit code {proc.returncode}]"


def exec_tool(sandbox: ToolSandbox) -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        return await run_exec(args, ctx, sandbox)

    return Tool(ToolSpec("exec", "Run a shell command in the workspace; returns its output and exit code.",
                         {"type": "object", "properties": {"command": {"type": "string"},
                                                           "timeout": {"type": "integer",
                                                                       "description": "seconds (default 60)"}},
                          "required": ["command"]}), run, kind="exec")
