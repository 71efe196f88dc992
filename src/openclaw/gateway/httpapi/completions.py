"""`POST /v1/chat/completions`: an agent turn behind OpenAI's Chat Completions shape.

The `model` names an agent target; the `user` field (or `x-openclaw-session-key`) keeps a
conversation in one session, otherwise each request gets a fresh one. System messages become
the caller's instructions; the last user message is the turn, earlier ones its context.
"""

from __future__ import annotations

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
from openclaw.gateway.protocol import encode_json

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.gateway.state.context import GatewayContext


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


@handle_errors
async def chat_completions(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    allow_methods(request, "POST")
    authorize(request, gateway)
    body = await json_body(request, gateway)
    messages = _check(body)
    agents = runtime(gateway)
    agent = agent_for(request, agents, body.get("model"))
    prompt = prompt_from([("tool" if m.get("role") == "function" else str(m.get("role") or ""),
                           text_of(m.get("content"))) for m in messages])
    key = session_for(request, agents, agent, body.get("user"), "openai")
    run = await turns.start(request, gateway, agents, agent, key, prompt, "chat.completions",
                            f"chatcmpl_{uuid.uuid4().hex}")
    model = model_name(body)
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return await _stream(turns.EventStream(request, gateway.settings.limits), run, model, include_usage)
    await turns.finish(request, run)
    if run.status != "ok":
        raise turns.failure(run)
    return web.json_response({
        "id": run.id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": run.text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(run),
    })


async def _stream(stream: turns.EventStream, run: Run, model: str, include_usage: bool) -> web.StreamResponse:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {"id": run.id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + encode_json(data) + b"\n\n"

    try:
        await stream.open()
        await stream.write(chunk({"role": "assistant", "content": ""}))
        async for text in stream.deltas(run):
            await stream.write(chunk({"content": text}))
        await run.done
        if run.status == "ok":
            await stream.write(chunk({}, "stop"))
            if include_usage:
                usage = {"id": run.id, "object": "chat.completion.chunk", "created": created, "model": model,
                         "choices": [], "usage": _usage(run)}
                await stream.write(b"data: " + encode_json(usage) + b"\n\n")
        else:
            failure = turns.failure(run)
            await stream.write(b"data: " + encode_json({"error": {"message": failure.message,
                                                                    "type": failure.kind}}) + b"\n\n")
        await stream.write(b"data: [DONE]\n\n")
    except ConnectionError:  # the client went away mid-stream (logged once by the server)
        turns.stop(run)
        raise
    return stream.response
