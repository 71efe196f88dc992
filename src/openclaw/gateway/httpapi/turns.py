"""Running one agent turn for an HTTP caller: its text as it streams, and the run stopped when
the caller goes away (an HTTP client that disconnects must not keep a model busy) or falls so
far behind a stream that the reply would pile up here (a slow reader, cut like a WebSocket one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from openclaw import logfile
from openclaw.gateway.httpserve import CUT, gone, let_go, unsent, while_read

if TYPE_CHECKING:
    from openclaw.agents.run import Run, RunEvent
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.httpapi.common import ApiError, Prompt
    from openclaw.gateway.limits import Limits
    from openclaw.gateway.state.context import GatewayContext

DISCONNECT_POLL_S = 0.5


def stop(run: Run) -> None:
    """Cancel this run (not the others of its session)."""
    if run.task is not None and not run.task.done():
        run.task.cancel()


async def start(request: web.Request, gateway: GatewayContext, agents: AgentRuntime, agent: str, key: str,
                prompt: Prompt, api: str, run_id: str) -> Run:
    """Submit the caller's turn as its owner (shared-secret callers are operators, as upstream's); a
    chat command in the last user message is answered at once, without the model."""
    from openclaw.agents.run import TurnInput
    from openclaw.gateway.httpapi.common import ApiError, header
    from openclaw.gateway.httpapi.state import HTTP_API, MAX_IN_FLIGHT
    from openclaw.gateway.state import chatcommands

    command = chatcommands.find(gateway, prompt.latest, "http")
    if command is not None:
        who = chatcommands.sender(f"http@{request.remote or '?'}", "http")
        reply = await chatcommands.answer(gateway, command, who, agents, agent, key)
        return chatcommands.play(chatcommands.answered_run(prompt.latest, reply, agent, key, "http", run_id), reply)
    state = request.app[HTTP_API]()
    if state.full():
        raise ApiError(429, f"{MAX_IN_FLIGHT} HTTP turns are already running or waiting; retry shortly",
                       "rate_limit_exceeded", {"Retry-After": "1"})
    run = agents.submit(TurnInput(
        key, prompt.message, agent_id=agent, operator=True, chat_type="direct",
        channel=header(request, "x-openclaw-message-channel") or "webchat", origin={"channel": "http", "api": api},
        model=header(request, "x-openclaw-model") or None, extra_system=prompt.system, run_id=run_id,
    ))
    state.track(run)
    return run


async def finish(request: web.Request, run: Run) -> Run:
    """Wait for the run; stop it if the client disconnects first."""
    while not run.finished:
        await asyncio.wait([run.done], timeout=DISCONNECT_POLL_S)
        if not run.finished and gone(request):
            stop(run)
            await run.done
    return run


def failure(run: Run) -> ApiError:
    """A run that did not end `ok`, as a short error: what went wrong inside stays in the log
    (one line), never in the reply."""
    from openclaw.gateway.httpapi.common import ApiError

    if run.status == "aborted":
        return ApiError(499, "the agent run was aborted", "aborted")
    logfile.warn(f"HTTP turn {run.id} ended {run.status}: {run.error or 'no detail'}", subsystem="http")
    if run.status == "timeout":
        return ApiError(504, f"the agent run timed out (run {run.id})", "timeout")
    return ApiError(502, f"the agent run failed (run {run.id}; the gateway log has the reason)", "api_error")


async def deltas(request: web.Request, run: Run, limit: int) -> AsyncIterator[str]:
    """The reply's text as the model streams it, merged while the reader is busy; ends when the
    run ends (then check `run.status`). A reader more than `limit` bytes behind (text waiting
    here plus bytes the socket has not sent) is cut off and the run stopped."""
    if run.finished:  # ended before the stream opened (a command's answer, or a very quick turn)
        if run.status == "ok" and run.text:
            yield run.text
        return
    buffered: list[str] = []
    pending = 0
    wake = asyncio.Event()

    def listen(event: RunEvent) -> None:
        nonlocal pending
        delta = event.data.get("delta") if event.stream == "assistant" else None
        if not delta or request.get(CUT):
            return
        buffered.append(delta)
        pending += len(delta)
        wake.set()
        if pending + unsent(request) > limit:
            cut(request, run, limit)

    unsubscribe = run.subscribe(listen)
    run.done.add_done_callback(lambda _: wake.set())
    try:
        while True:
            if buffered:
                text = "".join(buffered)
                buffered.clear()
                pending = 0
                yield text
                continue
            if run.finished or request.get(CUT):
                return
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), DISCONNECT_POLL_S)
            except TimeoutError:
                if gone(request):
                    stop(run)
                    await run.done
                    return
    finally:
        unsubscribe()


def cut(request: web.Request, run: Run, limit: int) -> None:
    """Let go of a reader that is too far behind: its socket closes, its run stops."""
    stop(run)
    let_go(request, f"more than {limit} bytes of its stream unsent (a slow consumer); run {run.id} stopped")


class EventStream:
    """A server-sent event stream whose writes let go of a reader that takes nothing for the
    idle limit (a write otherwise waits for the reader, up to the request's deadline)."""

    def __init__(self, request: web.Request, limits: Limits) -> None:
        self.request = request
        self.limit = limits.http_max_buffered_bytes
        self.idle_s = limits.http_idle_ms / 1000
        self.response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                                    "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def open(self) -> web.StreamResponse:
        await self.response.prepare(self.request)
        return self.response

    async def write(self, data: bytes) -> None:
        await while_read(self.request, self.response.write(data), len(data), self.idle_s)

    def deltas(self, run: Run) -> AsyncIterator[str]:
        return deltas(self.request, run, self.limit)
