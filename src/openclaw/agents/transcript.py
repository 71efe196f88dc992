"""Our messages as upstream's transcript events, and back.

User turns are `message` events with `{role:"user", content, timestamp}`; answers are
`{role:"assistant", content:[{type:"text"}, {type:"toolCall", id, name, arguments}], provider, model,
usage, stopReason, timestamp}`; tool output is `{role:"toolResult", toolCallId, toolName,
content:[{type:"text"}], isError, timestamp}`; a compaction is a `compaction` event whose `summary`
stands in for everything before `firstKeptEntryId`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openclaw.models.types import Message, ToolCall
from openclaw.stores.agentdb import Event, Row, iso, new_id

ERROR_PREFIX = "error: "


@dataclass(frozen=True)
class Tokens:
    """One model call's token use, as upstream records it on the assistant message."""

    input: int = 0
    output: int = 0

    def as_usage(self) -> dict[str, Any]:
        zero = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}
        return {"input": self.input, "output": self.output, "cacheRead": 0, "cacheWrite": 0,
                "totalTokens": self.input + self.output, "cost": zero}


def message_event(message: Message, stamp: int, model: str | None = None, tokens: Tokens | None = None) -> Event:
    """`message` as upstream's `message` event (a fresh id; the parent is set on append)."""
    body: dict[str, Any]
    if message.role == "assistant":
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        parts += [{"type": "toolCall", "id": c.id, "name": c.name, "arguments": c.arguments}
                  for c in message.tool_calls]
        body = {"role": "assistant", "content": parts}
        if model:
            provider, _, model_id = model.partition("/")
            body.update({"provider": provider, "model": model_id or provider})
        body["usage"] = (tokens or Tokens()).as_usage()
        body["stopReason"] = "toolUse" if message.tool_calls else "stop"
    elif message.role == "tool":
        body = {"role": "toolResult", "toolCallId": message.tool_call_id or "", "toolName": message.name or "",
                "content": [{"type": "text", "text": message.content}],
                "isError": message.content.startswith(ERROR_PREFIX)}
    else:
        body = {"role": "user", "content": message.content}
    body["timestamp"] = stamp
    return {"type": "message", "id": new_id(), "timestamp": iso(stamp), "message": body}


def compaction_event(summary: str, first_kept: str | None, tokens_before: int, stamp: int) -> Event:
    """A compaction boundary; with no kept entry before it, `firstKeptEntryId` is its own id (as upstream)."""
    event_id = new_id()
    return {"type": "compaction", "id": event_id, "timestamp": iso(stamp), "summary": summary,
            "firstKeptEntryId": first_kept or event_id, "tokensBefore": tokens_before}


def to_message(event: Event) -> Message | None:
    """The message an event carries for our model and history, or None (headers, markers, custom data)."""
    if event.get("type") == "compaction":
        return Message("user", str(event.get("summary") or ""))
    body = event.get("message")
    if event.get("type") != "message" or not isinstance(body, dict):
        return None
    role = body.get("role")
    if role == "user":
        return Message("user", _text(body.get("content")))
    if role == "assistant":
        parts = body.get("content")
        calls = tuple(_call(p) for p in parts if isinstance(p, dict) and p.get("type") == "toolCall") \
            if isinstance(parts, list) else ()
        return Message("assistant", _text(parts), calls)
    if role == "toolResult":
        return Message("tool", _text(body.get("content")), tool_call_id=str(body.get("toolCallId") or ""),
                       name=str(body.get("toolName") or ""))
    return None


def _call(part: dict[str, Any]) -> ToolCall:
    args = part.get("arguments")
    return ToolCall(str(part.get("id") or ""), str(part.get("name") or ""), args if isinstance(args, dict) else {})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def model_view(path: list[Row]) -> list[Row]:
    """What the model sees on an active branch: after the latest compaction, its summary, then the
    kept entries from `firstKeptEntryId` and everything after."""
    last = max((i for i, r in enumerate(path) if r.event.get("type") == "compaction"), default=None)
    if last is None:
        return path
    boundary = path[last]
    kept_id = boundary.event.get("firstKeptEntryId")
    start = next((i for i, r in enumerate(path[:last]) if r.event.get("id") == kept_id), last)
    return [boundary, *path[start:last], *path[last + 1:]]
