"""`POST /v1/chat/completions`: an agent turn behind OpenAI's Chat Completions shape.

The `model` names an agent target; the `user` field (or `x-openclaw-session-key`) keeps a
conversation in one session, otherwise each request gets a fresh one. System messages become
the caller's instructions; the last user message is the turn, earlier ones its context.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw.gateway.httpapi import turns
from openclaw.gateway.httpapi.common import (
    ApiError,
    agent_for,
    allow_methods,
    authorize,
    handle_errors,
    json_body,
    model_name,
    prompt_from,
    refuse_tools,
    runtime,
    session_for,
    text_of,
)
from openclaw.gateway.httpapi.state import http_state

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.gateway.context import GatewayContext


def _check(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages must be a non-empty array of message objects")
    refuse_tools(body)
    if "stream" in body and not isinstance(body["stream"], bool):
        raise ApiError(400, "stream must be a boolean")
    return messages


def _usage(run: Run) -> dict[str, int]:
    return {"prompt_tokens": run.usage.input, "completion_tokens": run.usage.output,
            "total_tokens": run.usage.input + run.usage.output}


def _failure(run: Run) -> ApiError:
    if run.status == "timeout":
        return ApiError(504, run.error or "the agent run timed out", "timeout")
    if run.status == "aborted":
        return ApiError(499, "the agent run was aborted", "aborted")
    return ApiError(502, run.error or f"the agent run ended {run.status}", "api_error")


@handle_errors
async def chat_completions(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    allow_methods(request, "POST")
    authorize(request, gateway)
    body = await json_body(request)
    messages = _check(body)
    agents = runtime(gateway)
    agent = agent_for(request, agents, body.get("model"))
    prompt = prompt_from([("tool" if m.get("role") == "function" else str(m.get("role") or ""), text_of(m.get("content")))
                          for m in messages])
    key = session_for(request, agents, agent, body.get("user"), "openai")
    run = turns.start(request, agents, http_state(gateway), agent, key, prompt, "chat.completions",
                      f"chatcmpl_{uuid.uuid4().hex}")
    model = model_name(body)
    if body.get("stream"):
        include_usage = isinstance(body.get("stream_options"), dict) and body["stream_options"].get("include_usage") is True
        return await _stream(request, agents, run, model, include_usage)
    await turns.finish(request, agents, run)
    if run.status != "ok":
        raise _failure(run)
    return web.json_response({
        "id": run.id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": run.text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(run),
    })


async def _stream(request: web.Request, agents: Any, run: Run, model: str, include_usage: bool) -> web.StreamResponse:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {"id": run.id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"

    response = await turns.sse_response(request)
    try:
        await response.write(chunk({"role": "assistant", "content": ""}))
        async for text in turns.deltas(request, agents, run):
            await response.write(chunk({"content": text}))
        await run.done
        if run.status == "ok":
            await response.write(chunk({}, "stop"))
            if include_usage:
                usage = {"id": run.id, "object": "chat.completion.chunk", "created": created, "model": model,
                         "choices": [], "usage": _usage(run)}
                await response.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
        else:
            failure = _failure(run)
            await response.write(b"data: " + json.dumps({"error": {"message": failure.message,
                                                                   "type": failure.kind}}).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
    except (ConnectionError, RuntimeError):  # the client went away mid-stream
        agents.abort(run.session_key)
    return response
