"""The stdio transport: a server process speaking newline-delimited JSON on its stdin and stdout.

The process leads its own process group; closing the transport ends the group (SIGTERM, then
SIGKILL), so whatever the server started goes with it. Its stderr is drained line by line into the
gateway's log, each line cut short and only so many lines per start, so a chatty server can neither
block on a full pipe nor flood the log. A line on stdout is bounded too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openclaw.mcp.session import Closed, Deliver, McpError

MAX_LINE_BYTES = 8 * 1024 * 1024
STDERR_LINE_CHARS = 500
STDERR_LINES = 200  # logged per start; the rest is read and dropped
STOP_GRACE_S = 2.0
EXIT_WAIT_S = 1.0  # for the exit code of a server whose output ended, to say how it ended


class StdioProcess:
    def __init__(self, argv: Sequence[str], cwd: str, env: Mapping[str, str],
                 on_stderr: Callable[[str], None]) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.on_stderr = on_stderr
        self.proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def negotiated(self, protocol_version: str) -> None:
        pass

    async def start(self, deliver: Deliver, closed: Closed) -> None:
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
                limit=MAX_LINE_BYTES)
        except OSError as exc:
            raise McpError(f"cannot start {self.argv[0]}: {exc.strerror or exc}") from None
        self._tasks = [asyncio.ensure_future(self._read(deliver, closed)), asyncio.ensure_future(self._drain())]

    async def _read(self, deliver: Deliver, closed: Closed) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        reason = "the server's output ended"
        try:
            while line := await self.proc.stdout.readline():
                if not line.strip():
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    self.on_stderr(f"(not JSON on stdout) {line[:STDERR_LINE_CHARS].decode(errors='replace').strip()}")
                    continue
                deliver(message)
        except (ValueError, asyncio.LimitOverrunError):
            reason = f"the server wrote a line longer than {MAX_LINE_BYTES} bytes"
        code = await self._exit_code()
        closed(f"{reason}" + (f" (exit code {code})" if code is not None else ""))

    async def _exit_code(self) -> int | None:
        assert self.proc is not None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.proc.wait(), EXIT_WAIT_S)
        return None

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        logged = 0
        while True:
            try:
                line = await self.proc.stderr.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue  # an overlong line: the reader skipped it
            if not line:
                return
            logged += 1
            if logged <= STDERR_LINES:
                self.on_stderr(line[:STDERR_LINE_CHARS].decode("utf-8", errors="replace").rstrip())
            elif logged == STDERR_LINES + 1:
                self.on_stderr(f"(further stderr dropped after {STDERR_LINES} lines)")

    async def send(self, message: dict[str, Any]) -> None:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise McpError("the server process is not running")
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        async with self._write_lock:
            try:
                proc.stdin.write(data)
                await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                raise McpError("the server process closed its input") from None

    async def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        _killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        _killpg(proc.pid, signal.SIGKILL)  # the server's own children, whatever the leader did
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        for task in self._tasks:
            task.cancel()


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
