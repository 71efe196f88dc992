"""What a heartbeat asks and how its answer is read: our own default prompt, the workspace's
`HEARTBEAT.md` checklist and the queued system events as the turn's message; `NO_REPLY` (or the
legacy `HEARTBEAT_OK` at either end of a short reply) as "nothing to say"."""

from __future__ import annotations

from pathlib import Path

DEFAULT_PROMPT = (
    "Scheduled check-in: no person wrote this message. Go through the checklist and the events below, "
    "if there are any, and act only on what needs the user's attention now. Do not resume old tasks "
    "from earlier conversations on your own, and leave recurring schedules to cron jobs. When nothing "
    "needs attention, answer with exactly NO_REPLY."
)
CHECKLIST = "HEARTBEAT.md"
MAX_CHECKLIST_CHARS = 20_000  # a larger checklist is cut here (the turn's prompt stays bounded)
ACK_TOKEN = "HEARTBEAT_OK"
ACK_MAX_CHARS = 300  # what may surround a legacy ack and still count as "nothing to say"
PREVIEW_CHARS = 200


def read_checklist(workspace: Path) -> str | None:
    """`HEARTBEAT.md` of the workspace, None when absent or blank (blocking: run it in a thread)."""
    try:
        with open(workspace / CHECKLIST, encoding="utf-8", errors="replace") as f:
            text = f.read(MAX_CHECKLIST_CHARS + 1)
    except OSError:
        return None
    if not text.strip():
        return None
    return text[:MAX_CHECKLIST_CHARS] + ("\n[checklist cut]" if len(text) > MAX_CHECKLIST_CHARS else "")


def message(prompt: str | None, checklist: str | None, events: list[str]) -> str:
    """The turn's user message: the prompt, then the checklist and the events that waited for it."""
    parts = [prompt or DEFAULT_PROMPT]
    if checklist:
        parts.append(f"## {CHECKLIST}\n\n{checklist.strip()}")
    if events:
        parts.append("## Events since the last check\n\n" + "\n".join(f"- {e}" for e in events))
    return "\n\n".join(parts)


def strip_ack(text: str) -> tuple[str, bool]:
    """(the reply without a leading or trailing `HEARTBEAT_OK`, whether one was there)."""
    body = text.strip()
    found = False
    if body.upper().startswith(ACK_TOKEN):
        body, found = body[len(ACK_TOKEN):].strip(), True
    if body.upper().endswith(ACK_TOKEN):
        body, found = body[: -len(ACK_TOKEN)].strip(), True
    return body, found


def classify(text: str, silent: bool) -> tuple[str, str]:
    """(event status, text to deliver): `ok-token` for NO_REPLY or a legacy ack with a short rest,
    `ok-empty` for no text, else `sent` with the reply."""
    if silent:
        return "ok-token", ""
    body, acked = strip_ack(text)
    if acked and len(body) <= ACK_MAX_CHARS:
        return "ok-token", ""
    if not text.strip():
        return "ok-empty", ""
    return "sent", text.strip()


def preview(text: str) -> str | None:
    return text[:PREVIEW_CHARS] if text else None
