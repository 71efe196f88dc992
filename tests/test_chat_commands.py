"""Chat commands on every surface: the Control UI's `chat.send`, `openclaw agent` (the `agent`
method) and `/v1/chat/completions` + `/v1/responses` are answered by the command registry, never
by the model (the Telegram and rescue tests cover the channel side)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Env, RawWs, free_base, handshake, make_env, running
from model_standin import ModelStandin

from openclaw.chat.builtin import chat_commands
from openclaw.chat.commands import (
    AGENT,
    CHANNEL,
    HTTP,
    ChatCommand,
    Command,
    CommandCall,
    CommandReply,
    Sender,
    parse,
)
from openclaw.config.view import Config

SESSION = "agent:main:commands"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("chatcommands"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, '{"primary": "stand/m1", "fallbacks": ["stand/m2"]}')
    env.set_config(("gateway.http.endpoints.chatCompletions.enabled", "true"),
                   ("gateway.http.endpoints.responses.enabled", "true"))
    with running(env.gateway(), port):
        yield env, port


def ui(env: Env, port: int) -> RawWs:
    ws, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui",
                      scopes=["operator.admin", "operator.write", "operator.read"])
    return ws


def send(ws: RawWs, message: str, req_id: str) -> tuple[dict[str, Any], str]:
    """`chat.send` one message; (the response's payload, the text of the run's final chat event)."""
    ws.send({"type": "req", "id": req_id, "method": "chat.send",
             "params": {"sessionKey": SESSION, "message": message, "idempotencyKey": req_id}})
    response, final = None, None
    while response is None or final is None:
        msg = ws.recv(timeout=20)
        if msg.get("type") == "res" and msg.get("id") == req_id:
            assert msg["ok"], msg
            response = msg["payload"]
        elif msg.get("event") == "chat" and msg["payload"].get("runId") == req_id \
                and msg["payload"]["state"] in ("final", "error", "aborted"):
            assert msg["payload"]["state"] == "final", msg
            final = msg["payload"]["message"]["content"][0]["text"]
    return response, final


def test_the_parser_and_the_registry() -> None:
    assert parse("  /Model stand/m2 now ") == Command("model", ["stand/m2", "now"], "stand/m2 now")
    assert parse("/help@group_bot", "Group_Bot") == Command("help", [], "")
    assert parse("/help@other_bot", "group_bot") is None and parse("hello /new") is None
    registry = chat_commands()
    assert registry.match(Command("reset", [], ""), HTTP).name == "new"
    assert registry.match(Command("start", [], ""), CHANNEL).name == "start"
    assert registry.match(Command("start", [], ""), AGENT) is None  # a channel's greeting only
    assert registry.lookup("/nosuch", AGENT) is None
    start = registry.lookup("/start", CHANNEL)
    assert start is not None
    greeting = asyncio.run(registry.run(start[0], CommandCall(start[1], Sender("7", "telegram/default", "chat"),
                                                              Config({}), None, lambda _r: "-"))).text
    assert greeting.startswith("Hi! I'm") and "/whoami - " in greeting and "/start" not in greeting

    async def stop_one(call: CommandCall) -> CommandReply:
        return CommandReply(f"stopping {call.command.args[0]}")

    registry.register(ChatCommand("stop", "/stop <profile>", stop_one, access="operator", needs_model=False,
                                  surfaces=frozenset({CHANNEL}), accepts=lambda cmd: bool(cmd.args)))
    assert registry.match(Command("stop", ["main"], "main"), CHANNEL).help == "/stop <profile>"
    assert registry.match(Command("stop", [], ""), CHANNEL).help.startswith("/stop - ")
    assert registry.match(Command("stop", ["main"], "main"), AGENT).help.startswith("/stop - ")
    found = registry.lookup("/stop main", CHANNEL)
    assert found is not None
    guest = CommandCall(found[1], Sender("7", "telegram/default", "chat"), Config({}), None, lambda _r: "-")
    assert "only this gateway's owners" in asyncio.run(registry.run(found[0], guest)).text


def test_new_in_the_control_ui_chat_starts_a_new_session_without_the_model(gw: tuple[Env, int],
                                                                          model: ModelStandin) -> None:
    env, port = gw
    ws = ui(env, port)
    first, _ = send(ws, "remember tea", "n-1")
    assert first["status"] == "accepted"
    asked = len(model.requests())
    fresh, text = send(ws, "/new", "n-2")
    assert text == "New session started." and fresh["status"] == "ok"
    assert fresh["sessionKey"] == SESSION and fresh["sessionId"] != first["sessionId"]
    history = ws.request("chat.history", {"sessionKey": SESSION}, req_id="h")["payload"]
    assert history["sessionId"] == fresh["sessionId"] and history["messages"] == []
    _, text = send(ws, "/reset", "n-3")
    assert text == "New session started."
    assert len(model.requests()) == asked  # neither command reached the model
    ws.close()


def test_model_shows_and_sets_the_sessions_model_in_chat_send(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    ws = ui(env, port)
    asked = len(model.requests())
    _, shown = send(ws, "/model", "m-1")
    assert shown.startswith("Model: stand/m1 (fallbacks: stand/m2).")
    _, chosen = send(ws, "/model stand/m2", "m-2")
    assert chosen == "This session now uses stand/m2."
    _, shown = send(ws, "/model", "m-3")
    assert shown.startswith("Model: stand/m2.")
    _, bad = send(ws, "/model nowhere/m9", "m-4")
    assert "unknown provider 'nowhere'" in bad
    assert len(model.requests()) == asked
    _, reply = send(ws, "which model?", "m-5")
    assert reply == "echo: which model?" and model.requests()[-1].body["model"] == "m2"
    _, back = send(ws, "/model default", "m-6")
    assert back == "Back to the default model."
    ws.close()


def test_whoami_through_openclaw_agent_never_asks_the_model(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, _ = gw
    asked = len(model.requests())
    proc = env.cli("agent", "--message", "/whoami", check=True)
    reply = proc.stdout.strip()
    assert reply.startswith("You are cli/") and reply.endswith("on gateway; access: operator; session: agent:main:main")
    stopped = env.cli_json("agent", "-m", "/stop", "--session-key", "agent:main:cli-stop")
    assert stopped["status"] == "ok" and stopped["result"]["payloads"][0]["text"] == "Nothing is running."
    assert len(model.requests()) == asked


def test_a_command_in_v1_is_answered_without_the_model(gw: tuple[Env, int], model: ModelStandin) -> None:
    openai = pytest.importorskip("openai")
    env, port = gw
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=env.token(), max_retries=0, timeout=30)
    asked = len(model.requests())
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]
    done = client.chat.completions.create(model="openclaw", user="cmd",
                                          messages=[*history, {"role": "user", "content": "/whoami"}])
    text = done.choices[0].message.content
    assert text.startswith("You are http@127.0.0.1 on http") and text.endswith("session: agent:main:openai-user:cmd")
    assert done.object == "chat.completion" and done.choices[0].finish_reason == "stop"
    stream = client.chat.completions.create(model="openclaw", stream=True,
                                            messages=[{"role": "user", "content": "/stop"}])
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Nothing is running."
    assert chunks[-1].choices[0].finish_reason == "stop"
    response = client.responses.create(model="openclaw", input="/new")
    assert response.status == "completed" and response.output_text == "New session started."
    streamed = [e for e in client.responses.create(model="openclaw", input="/model", stream=True)]
    assert streamed[-1].type == "response.completed"
    assert streamed[-1].response.output_text.startswith("Model: stand/m1")
    assert len(model.requests()) == asked
    # plain text still goes to the model
    assert client.chat.completions.create(model="openclaw", messages=[{"role": "user", "content": "a /new idea"}]
                                          ).choices[0].message.content == "echo: a /new idea"
