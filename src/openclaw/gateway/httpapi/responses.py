"""`POST /v1/responses`: an agent turn behind OpenAI's Responses shape (text in, text out,
streamed as typed events). `previous_response_id` continues that response's session."""

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
from openclaw.gateway.httpapi.state import HTTP_API, MAX_REMEMBERED
from openclaw.gateway.protocol import encode_json

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.gateway.state.context import GatewayContext


def _entries(body: dict[str, Any]) -> list[tuple[str, str]]:
    raw = body.get("input")
    if isinstance(raw, str):
        entries = [("user", raw)]
    elif isinstance(raw, list) and raw:
        entries = []
        for item in raw:
            if not isinstance(item, dict):
                raise ApiError(400, "input items must be objects")
            kind = item.get("type", "message")
            if kind == "message":
                entries.append((str(item.get("role") or "user"), text_of(item.get("content"))))
            elif kind == "function_call_output":
                entries.append(("tool", str(item.get("output") or "")))
    else:
        raise ApiError(400, "input must be a string or a non-empty array of items")
    if isinstance(body.get("instructions"), str):
        entries.insert(0, ("system", body["instructions"]))
    return entries


def _resource(run: Run, response_id: str, model: str, created: int, status: str, text: str | None) -> dict[str, Any]:
    output = []
    if text is not None:
        output = [{"type": "message", "id": f"msg_{run.id}", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}]
    out: dict[str, Any] = {
        "id": response_id, "object": "response", "created_at": created, "status": status, "model": model,
        "output": output, "error": None, "incomplete_details": None, "parallel_tool_calls": False,
        "tool_choice": "auto", "tools": [], "metadata": {},
        "usage": {"input_tokens": run.usage.input, "output_tokens": run.usage.output,
                  "total_tokens": run.usage.input + run.usage.output,
                  "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
    }
    if status == "failed":
        failure = turns.failure(run)
        out["error"] = {"code": "server_error" if run.status != "timeout" else "timeout", "message": failure.message}
    return out


@handle_errors
async def create_response(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    allow_methods(request, "POST")
    authorize(request, gateway)
    body = await json_body(request, gateway)
    refuse_tools(body)
    prompt = prompt_from(_entries(body))
    agents = runtime(gateway)
    state = request.app[HTTP_API]()
    previous = body.get("previous_response_id")
    if previous:
        known = state.recall(previous)
        if known is None:
            raise ApiError(400, f"previous response {previous!r} is unknown to this gateway (it remembers the "
                                f"last {MAX_REMEMBERED})")
        agent, key = known
    else:
        agent = agent_for(request, agents, body.get("model"))
        key = session_for(request, agents, agent, body.get("user"), "openresponses")
    response_id = f"resp_{uuid.uuid4().hex}"
    state.remember(response_id, agent, key)
    run = await turns.start(request, gateway, agents, agent, key, prompt, "responses", response_id)
    model = model_name(body)
    created = int(time.time())
    if body.get("stream"):
        return await _stream(turns.EventStream(request, gateway.settings.limits), run, response_id, model, created)
    await turns.finish(request, run)
    if run.status != "ok":
        raise turns.failure(run)
    return web.json_response(_resource(run, response_id, model, created, "completed", run.text))


async def _stream(stream: turns.EventStream, run: Run, response_id: str, model: str,
                  created: int) -> web.StreamResponse:
    seq = 0
    item_id = f"msg_{run.id}"

    async def emit(kind: str, **data: Any) -> None:
        nonlocal seq
        payload = {"type": kind, "sequence_number": seq, **data}
        seq += 1
        await stream.write(b"event: " + kind.encode() + b"\ndata: " + encode_json(payload) + b"\n\n")

    try:
        await stream.open()
        await emit("response.created", response=_resource(run, response_id, model, created, "in_progress", None))
        await emit("response.in_progress", response=_resource(run, response_id, model, created, "in_progress", None))
        await emit("response.output_item.added", output_index=0, item={
            "type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []})
        await emit("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                   part={"type": "output_text", "text": "", "annotations": []})
        parts: list[str] = []  # joined once at the end: a reply in many small deltas stays O(n)
        async for delta in stream.deltas(run):
            parts.append(delta)
            await emit("response.output_text.delta", item_id=item_id, output_index=0, content_index=0, delta=delta,
                       logprobs=[])
        await run.done
        if run.status == "ok":
            final = run.text or "".join(parts)
            part = {"type": "output_text", "text": final, "annotations": []}
            await emit("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=final,
                       logprobs=[])
            await emit("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=part)
            await emit("response.output_item.done", output_index=0, item={
                "type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [part]})
            await emit("response.completed", response=_resource(run, response_id, model, created, "completed", final))
        else:
            await emit("response.failed", response=_resource(run, response_id, model, created, "failed", None))
        await stream.write(b"data: [DONE]\n\n")
    except ConnectionError:  # the client went away mid-stream (logged once by the server)
        turns.stop(run)
        raise
    return stream.response
