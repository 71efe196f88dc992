"""What the gateway reads from providers and other HTTP servers, in-process
against loopback servers: bodies read to their end however they arrive and never past their bound,
streamed replies taken apart exactly as event-by-event decoding would (every chunking, every
shape a provider may send), and the providers' real context-length errors recognised."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from model_standin import ANTHROPIC_OVERFLOW, OPENAI_OVERFLOW, ModelStandin, Reply

from openclaw.config.view import Config
from openclaw.httpbody import BodyTooLarge, read_body, read_prefix
from openclaw.models import anthropic, deltas, openai, sse, wire
from openclaw.models.catalog import chain
from openclaw.models.client import ModelClient
from openclaw.models.types import Completion, Message, ModelError, Request
from openclaw.rescue.kubeapi import KubeAPI, KubeError
from openclaw.tools import web

ENV = {"OPENCLAW_MODEL_RETRY_BASE_MS": "10"}


# -- a server that sends its bodies in small pieces -------------------------------------------------
@pytest.fixture(scope="module")
def trickle() -> Iterator[tuple[int, dict[str, bytes]]]:
    """GET <path> answers bodies[path] in 4 KB writes with a pause after each (so the client's
    first read holds only the beginning); the Content-Length is omitted for paths ending in `-nolen`."""
    bodies: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path.split("?")[0], b"")
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if body[:1] == b"{" else "text/html; charset=utf-8")
            if not self.path.endswith("-nolen"):
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for i in range(0, len(body), 4096):
                    self.wfile.write(body[i:i + 4096])
                    self.wfile.flush()
                    time.sleep(0.0005)
            except ConnectionError:
                pass  # the client refused the body (past its bound) and left

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], bodies
    server.shutdown()
    server.server_close()


def big_json(size: int) -> bytes:
    return json.dumps({"kind": "StatefulSet", "metadata": {"name": "x"}, "pad": "p" * size}).encode()


def test_bodies_are_read_to_their_end_within_their_bound(trickle: tuple[int, dict[str, bytes]]) -> None:
    import aiohttp

    port, bodies = trickle
    bodies["/a"] = bodies["/a-nolen"] = big_json(1 << 20)

    async def get(path: str, limit: int, whole: bool) -> Any:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as resp:
            return await (read_body(resp.content, limit, resp.headers) if whole else read_prefix(resp.content, limit))

    assert asyncio.run(get("/a", 2 << 20, True)) == bodies["/a"]
    assert asyncio.run(get("/a-nolen", len(bodies["/a"]), True)) == bodies["/a"]  # exactly at the bound
    with pytest.raises(BodyTooLarge):
        asyncio.run(get("/a", 1000, True))  # refused from its Content-Length
    with pytest.raises(BodyTooLarge):
        asyncio.run(get("/a-nolen", len(bodies["/a"]) - 1, True))  # refused once it passes the bound
    head, whole = asyncio.run(get("/a-nolen", 100_000, False))
    assert head == bodies["/a"][:100_000] and not whole
    assert asyncio.run(get("/a", 2 << 20, False)) == (bodies["/a"], True)


def test_kubernetes_answers_arrive_whole(trickle: tuple[int, dict[str, bytes]], tmp_path: Path) -> None:
    port, bodies = trickle
    path = "/apis/apps/v1/namespaces/ns/statefulsets/big"
    bodies[path] = big_json(1 << 20)
    (tmp_path / "token").write_text("t")
    api = KubeAPI(f"http://127.0.0.1:{port}", "ns", tmp_path)
    assert asyncio.run(api.get_statefulset("big"))["pad"] == "p" * (1 << 20)
    bodies[path] = big_json(5 << 20)
    with pytest.raises(KubeError, match="more than"):
        asyncio.run(api.get_statefulset("big"))


def test_web_fetch_reads_a_page_to_its_end_or_says_where_it_cut(trickle: tuple[int, dict[str, bytes]]) -> None:
    port, bodies = trickle
    bodies["/page"] = b"<p>" + "é".encode() * 400_000 + b"</p><p>the end</p>"
    status, _, text = asyncio.run(web.fetch(f"http://127.0.0.1:{port}/page", allow_private=True))
    assert status == 200 and text.endswith("the end</p>") and text.count("é") == 400_000
    bodies["/huge"] = b"<p>" + b"x" * (3 << 20) + b"</p>"
    _, _, text = asyncio.run(web.fetch(f"http://127.0.0.1:{port}/huge", allow_private=True))
    assert text.endswith(web.CUT_NOTE) and len(text) == web.MAX_BYTES + len(web.CUT_NOTE)


# -- provider answers ------------------------------------------------------------------------------
def config_for(model: ModelStandin, primary: str) -> dict[str, Any]:
    return {"agents": {"defaults": {"model": primary}}, "models": {"providers": {
        "oa": {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 10},
        "an": {"baseUrl": model.anthropic_url, "api": "anthropic-messages", "apiKey": "k", "timeoutSeconds": 10}}}}


def ask(model: ModelStandin, primary: str, stream: bool) -> tuple[Completion, list[str]]:
    async def go() -> tuple[Completion, list[str]]:
        refs, known = chain(Config(config_for(model, primary)), ENV)
        client = ModelClient(ENV)
        pieces: list[str] = []

        async def on_text(text: str) -> None:
            pieces.append(text)

        try:
            request = Request("", "be brief", (Message("user", "hi"),), stream=stream)
            return await client.complete(refs, known, request, on_text), pieces
        finally:
            await client.close()

    return asyncio.run(go())


@pytest.mark.parametrize("primary", ["oa/m", "an/m"])
def test_a_1_mb_answer_in_small_pieces_is_read_whole(model: ModelStandin, primary: str) -> None:
    text = "".join(f"line {i}: ünïcode and \"quotes\"\n" for i in range(32_000))  # ~1 MB
    model.replies.clear()
    model.script(Reply(text=text, trickle=4096, delay_s=0.0005))
    done, _ = ask(model, primary, stream=False)
    assert done.text == text


@pytest.mark.parametrize("primary", ["oa/m", "an/m"])
def test_a_long_streamed_reply_in_8_character_deltas_arrives_exactly(model: ModelStandin, primary: str) -> None:
    unit = 'The "gateway" streams every piece; naïve code copies it all again \\ 😀\n'
    text = (unit * 4000)[:250_000]
    model.replies.clear()
    model.script(Reply(text=text, chunk=8))
    done, pieces = ask(model, primary, stream=True)
    assert done.text == text and "".join(pieces) == text
    assert len(pieces) < len(text) // 8  # relayed a network read at a time, not an event at a time


@pytest.mark.parametrize(("primary", "body"), [("oa/m", OPENAI_OVERFLOW), ("an/m", ANTHROPIC_OVERFLOW)])
def test_the_providers_context_length_errors_are_recognised(model: ModelStandin, primary: str,
                                                            body: dict[str, Any]) -> None:
    model.replies.clear()
    model.script(Reply(status=400, error=body, trickle=16), Reply(text="must not be asked"))
    with pytest.raises(ModelError) as caught:
        ask(model, primary, stream=True)
    assert caught.value.kind == "context_overflow" and body["error"]["message"][:40] in str(caught.value)
    assert [r.text for r in model.replies] == ["must not be asked"]  # not retried: the history must shrink first
    model.replies.clear()
    model.script(Reply(status=400, error={"error": {"message": "Invalid 'tools[0].function.name'", "type": "x"}}))
    with pytest.raises(ModelError) as other:
        ask(model, primary, stream=True)
    assert other.value.kind != "context_overflow"


# -- the stream parser and the text-delta shortcut, against event-by-event decoding -------------------
def openai_events(rng: random.Random) -> list[str]:
    """A stream as real providers send it: a role chunk, text with every kind of escape, tool calls,
    usage, an `obfuscation` member that changes every chunk, and members in other orders."""
    head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    rest = ',"logprobs":null,"finish_reason":null}]'

    def text_chunk(text: str) -> str:
        return head + '"choices":[{"index":0,"delta":{"content":' + text + "}" + rest

    def call_chunk(part: str) -> str:
        return head + '"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,' + part + "}]}" + rest + "}"

    texts = ["plain", 'a "quoted" word', "new\nline", "back\\slash\\", "ünï", "😀", "\\", '"', "", "\u2028",
             "x" * 50]
    out = [head + '"choices":[{"index":0,"delta":{"role":"assistant","content":""}' + rest + "}"]
    for _ in range(rng.randint(20, 120)):
        text = json.dumps(rng.choice(texts), ensure_ascii=rng.random() < 0.5)
        form = rng.random()
        if form < 0.6:
            out.append(text_chunk(text) + "}")
        elif form < 0.75:
            out.append(text_chunk(text) + f',"obfuscation":"{rng.randrange(10**6)}"' + "}")
        elif form < 0.8:
            out.append('{"choices": [{"delta": {"content": ' + text + '}, "index": 0}], "model": "m"}')
        elif form < 0.85:
            out.append(call_chunk('"id":"call_1","function":{"name":"read","arguments":'
                                  + json.dumps('{"path": "a') + "}"))
        elif form < 0.9:
            out.append(call_chunk('"function":{"arguments":' + json.dumps('.txt"}') + "}"))
        elif form < 0.95:
            out.append(text_chunk(text) + ',"usage":{"prompt_tokens":3,"completion_tokens":4}}')
        else:
            out.append(text_chunk(text) + ',"nested":{"choices":[{"index":0,"delta":{"content":"not text"}}]}}')
    out.append(head + '"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}')
    out.append('{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7}}')
    return out


def sse_text(datas: list[str], rng: random.Random, names: list[str | None] | None = None) -> bytes:
    parts = []
    for i, data in enumerate(datas):
        name = names[i] if names else None
        newline = "\r\n" if rng.random() < 0.1 else "\n"
        head = f"event: {name}{newline}" if name else ""
        comment = f": keep-alive{newline}" if rng.random() < 0.05 else ""
        parts.append(f"{comment}{head}data: {data}{newline}{newline}")
    return "".join(parts).encode()


def chunked(raw: bytes, rng: random.Random) -> Iterator[bytes]:
    i = 0
    while i < len(raw):
        step = rng.choice([1, 2, 3, 7, 64, 500, 4096, 65536])
        yield raw[i:i + step]
        i += step


def reference(datas: list[str], api: str) -> tuple[str, list[tuple[str, str]], Any]:
    """Every event decoded on its own, as the reader did before it took shortcuts."""
    out, got = Completion(), wire.Streamed()
    for data in datas:
        if api == "openai":
            if data.strip() == "[DONE]":
                break
            openai._take(wire.parse(data), out, got)
        elif anthropic._take(None, wire.parse(data), out, got):
            break
    return "".join(got.text), [(c["name"], "".join(c["pieces"])) for _, c in sorted(got.calls.items())], out.usage


def streamed(raw: bytes, api: str, rng: random.Random) -> tuple[str, list[tuple[str, str]], Any]:
    module = openai if api == "openai" else anthropic
    shape = deltas.Shape(deltas.OPENAI if api == "openai" else deltas.ANTHROPIC)
    parser, out, got = sse.Parser(), Completion(), wire.Streamed()
    for chunk in [*chunked(raw, rng), b""]:
        text = parser.feed(chunk) if chunk else parser.finish()
        if text and wire._take_read(text, shape, module._take_others, out, got):
            break
    return "".join(got.text), [(c["name"], "".join(c["pieces"])) for _, c in sorted(got.calls.items())], out.usage


@pytest.mark.parametrize("seed", range(40))
def test_openai_streams_read_in_any_chunking_say_what_each_event_says(seed: int) -> None:
    rng = random.Random(seed)
    datas = [*openai_events(rng), "[DONE]"]
    assert streamed(sse_text(datas, rng), "openai", rng) == reference(datas, "openai")


@pytest.mark.parametrize("seed", range(20))
def test_anthropic_streams_read_in_any_chunking_say_what_each_event_says(seed: int) -> None:
    rng = random.Random(seed)
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 5}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}})]
    for _ in range(rng.randint(20, 100)):
        text = rng.choice(["plain", 'a "q"', "n\nl", "b\\", "é😀", ""])
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": text}}))
        if rng.random() < 0.05:
            events.append(("ping", {"type": "ping"}))
    events += [("content_block_start", {"type": "content_block_start", "index": 1,
                                        "content_block": {"type": "tool_use", "id": "t1", "name": "read"}}),
               ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                        "delta": {"type": "input_json_delta", "partial_json": '{"path": "x"}'}}),
               ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                                  "usage": {"output_tokens": 9}}),
               ("message_stop", {"type": "message_stop"})]
    compact = rng.random() < 0.5
    datas = [json.dumps(e, separators=(",", ":") if compact else None, ensure_ascii=rng.random() < 0.5)
             for _, e in events]
    raw = sse_text(datas, rng, [name for name, _ in events])
    assert streamed(raw, "anthropic", rng) == reference(datas, "anthropic")


@pytest.mark.parametrize("broken", [
    '{"choices":[{"index":0,"delta":{"content":"a"b"},"logprobs":null,"finish_reason":null}]}',  # raw quote
    '{"choices":[{"index":0,"delta":{"content":"a\\"},"logprobs":null,"finish_reason":null}]}',  # swallowed quote
    '{"choices":[{"index":0,"delta":{"content":"a\tb"},"logprobs":null,"finish_reason":null}]}',  # raw control
    '{"choices":[{"index":0,"delta":{"content":"\\q"},"logprobs":null,"finish_reason":null}]}',  # bad escape
])
def test_a_broken_delta_among_good_ones_fails_as_it_would_alone(broken: str) -> None:
    good = '{"choices":[{"index":0,"delta":{"content":"ok "},"logprobs":null,"finish_reason":null}]}'
    rng = random.Random(1)
    raw = sse_text([good] * 50 + [broken] + [good] * 50, rng)
    with pytest.raises(ModelError) as caught:
        streamed(raw, "openai", rng)
    assert caught.value.kind == "protocol"


def test_an_error_member_after_the_text_is_never_skipped() -> None:
    good = '{"choices":[{"index":0,"delta":{"content":"ok "},"finish_reason":null}]}'
    bad = '{"choices":[{"index":0,"delta":{"content":"ok "},"finish_reason":null}],"error":{"message":"quota"}}'
    rng = random.Random(2)
    with pytest.raises(ModelError, match="quota"):
        streamed(sse_text([good] * 30 + [bad], rng), "openai", rng)


def test_stream_events_and_lines_are_bounded() -> None:
    parser = sse.Parser(max_event=1000)
    assert parser.feed(b"data: " + b"x" * 900) == ""
    with pytest.raises(ModelError, match="longer than 1000 bytes"):
        parser.feed(b"x" * 200)
    streamed_text = wire.Streamed()
    with pytest.raises(ModelError, match="tool calls"):
        for i in range(wire.MAX_TOOL_CALLS + 1):
            streamed_text.call(i)
