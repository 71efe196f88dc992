"""Who wrote a transcript message, in upstream's `__openclaw` envelope: its id and position, and
for the messages of a run this gateway still remembers, that run (the user's message as
`<runId>:user`). A chat UI matches what it streamed live with what the history returns by these, so
a turn shows once, not twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openclaw.agents.run import Run
    from openclaw.agents.sessions import Entry


def _run_of(ts: int, runs: Sequence[Run]) -> Run | None:
    """The run whose turn wrote at `ts`: a turn's messages are written between its start and end."""
    for run in runs:
        if run.started_at is not None and run.started_at <= ts <= (run.ended_at or ts):
            return run
    return None


def identify(message: dict[str, Any], entry: Entry, session_id: str, runs: Sequence[Run]) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": f"{session_id}:{entry.seq}", "seq": entry.seq}
    run = _run_of(entry.ts, runs)
    if run is not None and message["role"] == "user":
        message["idempotencyKey"] = meta["idempotencyKey"] = f"{run.id}:user"
    elif run is not None:
        meta["runId"] = run.id
    message["__openclaw"] = meta
    return message
