"""One agent run: a message in, the model (and its tools) at work, a reply out.

A run is observable while it works: listeners get, as upstream names them,
`run_status` (preparing_workspace, preparing_context, starting_model),
`lifecycle` (start, model, finishing, end, error), `assistant` (text
deltas), `usage` and `tool` (call, result) events, and anyone may await
`done`. The reply is the last round's text; `NO_REPLY` makes it silent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openclaw.models.types import Usage


@dataclass(frozen=True)
class TurnInput:
    session_key: str
    text: str
    agent_id: str | None = None  # None: the default agent
    operator: bool = False  # an owner or allow-listed sender: may use tools that change things
    channel: str | None = None
    chat_type: str | None = None  # direct | group
    origin: dict[str, Any] = field(default_factory=dict)
    model: str | None = None  # a strict model choice for this run (no fallbacks)
    run_id: str | None = None  # the caller's idempotency key
    timeout_s: float | None = None  # this run's deadline instead of agents.defaults.timeoutSeconds
    extra_system: str | None = None  # the caller's own instructions (an HTTP client's system messages)
    resumed: bool = False  # a message answered again after a stop: its text may be stored already
    session_id: str | None = None  # the id a session created by this run gets (`agent --session-id`)
    light_context: bool = False  # leave the workspace's bootstrap files out of the prompt (a heartbeat's lightContext)


@dataclass(frozen=True)
class RunEvent:
    stream: str  # run_status | lifecycle | assistant | usage | tool
    data: dict[str, Any]


Listener = Callable[[RunEvent], None]


class Run:
    def __init__(self, turn: TurnInput, agent_id: str) -> None:
        self.turn = turn
        self.id = turn.run_id or str(uuid.uuid4())
        self.agent_id = agent_id
        self.session_key = turn.session_key
        self.session_id: str | None = None
        self.status = "queued"  # queued | running | ok | error | aborted | timeout
        self.text = ""  # the reply ("" when silent)
        self.silent = False
        self.error: str | None = None
        self.usage = Usage()
        self.model = ""
        self.stop_reason: str | None = None  # why it ended as upstream says it: stop, rpc (stopped), aborted ...
        self.rounds = 0  # model calls answered
        self.last_usage = Usage()  # the last model call's
        self.finish_reason: str | None = None  # the provider's, for the last call
        self.requested = ""  # the model asked first (provider/model); `model` is the one that answered
        self.report: dict[str, Any] = {}  # what the system prompt was made of (upstream's systemPromptReport)
        self.accepted_at = int(time.time() * 1000)
        self.started_at: int | None = None
        self.ended_at: int | None = None
        # Resolved with None, not with this run: a future holding its own run is a reference cycle,
        # and every finished run (its reply text included) would then wait for the cyclic collector.
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._listeners: list[Listener] = []
        self.task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.done.done()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, stream: str, **data: Any) -> None:
        event = RunEvent(stream, data)
        for listener in list(self._listeners):
            listener(event)

    def start(self) -> None:
        self.status, self.started_at = "running", int(time.time() * 1000)
        self.emit("lifecycle", phase="start", startedAt=self.started_at)

    def status_phase(self, phase: str) -> None:
        """One of upstream's startup steps (`run_status`), which chat UIs show before the first text."""
        self.emit("run_status", phase=phase)

    def finish(self, status: str, error: str | None = None, stop_reason: str | None = None) -> None:
        if self.finished:
            return
        self.status, self.error, self.ended_at = status, error, int(time.time() * 1000)
        started = self.started_at or self.accepted_at
        if status == "ok":
            self.stop_reason = stop_reason or "stop"
            tail = {"stopReason": self.stop_reason, "aborted": False, "livenessState": "working"}
            self.emit("lifecycle", phase="finishing", **tail, endedAt=self.ended_at)
            self.emit("lifecycle", phase="end", startedAt=started, endedAt=self.ended_at, **tail)
        elif status == "aborted":
            self.stop_reason = stop_reason or self.stop_reason or "aborted"
            self.emit("lifecycle", phase="end", status="cancelled", aborted=True, stopReason=self.stop_reason,
                      startedAt=started, endedAt=self.ended_at)
        else:
            self.stop_reason = stop_reason or status
            self.emit("lifecycle", phase="error", error=error or status, status=status, startedAt=started,
                      endedAt=self.ended_at)
        self.done.set_result(None)

    def summary(self) -> dict[str, Any]:
        return {
            "runId": self.id, "status": self.status, "sessionKey": self.session_key, "sessionId": self.session_id,
            "agentId": self.agent_id, "text": self.text, "silent": self.silent, "error": self.error,
            "model": self.model, "stopReason": self.stop_reason, "usage": self.usage.as_dict(),
            "acceptedAt": self.accepted_at,
            "startedAt": self.started_at, "endedAt": self.ended_at,
        }
