"""Keeping a conversation inside the model's context window: older turns become a summary.

Before a call, a conversation estimated at more than 80 % of the window (the
provider's `models[].contextWindow`, else 128k tokens) is compacted: the
model summarises everything but the recent turns, and the summary stands in
for them from then on. A provider that still answers "too long" gets one
forced compaction and the same question again, asked with the compacted
history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openclaw.agents.sessions import Session, SessionStore
from openclaw.models.client import ModelClient
from openclaw.models.types import Message, ModelError, Request

if TYPE_CHECKING:
    from openclaw.agents.plan import Plan

DEFAULT_WINDOW = 128_000
THRESHOLD = 0.8
KEEP_RECENT = 6  # messages kept verbatim (cut back to the start of a turn)
SUMMARY_PREFIX = "[Summary of the earlier conversation]"
SUMMARY_TOKENS = 1024
SUMMARY_ATTEMPTS = 4
CUT_MARK = "[... the oldest part of the conversation is left out]\n"
INSTRUCTIONS = ("Summarise this conversation for your own later use: the facts, decisions, open tasks, names, "
                "paths and numbers that matter. Be concise; write it as notes, not as a reply.")


def estimate(history: list[Message], system: str) -> int:
    """Tokens, roughly (4 characters each): good enough to decide when to compact."""
    chars = len(system) + sum(len(m.content) for m in history)
    chars += sum(len(str(c.arguments)) for m in history if m.tool_calls for c in m.tool_calls)
    return chars // 4


def window(plan: Plan) -> int:
    if not plan.refs:
        return DEFAULT_WINDOW
    ref = plan.refs[0]
    entry = plan.known[ref.provider].models.get(ref.model, {}) if ref.provider in plan.known else {}
    value = entry.get("contextWindow") or entry.get("contextTokens")
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_WINDOW


def overflowed(exc: ModelError) -> bool:
    """The provider said the conversation does not fit (its own error, recognised in `models.types`)."""
    return exc.kind == "context_overflow"


def transcript(messages: list[Message]) -> str:
    lines = []
    for m in messages:
        if m.role == "tool":
            lines.append(f"[tool {m.name} result] {m.content[:2000]}")
        else:
            calls = "".join(f" [called {c.name} {c.arguments}]" for c in m.tool_calls)
            lines.append(f"{m.role}: {m.content}{calls}")
    return "\n".join(lines)


async def fit(history: list[Message], system: str, plan: Plan, store: SessionStore, session: Session,
              client: ModelClient, force: bool = False) -> list[Message]:
    """`history`, compacted first when it would take more than THRESHOLD of the window (or `force`)."""
    if not force and estimate(history, system) <= THRESHOLD * window(plan):
        return history
    shorter = await compact(plan, store, session, client)
    return history if shorter is None else shorter


async def compact(plan: Plan, store: SessionStore, session: Session, client: ModelClient) -> list[Message] | None:
    """Summarise all but the recent turns; the history the model sees from now on, or None when
    there is nothing older than the recent turns to summarise."""
    live = await store.live_entries(session.session_id)
    cut = len(live) - KEEP_RECENT
    while cut > 0 and live[cut].message.role != "user":
        cut -= 1  # never part a tool call from its result
    if cut <= 0:
        return None
    summary = await summarise(transcript([e.message for e in live[:cut]]), plan, client)
    await store.compact(session, f"{SUMMARY_PREFIX}\n{summary}", live[cut].seq,
                        estimate([e.message for e in live], ""))
    return await store.history(session)


async def summarise(text: str, plan: Plan, client: ModelClient) -> str:
    """The model's notes on `text`, which is cut to half the window first; when the model still
    finds it too long, its older half goes, a few times (the recent part matters most)."""
    text = _tail(text, window(plan) * 4 // 2)
    for _ in range(SUMMARY_ATTEMPTS - 1):
        try:
            return await _notes(text, plan, client)
        except ModelError as exc:
            if not overflowed(exc) or len(text) < 2000:
                raise
            text = _tail(text, len(text) // 2)
    return await _notes(text, plan, client)


async def _notes(text: str, plan: Plan, client: ModelClient) -> str:
    request = Request("", INSTRUCTIONS, (Message("user", text),), (), SUMMARY_TOKENS, stream=False)
    return (await client.complete(plan.refs, plan.known, request)).text.strip()


def _tail(text: str, chars: int) -> str:
    return text if len(text) <= chars else CUT_MARK + text[len(text) - chars:]
