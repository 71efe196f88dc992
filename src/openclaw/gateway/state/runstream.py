"""A run as the protocol shows it: `agent` and `chat` events while it works, a summary when done.

`agent` events (`{runId, stream, data, sessionKey, agentId, seq, ts}`, `sessionId` on lifecycle
events) and `chat` events (`status` from a chat UI's run, `delta`, then `final`, `error` or
`aborted`) go to the connection that started the run and to every long-lived (UI) connection that
may read, in upstream's shapes. A chat UI's run (`chat.send`) also shows its startup steps
(`run_status`, chat `status`) and says whether it is a heartbeat (`isHeartbeat`), as upstream's does;
a chat event's `seq` is that of the agent event it comes from.
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


async def turn_session(runtime: AgentRuntime, agent_id: str | None, raw_key: str | None,
                       session_id: str | None) -> tuple[str, str, str | None]:
    """(agent, session key, id for a session created now) for a turn, by upstream's rule: a session
    key wins (a bare one is the agent's); else a session id names the session that has it (in the
    given agent's store, else in any agent's), else a new `agent:<id>:explicit:<id>`; else the
    agent's main session. Upstream's CLI sends the explicit key it made itself along with the id: that
    key counts as none, so the id still finds its session."""
    from openclaw.agents.keys import explicit_key

    agent = runtime.agent_id(agent_id)
    sid = (session_id or "").strip() or None
    if sid is None:
        return agent, session_key(runtime, raw_key, agent), None
    if raw_key and session_key(runtime, raw_key, agent).lower() != explicit_key(agent, sid):
        key = session_key(runtime, raw_key, agent)
        taken = await runtime.store(agent).by_session_id(sid)
        return agent, key, None if taken is not None else sid
    owners = [agent] if agent_id else [agent, *(a.id for a in runtime.config().agents if a.id != agent)]
    for owner in owners:
        found = await runtime.store(owner).by_session_id(sid)
        if found is not None:
            return owner, found.key, None
    return agent, explicit_key(agent, sid), sid


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

    def __init__(self, gateway: GatewayContext, conn: Peer, run: Run, chat_link: bool = False) -> None:
        self.gateway, self.conn, self.run = gateway, conn, run
        self.chat_link = chat_link  # started by chat.send: startup steps and the heartbeat flag are shown
        self._seq = 0  # the run's event count, shared by its agent and chat events as upstream's
        self._text = bytearray()  # what chat deltas have carried so far, JSON-encoded (without its quotes)
        self._pending: list[str] = []  # streamed since: joined once per delta, never added to a string per piece
        self._last_delta: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.unsubscribe = run.subscribe(self._on_event)

    def _on_event(self, event: RunEvent) -> None:
        run = self.run
        if event.stream == "run_status" and not self.chat_link:
            return  # upstream shows startup steps only for a chat UI's runs
        self._seq += 1
        frame: dict[str, Any] = {"runId": run.id, "stream": event.stream, "data": event.data,
                                 "sessionKey": run.session_key, "agentId": run.agent_id}
        if event.stream == "lifecycle" and run.session_id:
            frame["sessionId"] = run.session_id
        frame.update(seq=self._seq, ts=int(time.time() * 1000))
        if self.chat_link:
            frame["isHeartbeat"] = False
        self._send("agent", encode_json(frame))
        if event.stream == "run_status":
            self._chat({"state": "status", "phase": event.data.get("phase")})
        elif event.stream == "assistant":
            self._pending.append(event.data.get("delta", ""))
            self._pace()
        elif event.stream == "lifecycle" and event.data.get("phase") in ("end", "error"):
            self._flush()
            terminal = self._terminal()
            self._chat(terminal, whole_text="message" in terminal and run.status != "ok")
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
                            "seq": self._seq, **fields})
        if whole_text:  # the text so far goes where its slot is (the last occurrence: after deltaText)
            head, _, tail = data.rpartition(SLOT_JSON)
            data = b"".join((head, b'"', self._text, b'"', tail))
        self._send("chat", data)

    def _send(self, event: str, data: bytes) -> None:
        for conn in list(self.gateway.connections):
            if conn is self.conn or (conn.authenticated and not conn.ephemeral and satisfies(conn.scopes, READ)):
                conn.send_event(event, data)

    def _terminal(self) -> dict[str, Any]:
        run = self.run
        if run.status == "ok":
            return {"state": "final", "message": assistant_message(run.text, run), "usage": run.usage.as_dict(),
                    "stopReason": "silent" if run.silent else (run.stop_reason or "stop")}
        if run.status == "aborted":  # upstream keeps what was streamed before the stop
            out: dict[str, Any] = {"state": "aborted", "stopReason": run.stop_reason or "aborted"}
            if self._text:
                out["message"] = {"role": "assistant", "content": [{"type": "text", "text": TEXT_SLOT}],
                                  "timestamp": run.ended_at}
            return out
        return {"state": "error", "errorMessage": (run.error or run.status)[:2000],
                "errorKind": ERROR_KINDS.get(run.status, "timeout" if run.status == "timeout" else "unknown")}
