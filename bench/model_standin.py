"""A model provider stand-in on loopback that speaks OpenAI Chat Completions (`/v1/chat/completions`)
and Anthropic Messages (`/v1/messages`), streamed (SSE) and not.

Replies are scripted: each request takes the first queued `Reply` meant for its model (or any
model), else the default reply, which echoes the last user message. A reply can be text, tool
calls, an HTTP error with `retry-after` (and the provider's own error body), a stream that
stalls, a malformed chunk, or a non-streamed answer that arrives in small pieces. Every
request body is recorded. Used by the tests and, with no delays, by the benchmarks (which
script a stand-in in another process through `POST /__script`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

T0, FIRST = web.RequestKey("t0", float), web.RequestKey("first", float)
OPENAI_OVERFLOW = {"error": {  # what OpenAI answers (400) to a prompt past the context window
    "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9321 tokens. "
               "Please reduce the length of the messages.",
    "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
ANTHROPIC_OVERFLOW = {"type": "error", "error": {"type": "invalid_request_error",  # and Anthropic
                                                 "message": "prompt is too long: 208310 tokens > 200000 maximum"}}
PIECE = "\0piece\0"  # where a streamed frame's text goes


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, arguments)
    status: int = 200
    retry_after: str | None = None
    stall_after: int | None = None  # stream this many text chunks, then go silent
    malformed: bool = False  # send a chunk that is not JSON (after the first text chunk)
    chunk: int = 8  # characters per streamed text delta
    delay_s: float = 0.0  # between chunks (and between the pieces of a trickled answer)
    trickle: int | None = None  # a non-streamed answer is written in pieces of this many bytes
    error: dict[str, Any] | None = None  # the error body (status >= 400) instead of a generic one
    model: str | None = None  # only for requests to this model
    usage: tuple[int, int] = (11, 7)


@dataclass
class Seen:
    api: str  # openai | anthropic | embeddings
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


def last_user_text(api: str, body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
        if texts:
            return texts[-1]
    return ""


EMBED_DIMS = 64


def hashed_vector(text: str, dims: int = EMBED_DIMS) -> list[float]:
    """A unit vector counting the text's words into `dims` buckets by hash."""
    import hashlib
    import math
    import re

    out = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        out[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return [x / norm for x in out]


class ModelStandin:
    def __init__(self, default: Callable[[str, dict[str, Any]], Reply] | None = None, record: bool = True) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.record = record  # keep request bodies (tests); benchmarks turn it off
        self.timings: list[tuple[float, float]] = []  # per streamed request: (to first text, to the end) in ms
        self.default = default or (lambda api, body: Reply(text=f"echo: {last_user_text(api, body)}"))
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> ModelStandin:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._timed])
        app.router.add_get("/__timings", self._timings)
        app.router.add_post("/__script", self._script)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:  # stalled replies sleep for an hour: end them
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ----------------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def requests(self, api: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if api is None or s.api == api]

    async def _embeddings(self, request: web.Request) -> web.Response:
        """OpenAI's embeddings answer with deterministic vectors: a hashed bag of words, so texts
        sharing words point the same way (recorded as api `embeddings`)."""
        body = await request.json()
        if self.record:
            with self._lock:
                self.seen.append(Seen("embeddings", body, dict(request.headers), time.time()))
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else []
        data = [{"object": "embedding", "index": i, "embedding": hashed_vector(str(t))} for i, t in enumerate(texts)]
        return web.json_response({"object": "list", "data": data, "model": body.get("model"),
                                  "usage": {"prompt_tokens": 0, "total_tokens": 0}})

    @web.middleware
    async def _timed(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """How long the stand-in itself spends on a request, so a benchmark can subtract it."""
        request[T0] = time.perf_counter()
        response = await handler(request)
        if FIRST in request:
            end = time.perf_counter()
            with self._lock:
                self.timings.append(((request[FIRST] - request[T0]) * 1000, (end - request[T0]) * 1000))
        return response

    async def _script(self, request: web.Request) -> web.Response:
        """Queue replies sent as JSON (a list of `Reply` fields) from another process."""
        items = await request.json()
        self.script(*(Reply(**{**item, "tool_calls": [tuple(c) for c in item.get("tool_calls", [])]})
                      for item in items))
        return web.json_response({"queued": len(items)})

    async def _timings(self, request: web.Request) -> web.Response:
        with self._lock:
            out, self.timings = self.timings, []
        return web.json_response(out)

    def _next(self, api: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            if self.record:
                self.seen.append(Seen(api, body, headers, time.time()))
            for i, reply in enumerate(self.replies):
                if reply.model is None or reply.model == body.get("model"):
                    return self.replies.pop(i)
        return self.default(api, body)

    # -- OpenAI Chat Completions --------------------------------------------------------------
    async def _openai(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        reply = self._next("openai", body, dict(request.headers))
        if reply.status >= 400:
            return await _answer(request, reply, reply.error or {"error": {"message": f"scripted {reply.status}",
                                                                          "type": "error"}})
        calls = [{"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                 for i, (n, a) in enumerate(reply.tool_calls)]
        usage = {"prompt_tokens": reply.usage[0], "completion_tokens": reply.usage[1]}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
            if calls:
                message["tool_calls"] = calls
            return await _answer(request, reply, {
                "id": "cmpl", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": usage})
        resp = await _sse(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": "cmpl", "object": "chat.completion.chunk", "model": body.get("model"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        await _send(resp, chunk({"role": "assistant", "content": ""}))
        if not await self._stream_text(resp, reply, lambda piece: chunk({"content": piece}), request=request):
            return resp
        for i, call in enumerate(calls):  # the arguments arrive in two pieces, as real streams split them
            args = call["function"]["arguments"]
            half = len(args) // 2
            await _send(resp, chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                                     "function": {"name": call["function"]["name"],
                                                                  "arguments": args[:half]}}]}))
            await _send(resp, chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]}))
        await _send(resp, chunk({}, "tool_calls" if calls else "stop"))
        await _send(resp, {"id": "cmpl", "object": "chat.completion.chunk", "choices": [], "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        return resp

    # -- Anthropic Messages -------------------------------------------------------------------
    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        reply = self._next("anthropic", body, dict(request.headers))
        if reply.status >= 400:
            kind = {529: "overloaded_error", 429: "rate_limit_error"}.get(reply.status, "api_error")
            return await _answer(request, reply, reply.error or {"type": "error", "error": {
                "type": kind, "message": f"scripted {reply.status}"}})
        blocks: list[dict[str, Any]] = ([{"type": "text", "text": reply.text}] if reply.text else [])
        blocks += [{"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": a}
                   for i, (n, a) in enumerate(reply.tool_calls)]
        stop = "tool_use" if reply.tool_calls else "end_turn"
        if not body.get("stream"):
            return await _answer(request, reply, {
                "id": "msg", "type": "message", "role": "assistant", "model": body.get("model"), "content": blocks,
                "stop_reason": stop, "usage": {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]}})
        resp = await _sse(request)
        await _send(resp, {"type": "message_start", "message": {"id": "msg", "role": "assistant", "content": [],
                                                                "usage": {"input_tokens": reply.usage[0],
                                                                          "output_tokens": 0}}}, "message_start")
        index = 0
        if reply.text:
            await _send(resp, {"type": "content_block_start", "index": 0,
                               "content_block": {"type": "text", "text": ""}}, "content_block_start")
            ok = await self._stream_text(resp, reply, lambda piece: {
                "type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                "content_block_delta", request)
            if not ok:
                return resp
            await _send(resp, {"type": "content_block_stop", "index": 0}, "content_block_stop")
            index = 1
        for i, (name, args) in enumerate(reply.tool_calls):
            at = index + i
            await _send(resp, {"type": "content_block_start", "index": at,
                               "content_block": {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}},
                        "content_block_start")
            raw = json.dumps(args)
            for piece in (raw[: len(raw) // 2], raw[len(raw) // 2:]):
                await _send(resp, {"type": "content_block_delta", "index": at,
                                   "delta": {"type": "input_json_delta", "partial_json": piece}}, "content_block_delta")
            await _send(resp, {"type": "content_block_stop", "index": at}, "content_block_stop")
        await _send(resp, {"type": "message_delta", "delta": {"stop_reason": stop},
                           "usage": {"output_tokens": reply.usage[1]}}, "message_delta")
        await _send(resp, {"type": "message_stop"}, "message_stop")
        return resp

    async def _stream_text(self, resp: web.StreamResponse, reply: Reply, frame: Callable[[str], dict[str, Any]],
                           event: str | None = None, request: web.Request | None = None) -> bool:
        """Stream the reply's text in pieces; False when the script stalled or broke the stream.
        Without delays, events are written in batches of about 64 KB (each still its own event, as a
        fast provider's arrive several to a network read), so the stand-in is not what a benchmark of
        a long reply measures."""
        pieces = [reply.text[i:i + reply.chunk] for i in range(0, len(reply.text), reply.chunk)]
        head, tail = _event(frame(PIECE), event).split(json.dumps(PIECE).encode())  # one frame, a slot for the text
        batch: list[bytes] = []
        size = 0
        for n, piece in enumerate(pieces):
            if reply.stall_after is not None and n >= reply.stall_after:
                await _flush(resp, batch)
                await asyncio.sleep(3600)  # silent until the client gives up and goes away
            data = head + json.dumps(piece).encode() + tail
            batch.append(data)
            size += len(data)
            if n == 0 or reply.malformed or reply.delay_s or size >= 1 << 16:
                await _flush(resp, batch)
                size = 0
            if n == 0 and request is not None:
                request[FIRST] = time.perf_counter()
            if reply.malformed:
                await resp.write(b"data: {not json\n\n")
                return False
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        await _flush(resp, batch)
        return True


async def _sse(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    return resp


def _event(data: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


async def _send(resp: web.StreamResponse, data: dict[str, Any], event: str | None = None) -> None:
    await resp.write(_event(data, event))


async def _flush(resp: web.StreamResponse, batch: list[bytes]) -> None:
    if batch:
        await resp.write(b"".join(batch))
        batch.clear()


async def _answer(request: web.Request, reply: Reply, body: dict[str, Any]) -> web.StreamResponse:
    """A non-streamed answer (or an error): whole, or (`trickle`) in pieces with a pause between
    them, so the client sees it arrive over many reads as a slow network delivers it."""
    headers = {"retry-after": reply.retry_after} if reply.retry_after is not None else {}
    if reply.trickle is None:
        return web.json_response(body, status=reply.status, headers=headers)
    raw = json.dumps(body).encode()
    resp = web.StreamResponse(status=reply.status, headers={"Content-Type": "application/json", **headers})
    resp.content_length = len(raw)
    await resp.prepare(request)
    for i in range(0, len(raw), reply.trickle):
        await resp.write(raw[i:i + reply.trickle])
        await asyncio.sleep(reply.delay_s or 0.001)
    await resp.write_eof()
    return resp


def main() -> None:
    """Serve in the foreground (benchmarks run it as its own process): prints its OpenAI base URL."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="keep request bodies (memory grows)")
    args = parser.parse_args()
    server = ModelStandin(record=args.record).start()
    print(server.openai_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
