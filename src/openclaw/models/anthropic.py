"""Anthropic Messages, streamed or not."""

from __future__ import annotations

from typing import Any

import aiohttp

from openclaw.models import deltas, wire
from openclaw.models.catalog import Provider
from openclaw.models.types import Completion, Message, ModelError, OnText, Request, ToolCall, Usage

VERSION = "2023-06-01"


def _blocks(m: Message) -> tuple[str, list[dict[str, Any]]]:
    if m.role == "tool":
        return "user", [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
    return m.role, blocks


def messages(items: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Anthropic wants user and assistant turns to alternate; tool results travel as user blocks."""
    out: list[dict[str, Any]] = []
    for m in items:
        role, blocks = _blocks(m)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def body(req: Request) -> dict[str, Any]:
    out: dict[str, Any] = {"model": req.model, "max_tokens": req.max_tokens, "messages": messages(req.messages),
                           "stream": req.stream}
    if req.system:
        out["system"] = req.system
    if req.tools:
        out["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                        for t in req.tools]
    return out


async def call(session: aiohttp.ClientSession, provider: Provider, req: Request, on_text: OnText) -> Completion:
    headers = {"anthropic-version": VERSION}
    if provider.api_key:
        headers["x-api-key"] = provider.api_key
    async with wire.post(session, provider, f"{provider.base_url}/v1/messages", body(req), headers) as resp:
        if not req.stream:
            return _complete(await wire.json_body(resp))
        return await _stream(resp, provider, on_text)


def _complete(data: dict[str, Any]) -> Completion:
    _raise_error(data)
    out = Completion(stop_reason=data.get("stop_reason"))
    texts = []
    for block in data.get("content") or []:
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            out.tool_calls.append(ToolCall(str(block.get("id")), str(block.get("name")), block.get("input") or {}))
    out.text = wire.unicode_text("".join(texts))
    usage = data.get("usage") or {}
    out.usage = Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
    return out


async def _stream(resp: aiohttp.ClientResponse, provider: Provider, on_text: OnText) -> Completion:
    out, got = await wire.read_stream(resp, provider.timeout_s, deltas.Shape(deltas.ANTHROPIC), _take_others,
                                      on_text)
    out.tool_calls = [ToolCall(b["id"] or f"toolu_{i}", b["name"], wire.arguments("".join(b["pieces"])))
                      for i, b in sorted(got.calls.items()) if b["type"] == "tool_use"]
    return out


def _take_others(others: wire.Events, out: Completion, got: wire.Streamed) -> bool:
    """Events that are not plain text, in order; True at `message_stop`."""
    for (name, _), event in zip(others, wire.parse_each([data for _, data in others]), strict=False):
        if _take(name, event, out, got):
            return True
    return False


def _take(name: str | None, event: dict[str, Any], out: Completion, got: wire.Streamed) -> bool:
    """One streamed event into `out` and `got`; True at `message_stop`."""
    kind = event.get("type") or name
    if kind == "error":
        _raise_error(event)
    elif kind == "message_start":
        usage = (event.get("message") or {}).get("usage") or {}
        out.usage.input = int(usage.get("input_tokens") or 0)
    elif kind == "content_block_start":
        block = event.get("content_block") or {}
        slot = got.call(int(event.get("index") or 0), type=str(block.get("type", "")))
        slot["id"] = block.get("id") or slot["id"]
        got.add_name(slot, block.get("name") or "")
    elif kind == "content_block_delta":
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta" and delta.get("text"):
            got.add_text(delta["text"])
        elif delta.get("type") == "input_json_delta":
            got.add_arguments(got.call(int(event.get("index") or 0), type="tool_use"), delta.get("partial_json") or "")
    elif kind == "message_delta":
        out.stop_reason = (event.get("delta") or {}).get("stop_reason") or out.stop_reason
        out.usage.output = int((event.get("usage") or {}).get("output_tokens") or out.usage.output)
    elif kind == "message_stop":
        return True
    return False


def _raise_error(data: dict[str, Any]) -> None:
    error = data.get("error") if data.get("type") == "error" or "error" in data else None
    if not error:
        return
    kind = error.get("type") if isinstance(error, dict) else ""
    message = error.get("message") if isinstance(error, dict) else str(error)
    if kind == "overloaded_error":
        raise ModelError("overloaded", f"overloaded: {message}")
    if kind == "rate_limit_error":
        raise ModelError("rate_limit", f"rate limited: {message}")
    raise ModelError("server", f"the provider reported an error: {message}")
