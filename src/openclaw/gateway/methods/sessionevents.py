"""`sessions.changed` events for the connections that called `sessions.subscribe`: when a run starts
and when it ends, the session's row (as `sessions.describe` gives it), so a UI showing the session
sees it go from running to done without asking again."""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import TYPE_CHECKING, Any

from openclaw.gateway.methods.sessioninfo import info
from openclaw.gateway.protocol import encode_json

if TYPE_CHECKING:
    from openclaw.agents.run import Run, RunEvent
    from openclaw.gateway.state.context import GatewayContext
    from openclaw.gateway.state.peer import Peer

# each gateway's subscribers, held weakly: a closed connection drops out by itself
_SUBSCRIBERS: weakref.WeakKeyDictionary[GatewayContext, weakref.WeakSet[Peer]] = weakref.WeakKeyDictionary()
_PENDING: set[asyncio.Task[None]] = set()  # sends under way (kept from the garbage collector)


def subscribe(gateway: GatewayContext, conn: Peer, on: bool) -> None:
    peers = _SUBSCRIBERS.setdefault(gateway, weakref.WeakSet())
    if on:
        peers.add(conn)
    else:
        peers.discard(conn)


def watch(gateway: GatewayContext, run: Run) -> None:
    """Tell subscribers about `run`'s session now (running) and once the run has ended."""

    def on_event(event: RunEvent) -> None:
        if event.stream == "lifecycle" and event.data.get("phase") in ("end", "error"):
            unsubscribe()
            _send(gateway, run, "run", ended=True)

    unsubscribe = run.subscribe(on_event)
    _send(gateway, run, "send", ended=False)


def _send(gateway: GatewayContext, run: Run, reason: str, ended: bool) -> None:
    peers = [p for p in _SUBSCRIBERS.get(gateway, ()) if p.authenticated]
    if not peers:
        return
    task = asyncio.get_running_loop().create_task(_changed(gateway, run, reason, ended, peers))
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


async def _changed(gateway: GatewayContext, run: Run, reason: str, ended: bool, peers: list[Peer]) -> None:
    from openclaw.gateway.state.runstream import runtime_for

    session = await runtime_for(gateway).store(run.agent_id).find(run.session_key)
    row: dict[str, Any] = info(gateway, run.session_key, run.agent_id, session, ended=run.id if ended else None)
    if ended:
        row["status"] = "done" if run.status == "ok" else ("killed" if run.status == "aborted" else "failed")
    data = encode_json({"sessionKey": run.session_key, "agentId": run.agent_id, "reason": reason,
                        "ts": int(time.time() * 1000), "session": row})
    for peer in peers:
        peer.send_event("sessions.changed", data)
