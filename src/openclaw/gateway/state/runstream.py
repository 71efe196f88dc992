"""A run as the protocol shows it: `agent` and `chat` events while it works, a summary when done.

`agent` events (`{runId, seq, stream, ts, sessionKey, data}`) go to the
connection that started the run; `chat` events (`delta`, then `final`,
`error` or `aborted`) go to it and to every long-lived (UI) connection that
may read, as upstream streams them.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from openclaw.gateway.protocol import UNAVAILABLE, RpcError, encode_json
from openclaw.gateway.scopes import READ, satisfies

if TYPE_CHECKING:
    from openclaw.agents.run import Run, RunEvent
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.state.context import GatewayContext
    from openclaw.gateway.state.peer import Peer

ERROR_KINDS = {"timeout": "timeout", "rate_limit": "rate_limit", "overloaded": "rate_limit"}
TEXT_SLOT = "\0text so far\0"  # stands in for the whole text in a chat delta until it is spliced in, encoded
SLOT_JSON = encode_json(TEXT_SLOT)


NO_MODEL = ("no model is configured (set agents.defaults.model, e.g. "
            "openclaw config set agents.defaults.model openai/gpt-4o-mini)")


def runtime_for(gateway: GatewayContext) -> AgentRuntime:
    """The agent runtime, or the protocol's answer when no model is configured."""

    if gateway.settings.config.model_choice().primary is None:
        raise RpcError(UNAVAILABLE, NO_MODEL)
    return gateway.agents


def session_key(runtime: AgentRuntime, raw: str | None, agent_id: str | None) -> str:
    """`agent:<id>:<rest>` as given; a bare key (`main`) is the agent's own."""
    from openclaw.agents.keys import main_key

    agent = runtime.agent_id(agent_id)
    if not raw:
        return main_key(runtime.config(), agent)
    return raw if raw.startswith("agent:") else f"agent:{agent}:{raw}"


def assistant_message(text: str, run: Run) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": run.ended_at,
            "model": run.model, "usage": run.usage.as_dict()}


class RunStream:
    """Streams one run to the connection that started it (and `chat` to the UIs). Chat deltas are
    paced as upstream paces them: the first at once, then at most one per `PACING_S`, each carrying
    the text since the last one and the whole message so far; the rest is flushed before the end.
    The whole message is kept encoded, so a delta encodes only its own text (a long reply is not
    encoded again, whole, every 75 ms)."""

    PACING_S = 0.075

    def __init__(self, gateway: GatewayContext, conn: Peer, run: Run) -> None:
        self.gateway, self.conn, self.run = gateway, conn, run
        self._agent_seq = 0
        self._chat_seq = 0
        self._text = bytearray()  # what chat deltas have carried so far, JSON-encoded (without its quotes)
        self._pending: list[str] = []  # streamed since: joined once per delta, never added to a string per piece
        self._last_delta: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.unsubscribe = run.subscribe(self._on_event)

    def _on_event(self, event: RunEvent) -> None:
        run = self.run
        self.conn.send_event("agent", encode_json({
            "runId": run.id, "seq": self._agent_seq, "stream": event.stream, "ts": int(time.time() * 1000),
            "sessionKey": run.session_key, "data": event.data}))
        self._agent_seq += 1
        if event.stream == "assistant":
            self._pending.append(event.data.get("delta", ""))
            self._pace()
        elif event.stream == "lifecycle" and event.data.get("phase") in ("end", "error"):
            self._flush()
            self._chat(self._terminal())
            self.unsubscribe()

    def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        waited = None if self._last_delta is None else loop.time() - self._last_delta
        if waited is None or waited >= self.PACING_S:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.PACING_S - waited, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        delta = "".join(self._pending)
        self._pending.clear()
        if not delta:
            return
        self._text += encode_json(delta)[1:-1]  # only the new text is encoded; JSON escapes each character alone
        self._last_delta = asyncio.get_running_loop().time()
        self._chat({"state": "delta", "deltaText": delta,
                    "message": {"role": "assistant", "content": [{"type": "text", "text": TEXT_SLOT}],
                                "timestamp": int(time.time() * 1000)}}, whole_text=True)

    def _chat(self, fields: dict[str, Any], whole_text: bool = False) -> None:
        run = self.run
        data = encode_json({"runId": run.id, "sessionKey": run.session_key, "agentId": run.agent_id,
                            "seq": self._chat_seq, **fields})
        if whole_text:  # the text so far goes where its slot is (the last occurrence: after deltaText)
            head, _, tail = data.rpartition(SLOT_JSON)
            data = b"".join((head, b'"', self._text, b'"', tail))
        self._chat_seq += 1
        for conn in list(self.gateway.connections):
            if conn is self.conn or (conn.authenticated and not conn.ephemeral and satisfies(conn.scopes, READ)):
                conn.send_event("chat", data)

    def _terminal(self) -> dict[str, Any]:
        run = self.run
        if run.status == "ok":
            return {"state": "final", "message": assistant_message(run.text, run), "usage": run.usage.as_dict(),
                    "stopReason": "silent" if run.silent else "stop"}
        if run.status == "aborted":
            return {"state": "aborted", "errorMessage": "aborted", "stopReason": "aborted"}
        return {"state": "error", "errorMessage": (run.error or run.status)[:2000],
                "errorKind": ERROR_KINDS.get(run.status, "timeout" if run.status == "timeout" else "unknown")}


def final_payload(run: Run) -> dict[str, Any]:
    """The `agent` method's second answer, as upstream's CLI reads it."""
    status = {"ok": "ok", "timeout": "timeout", "aborted": "aborted"}.get(run.status, "error")
    payloads = [{"text": run.text}] if run.status == "ok" and run.text else []
    out: dict[str, Any] = {
        "runId": run.id, "status": status,
        "summary": {"ok": "completed", "timeout": "aborted", "aborted": "aborted"}.get(status, run.error or "failed"),
        "result": {"payloads": payloads, "meta": {
            "durationMs": (run.ended_at or 0) - (run.started_at or run.accepted_at),
            "agentMeta": {"sessionId": run.session_id, "model": run.model, "usage": run.usage.as_dict()},
            "silent": run.silent}},
    }
    if status != "ok":
        out["stopReason"] = run.status
    return out
