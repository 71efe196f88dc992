"""OpenAI Chat Completions (OpenAI, OpenRouter, Ollama, vLLM, LM Studio, llama.cpp), streamed or not."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from openclaw.models import deltas, wire
from openclaw.models.catalog import Provider
from openclaw.models.types import Completion, Message, ModelError, OnText, Request, ToolCall, Usage


def _message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [{"id": c.id, "type": "function",
                              "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                             for c in m.tool_calls]
    return out


def body(req: Request) -> dict[str, Any]:
    messages = ([{"role": "system", "content": req.system}] if req.system else []) + [_message(m) for m in req.messages]
    out: dict[str, Any] = {"model": req.model, "messages": messages, "max_tokens": req.max_tokens,
                           "stream": req.stream}
    if req.stream:
        out["stream_options"] = {"include_usage": True}
    if req.tools:
        out["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                          "parameters": t.parameters}} for t in req.tools]
    return out


def _usage(raw: Any) -> Usage:
    raw = raw if isinstance(raw, dict) else {}
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


async def call(session: aiohttp.ClientSession, provider: Provider, req: Request, on_text: OnText) -> Completion:
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    async with wire.post(session, provider, f"{provider.base_url}/chat/completions", body(req), headers) as resp:
        if not req.stream:
            return _complete(await wire.json_body(resp))
        return await _stream(resp, provider, on_text)


def _complete(data: dict[str, Any]) -> Completion:
    _raise_error(data)
    choice = (data.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    calls = [ToolCall(str(c.get("id")), str((c.get("function") or {}).get("name")),
                      wire.arguments((c.get("function") or {}).get("arguments") or ""))
             for c in message.get("tool_calls") or []]
    return Completion(text=wire.unicode_text(message.get("content") or ""), tool_calls=calls,
                      usage=_usage(data.get("usage")), stop_reason=choice.get("finish_reason"))


async def _stream(resp: aiohttp.ClientResponse, provider: Provider, on_text: OnText) -> Completion:
    out, got = await wire.read_stream(resp, provider.timeout_s, deltas.Shape(deltas.OPENAI), _take_others, on_text)
    out.tool_calls = [ToolCall(c["id"] or f"call_{i}", c["name"], wire.arguments("".join(c["pieces"])))
                      for i, c in sorted(got.calls.items())]
    return out


def _take_others(others: wire.Events, out: Completion, got: wire.Streamed) -> bool:
    """Chunks that are not plain text, in order; True once the stream said [DONE]."""
    datas = [data for _, data in others]
    done = next((i for i, data in enumerate(datas) if data.strip() == "[DONE]"), None)
    for chunk in wire.parse_each(datas[:done]):
        _take(chunk, out, got)
    return done is not None


def _take(chunk: dict[str, Any], out: Completion, got: wire.Streamed) -> None:
    """One streamed chunk: text and tool-call pieces into `got`, usage and the stop reason into `out`."""
    _raise_error(chunk)
    if chunk.get("usage"):
        out.usage = _usage(chunk["usage"])
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if delta.get("content"):
            got.add_text(delta["content"])
        for part in delta.get("tool_calls") or []:
            slot = got.call(int(part.get("index") or 0))
            function = part.get("function") or {}
            slot["id"] = part.get("id") or slot["id"]
            got.add_name(slot, function.get("name") or "")
            got.add_arguments(slot, function.get("arguments") or "")
        if choice.get("finish_reason"):
            out.stop_reason = choice["finish_reason"]


def _raise_error(data: dict[str, Any]) -> None:
    error = data.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ModelError("server", f"the provider reported an error: {message}")
