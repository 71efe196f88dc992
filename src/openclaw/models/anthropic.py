"""Anthropic Messages, streamed or not."""

from __future__ import annotations

from typing import Any

import aiohttp

from openclaw.models import sse, wire
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
    for block in data.get("content") or []:
        if block.get("type") == "text":
            out.text += block.get("text") or ""
        elif block.get("type") == "tool_use":
            out.tool_calls.append(ToolCall(str(block.get("id")), str(block.get("name")), block.get("input") or {}))
    usage = data.get("usage") or {}
    out.usage = Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
    return out


async def _stream(resp: aiohttp.ClientResponse, provider: Provider, on_text: OnText) -> Completion:
    out = Completion()
    blocks: dict[int, dict[str, str]] = {}
    async for name, data in sse.events(resp, provider.timeout_s):
        event = wire.parse(data)
        kind = event.get("type") or name
        if kind == "error":
            _raise_error(event)
        elif kind == "message_start":
            usage = (event.get("message") or {}).get("usage") or {}
            out.usage.input = int(usage.get("input_tokens") or 0)
        elif kind == "content_block_start":
            block = event.get("content_block") or {}
            blocks[int(event.get("index") or 0)] = {"type": block.get("type", ""), "id": block.get("id") or "",
                                                    "name": block.get("name") or "", "json": ""}
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                out.text += delta["text"]
                await on_text(delta["text"])
            elif delta.get("type") == "input_json_delta":
                blocks.setdefault(int(event.get("index") or 0), {"type": "tool_use", "id": "", "name": "",
                                                                  "json": ""})["json"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            out.stop_reason = (event.get("delta") or {}).get("stop_reason") or out.stop_reason
            out.usage.output = int((event.get("usage") or {}).get("output_tokens") or out.usage.output)
        elif kind == "message_stop":
            break
    out.tool_calls = [ToolCall(b["id"] or f"toolu_{i}", b["name"], wire.arguments(b["json"]))
                      for i, b in sorted(blocks.items()) if b["type"] == "tool_use"]
    return out


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
