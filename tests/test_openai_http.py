"""OpenAI-compatible HTTP on the gateway port, with the `openai` Python package as the client:
`/v1/models`, `/v1/chat/completions` (streaming and not), `/v1/responses`, sessions picked by `user`
or `x-openclaw-session-key`, bearer auth, the switches, and `/tools/invoke`. Also the Control UI's
page routes: base path, the off switch, `openclaw dashboard`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import Env, free_base, handshake, http_get, make_env, running, tools_invoke, wait_for
from model_standin import ModelStandin, Reply

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("openaihttp"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url)
    env.set_config(("gateway.http.endpoints.chatCompletions.enabled", "true"),
                   ("gateway.http.endpoints.responses.enabled", "true"))
    (env.home / ".openclaw" / "workspace" / "notes.txt").write_text("the secret word is rhubarb\n")
    with running(env.gateway(), port):
        yield env, port


def client(env: Env, port: int, key: str | None = None, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key or env.token(), max_retries=0,
                         timeout=30, default_headers=headers or None)


def test_models_lists_the_agent_targets(gw: tuple[Env, int]) -> None:
    env, port = gw
    ids = [m.id for m in client(env, port).models.list()]
    assert ids == ["openclaw", "openclaw/default", "openclaw/main"]
    assert client(env, port).models.retrieve("openclaw/default").owned_by == "openclaw"
    with pytest.raises(openai.NotFoundError, match="Model 'openclaw/nobody' not found"):
        client(env, port).models.retrieve("openclaw/nobody")


def test_a_wrong_key_is_refused_in_openais_shape(gw: tuple[Env, int]) -> None:
    env, port = gw
    with pytest.raises(openai.AuthenticationError) as caught:
        client(env, port, key="wrong").models.list()
    assert caught.value.body == {"message": "Unauthorized", "type": "unauthorized"}


def test_chat_completions_answer_and_stream(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    reply = client(env, port).chat.completions.create(
        model="openclaw", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "echo: hello" and reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == 11 and reply.usage.completion_tokens == 7
    sent = model.requests("openai")[-1].body
    assert "Be brief." in sent["messages"][0]["content"]  # the caller's system message joins the prompt

    model.replies.append(Reply(text="streamed in several small pieces", chunk=5, delay_s=0.05))
    stream = client(env, port).chat.completions.create(
        model="openclaw/main", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "stream please"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed in several small pieces"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.total_tokens == 18


def _sessions(env: Env, port: int) -> list[str]:
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    try:
        return [s["key"] for s in ws.request("sessions.list", {"limit": 500})["payload"]["sessions"]]
    finally:
        ws.close()


def test_the_user_field_keeps_one_session_and_requests_without_it_get_fresh_ones(gw: tuple[Env, int]) -> None:
    env, port = gw
    api = client(env, port)
    for text in ("first", "second"):
        api.chat.completions.create(model="openclaw", user="conv-42", messages=[{"role": "user", "content": text}])
    api.chat.completions.create(model="openclaw", messages=[{"role": "user", "content": "one-off"}])
    keys = _sessions(env, port)
    assert keys.count("agent:main:openai-user:conv-42") == 1
    assert len([k for k in keys if k.startswith("agent:main:openai:")]) >= 1
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    history = ws.request("chat.history", {"sessionKey": "agent:main:openai-user:conv-42"})["payload"]["messages"]
    ws.close()
    assert [m["content"][0]["text"] for m in history if m["role"] == "user"] == ["first", "second"]

    named = client(env, port, **{"x-openclaw-session-key": "team-room"})
    named.chat.completions.create(model="openclaw", messages=[{"role": "user", "content": "hi room"}])
    assert "agent:main:team-room" in _sessions(env, port)
    reserved = client(env, port, **{"x-openclaw-session-key": "cron:nightly"})
    with pytest.raises(openai.BadRequestError, match="reserved"):
        reserved.chat.completions.create(model="openclaw", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="not an agent target"):
        client(env, port).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])


def test_a_failing_model_is_an_error_not_a_completion(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    model.replies.extend([Reply(status=400, text="bad request upstream")] * 3)
    with pytest.raises(openai.APIStatusError) as caught:
        client(env, port).chat.completions.create(model="openclaw", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 502 and caught.value.body["type"] == "api_error"
    model.replies.clear()


def test_responses_answer_stream_and_continue(gw: tuple[Env, int]) -> None:
    env, port = gw
    api = client(env, port)
    first = api.responses.create(model="openclaw", input="remember me")
    assert first.status == "completed" and first.output_text == "echo: remember me"
    events = list(api.responses.create(model="openclaw", input="stream it", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "echo: stream it"
    follow = api.responses.create(model="openclaw", input="and again", previous_response_id=first.id)
    assert follow.output_text == "echo: and again"
    ws, _ = handshake(port, env.token(), scopes=["operator.read"])
    sessions = ws.request("sessions.list", {"limit": 500})["payload"]["sessions"]
    ws.close()
    continued = [s for s in sessions if s["key"].startswith("agent:main:openresponses:") and s["entries"] >= 4]
    assert continued, "previous_response_id continues the first response's session"


def _invoke(port: int, token: str, body: dict) -> tuple[int, dict]:
    return tools_invoke(port, token, body)


def test_tools_invoke_runs_an_allowed_tool_and_refuses_exec(gw: tuple[Env, int]) -> None:
    env, port = gw
    status, body = _invoke(port, env.token(), {"tool": "read", "args": {"path": "notes.txt"}})
    assert status == 200 and body["ok"] and "rhubarb" in body["result"]
    status, body = _invoke(port, env.token(), {"tool": "exec", "args": {"command": "id"}})
    assert status == 404 and body == {"ok": False, "error": {"type": "not_found", "message":
                                                             "tool 'exec' is not available over HTTP for agent main"}}
    status, body = _invoke(port, "wrong", {"tool": "read", "args": {"path": "notes.txt"}})
    assert status == 401 and body["ok"] is False


def test_the_endpoints_are_off_by_default(started: tuple[Env, int, object]) -> None:
    env, port, _ = started
    assert http_get(port, "/v1/models", headers={"Authorization": f"Bearer {env.token()}"})[0] == 404
    assert http_get(port, "/v1/chat/completions", method="POST")[0] == 404


def test_the_page_moves_to_its_base_path_and_can_be_turned_off(env: Env, base: int, gateways: list) -> None:
    env.configured_gateway(base, gateways, gateway__controlUi__basePath="/ops")
    status, _, body = http_get(base, "/ops/")
    assert status == 200 and b'<base href="/ops/">' in body
    assert http_get(base, "/ops/assets/app.js")[0] == 200 and http_get(base, "/assets/app.js")[0] == 404
    assert http_get(base, "/ops/assets/../../pyproject.toml")[0] == 404
    assert http_get(base, "/ops/chat")[0] == 200  # a view's own address loads the page
    ws, _ = handshake(base, env.token())  # the protocol still answers on /
    ws.close()
    assert env.cli_json("dashboard", "--no-open")["url"] == f"http://127.0.0.1:{base}/ops/#token={env.token()}"
    env.cli("config", "set", "gateway.controlUi.enabled", "false", check=True)
    def page_status() -> int | None:
        try:
            return http_get(base, "/ops/")[0]
        except OSError:  # mid-restart
            return None

    wait_for(lambda: page_status() == 404, what="the page turned off (in-process restart)")
    assert http_get(base, "/")[0] == 426  # plain HTTP on the protocol's root, as before the UI
    proc = env.cli("dashboard", "--no-open")
    assert proc.returncode == 1 and "gateway.controlUi.enabled true" in proc.stderr


def test_a_client_that_goes_away_stops_its_run(gw: tuple[Env, int], model: ModelStandin) -> None:
    env, port = gw
    key = "agent:main:openai-user:leaver"

    def active() -> bool:
        ws, _ = handshake(port, env.token(), scopes=["operator.read"])
        try:
            rows = ws.request("sessions.list", {"limit": 500})["payload"]["sessions"]
        finally:
            ws.close()
        return any(r["key"] == key and r["active"] for r in rows)

    model.replies.append(Reply(text="this reply stalls after its first words", chunk=5, stall_after=1))
    stream = client(env, port).chat.completions.create(model="openclaw", user="leaver", stream=True,
                                                       messages=[{"role": "user", "content": "talk"}])
    chunks = iter(stream)
    assert next(c for c in chunks if c.choices and c.choices[0].delta.content).choices[0].delta.content == "this "
    assert active()
    stream.close()
    wait_for(lambda: not active(), timeout=10, what="the run stopped after the client left")
