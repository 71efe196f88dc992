"""One agent run: a message in, the model (and its tools) at work, a reply out.

A run is observable while it works: listeners get `lifecycle` (start, end,
error), `assistant` (text deltas) and `tool` (call, result) events, and
anyone may await `done`. The reply is the last round's text; `NO_REPLY`
makes it silent.
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


@dataclass(frozen=True)
class RunEvent:
    stream: str  # lifecycle | assistant | tool
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

    def finish(self, status: str, error: str | None = None) -> None:
        if self.finished:
            return
        self.status, self.error, self.ended_at = status, error, int(time.time() * 1000)
        if status == "ok":
            self.emit("lifecycle", phase="end", endedAt=self.ended_at)
        else:
            self.emit("lifecycle", phase="error", error=error or status, status=status, endedAt=self.ended_at)
        self.done.set_result(None)

    def summary(self) -> dict[str, Any]:
        return {
            "runId": self.id, "status": self.status, "sessionKey": self.session_key, "sessionId": self.session_id,
            "agentId": self.agent_id, "text": self.text, "silent": self.silent, "error": self.error,
            "model": self.model, "usage": self.usage.as_dict(), "acceptedAt": self.accepted_at,
            "startedAt": self.started_at, "endedAt": self.ended_at,
        }
