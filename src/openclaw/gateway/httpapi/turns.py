"""Running one agent turn for an HTTP caller: its text as it streams, and the run stopped when
the caller goes away (an HTTP client that disconnects must not keep a model busy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from openclaw.agents.run import Run, RunEvent
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.httpapi.common import Prompt
    from openclaw.gateway.httpapi.state import HttpApiState

DISCONNECT_POLL_S = 1.0


def gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def start(request: web.Request, agents: AgentRuntime, state: HttpApiState, agent: str, key: str, prompt: Prompt,
          api: str, run_id: str) -> Run:
    """Submit the caller's turn as its owner (shared-secret callers are operators, as upstream's)."""
    from openclaw.agents.run import TurnInput
    from openclaw.gateway.httpapi.common import ApiError
    from openclaw.gateway.httpapi.state import MAX_IN_FLIGHT

    if state.full():
        raise ApiError(429, f"{MAX_IN_FLIGHT} HTTP turns are already running or waiting; retry shortly",
                       "rate_limit_exceeded", {"Retry-After": "1"})
    run = agents.submit(TurnInput(
        key, prompt.message, agent_id=agent, operator=True, chat_type="direct",
        channel=request.headers.get("x-openclaw-message-channel") or "webchat", origin={"channel": "http", "api": api},
        model=request.headers.get("x-openclaw-model", "").strip() or None, extra_system=prompt.system, run_id=run_id,
    ))
    state.track(run)
    return run


async def finish(request: web.Request, agents: AgentRuntime, run: Run) -> Run:
    """Wait for the run; abort it if the client disconnects first."""
    while not run.finished:
        await asyncio.wait([run.done], timeout=DISCONNECT_POLL_S)
        if not run.finished and gone(request):
            agents.abort(run.session_key)
            await run.done
    return run


async def deltas(request: web.Request, agents: AgentRuntime, run: Run) -> AsyncIterator[str]:
    """The reply's text as the model streams it, merged while the reader is busy (so what waits is
    at most the reply itself); ends when the run ends (then check `run.status`)."""
    buffered: list[str] = []
    wake = asyncio.Event()

    def listen(event: RunEvent) -> None:
        if event.stream == "assistant" and event.data.get("delta"):
            buffered.append(event.data["delta"])
            wake.set()

    unsubscribe = run.subscribe(listen)
    run.done.add_done_callback(lambda _: wake.set())
    try:
        while True:
            if buffered:
                text = "".join(buffered)
                buffered.clear()
                yield text
                continue
            if run.finished:
                return
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), DISCONNECT_POLL_S)
            except TimeoutError:
                if gone(request):
                    agents.abort(run.session_key)
                    await run.done
                    return
    finally:
        unsubscribe()


async def sse_response(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    return response
