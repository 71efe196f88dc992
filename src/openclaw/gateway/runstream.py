"""A run as the protocol shows it: `agent` and `chat` events while it works, a summary when done.

`agent` events (`{runId, seq, stream, ts, sessionKey, data}`) go to the
connection that started the run; `chat` events (`delta`, then `final`,
`error` or `aborted`) go to it and to every long-lived (UI) connection that
may read, as upstream streams them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from openclaw.gateway.protocol import UNAVAILABLE, RpcError, encode_json
from openclaw.gateway.scopes import READ, satisfies

if TYPE_CHECKING:
    from openclaw.agents.run import Run, RunEvent
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.connection import Connection
    from openclaw.gateway.context import GatewayContext

ERROR_KINDS = {"timeout": "timeout", "rate_limit": "rate_limit", "overloaded": "rate_limit"}


def runtime_for(gateway: GatewayContext) -> AgentRuntime:
    """The agent runtime, or the protocol's answer when no model is configured."""
    from openclaw.models.catalog import selection

    if selection(gateway.settings.snapshot.resolved)[0] is None:
        raise RpcError(UNAVAILABLE, "no model is configured (set agents.defaults.model, e.g. "
                                    "openclaw config set agents.defaults.model openai/gpt-4o-mini)")
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
    def __init__(self, gateway: GatewayContext, conn: Connection, run: Run) -> None:
        self.gateway, self.conn, self.run = gateway, conn, run
        self._agent_seq = 0
        self._chat_seq = 0
        self.unsubscribe = run.subscribe(self._on_event)

    def _on_event(self, event: RunEvent) -> None:
        run = self.run
        self.conn.send_event("agent", encode_json({
            "runId": run.id, "seq": self._agent_seq, "stream": event.stream, "ts": int(time.time() * 1000),
            "sessionKey": run.session_key, "data": event.data}))
        self._agent_seq += 1
        chat = self._chat(event)
        if chat is not None:
            data = encode_json({"runId": run.id, "sessionKey": run.session_key, "agentId": run.agent_id,
                                "seq": self._chat_seq, **chat})
            self._chat_seq += 1
            for conn in list(self.gateway.connections):
                if conn is self.conn or (conn.authenticated and not conn.ephemeral and satisfies(conn.scopes, READ)):
                    conn.send_event("chat", data)
        if event.stream == "lifecycle" and event.data.get("phase") in ("end", "error"):
            self.unsubscribe()

    def _chat(self, event: RunEvent) -> dict[str, Any] | None:
        run = self.run
        if event.stream == "assistant":
            return {"state": "delta", "deltaText": event.data.get("delta", "")}
        if event.stream != "lifecycle" or event.data.get("phase") == "start":
            return None
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
