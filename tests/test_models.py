"""Model providers against a loopback stand-in that speaks OpenAI Chat Completions and Anthropic
Messages: refs and keys, streaming and not, tool calls, usage, retries, fallbacks, stalls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from model_standin import ModelStandin, Reply

from openclaw.config.view import Config, ModelChoice
from openclaw.models.catalog import chain, parse_ref, providers
from openclaw.models.client import ModelClient
from openclaw.models.types import Message, ModelError, Request, ToolSpec

ENV = {"OPENCLAW_MODEL_RETRY_BASE_MS": "10"}
READ = ToolSpec("read", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})


def config_for(model: ModelStandin, primary: str, fallbacks: list[str] | None = None,
               timeout: float = 5) -> dict[str, Any]:
    return {
        "agents": {"defaults": {"model": {"primary": primary, "fallbacks": fallbacks or []}}},
        "models": {"providers": {
            "oa": {"baseUrl": model.openai_url, "apiKey": "k-oa", "timeoutSeconds": timeout},
            "an": {"baseUrl": model.anthropic_url, "api": "anthropic-messages", "apiKey": "k-an",
                   "timeoutSeconds": timeout},
        }},
    }


def run(config: dict[str, Any], messages: list[Message], stream: bool = True, tools: tuple[ToolSpec, ...] = ()):
    async def go() -> tuple[Any, list[str]]:
        refs, known = chain(Config(config), ENV)
        client = ModelClient(ENV)
        pieces: list[str] = []

        async def on_text(text: str) -> None:
            pieces.append(text)

        try:
            return await client.complete(refs, known, Request("", "be brief", tuple(messages), tools, stream=stream),
                                         on_text), pieces
        finally:
            await client.close()

    return asyncio.run(go())


# -- refs, selection, keys --------------------------------------------------------------------
def test_refs_split_on_the_first_slash_and_resolve_aliases_and_bare_names() -> None:
    config = {"agents": {"defaults": {"models": {"openrouter/moonshotai/kimi-k2": {"alias": "Kimi"}}}},
              "models": {"providers": {"local": {"baseUrl": "http://x/v1", "models": [{"id": "qwen3"}]}}}}
    config = Config(config)
    known = providers(config, {})
    assert str(parse_ref("openrouter/moonshotai/kimi-k2", config, known)) == "openrouter/moonshotai/kimi-k2"
    assert str(parse_ref("kimi", config, known)) == "openrouter/moonshotai/kimi-k2"
    assert str(parse_ref("qwen3", config, known)) == "local/qwen3"
    assert str(parse_ref("gpt-x", config, known, "openai")) == "openai/gpt-x"
    with pytest.raises(ModelError, match=r"unknown provider 'nowhere' in 'nowhere/model' .known: anthropic, local, "):
        parse_ref("nowhere/model", config, known)
    with pytest.raises(ModelError, match="cannot tell which provider serves 'nowhere'; write it as provider/model"):
        parse_ref("nowhere", config, known)


def test_selection_strings_are_strict_and_objects_carry_fallbacks() -> None:
    config = Config({"agents": {"defaults": {"model": {"primary": "openai/a", "fallbacks": ["anthropic/b"]}},
                                "entries": {"ops": {"model": "openai/c"}}}})
    assert config.model_choice() == ModelChoice("openai/a", ("anthropic/b",))
    assert config.model_choice("ops") == ModelChoice("openai/c")
    assert Config({"agents": {"defaults": {"model": "openai/d"}}}).model_choice() == ModelChoice("openai/d")


def test_keys_from_config_env_and_secret_refs(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    config = {"models": {"providers": {
        "openai": {"baseUrl": "http://127.0.0.1:1/v1"},
        "a": {"baseUrl": "http://a", "apiKey": {"source": "env", "id": "A_KEY"}},
        "b": {"baseUrl": "http://b", "apiKey": {"source": "file", "id": str(key_file)}},
        "c": {"baseUrl": "http://c", "apiKey": "literal"},
    }}}
    known = providers(Config(config), {"OPENAI_API_KEY": "sk-env", "A_KEY": "from-env"})
    assert (known["openai"].api_key, known["openai"].key_source) == ("sk-env", "env:OPENAI_API_KEY")
    assert known["openai"].base_url == "http://127.0.0.1:1/v1" and known["openai"].api == "openai-completions"
    assert (known["a"].api_key, known["b"].api_key, known["c"].api_key) == ("from-env", "from-file", "literal")
    assert known["ollama"].has_key and not known["anthropic"].has_key
    replaced = Config({"models": {"mode": "replace", "providers": {"x": {"baseUrl": "http://x"}}}})
    assert set(providers(replaced, {})) == {"x"}


# -- the wire -----------------------------------------------------------------------------------
@pytest.mark.parametrize("primary", ["oa/m1", "an/m1"])
@pytest.mark.parametrize("stream", [True, False])
def test_text_tool_calls_and_usage(model: ModelStandin, primary: str, stream: bool) -> None:
    model.script(Reply(text="Looking at it.", tool_calls=[("read", {"path": "notes/MEMORY.md"})], usage=(40, 9)))
    done, pieces = run(config_for(model, primary), [Message("user", "what do my notes say?")], stream, (READ,))
    assert done.text == "Looking at it." and done.model == primary
    assert [(c.name, c.arguments) for c in done.tool_calls] == [("read", {"path": "notes/MEMORY.md"})]
    assert done.usage.as_dict() == {"input": 40, "output": 9, "total": 49}
    assert "".join(pieces) == "Looking at it." if stream else pieces == []  # relayed a read at a time
    body = model.requests()[-1].body
    assert body["model"] == "m1" and body["stream"] is stream


def test_a_whole_tool_round_trip_is_sent_in_each_api_shape(model: ModelStandin) -> None:
    from openclaw.models.types import ToolCall

    history = [Message("user", "read it"), Message("assistant", "", (ToolCall("call_1", "read", {"path": "a"}),)),
               Message("tool", "file text", tool_call_id="call_1", name="read")]
    run(config_for(model, "oa/m"), history)
    messages = model.requests("openai")[-1].body["messages"]
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert messages[2]["tool_calls"][0]["function"] == {"name": "read", "arguments": '{"path": "a"}'}
    assert messages[3] == {"role": "tool", "tool_call_id": "call_1", "content": "file text"}
    run(config_for(model, "an/m"), history)
    body = model.requests("anthropic")[-1].body
    assert body["system"] == "be brief" and [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "call_1", "content": "file text"}]


def test_rate_limits_are_waited_out_then_the_call_succeeds(model: ModelStandin) -> None:
    model.script(Reply(status=429, retry_after="0"), Reply(status=529, retry_after="0"), Reply(text="fine"))
    done, _ = run(config_for(model, "an/m"), [Message("user", "hi")])
    assert done.text == "fine"


def test_after_three_failures_the_fallback_answers(model: ModelStandin) -> None:
    model.script(*[Reply(status=500, model="broken")] * 3, Reply(text="from the fallback", model="backup"))
    done, _ = run(config_for(model, "oa/broken", ["an/backup"]), [Message("user", "hi")])
    assert done.text == "from the fallback" and done.model == "an/backup"


def test_a_stalled_stream_times_out_and_is_retried(model: ModelStandin) -> None:
    model.script(Reply(text="never", stall_after=0), Reply(text="second try"))
    done, _ = run(config_for(model, "oa/m", timeout=0.5), [Message("user", "hi")])
    assert done.text == "second try"


def test_a_stream_that_breaks_after_text_is_not_repeated(model: ModelStandin) -> None:
    model.script(Reply(text="half an answer that then breaks", malformed=True), Reply(text="should not be sent"))
    with pytest.raises(ModelError) as caught:
        run(config_for(model, "oa/m", ["an/m"]), [Message("user", "hi")])
    assert caught.value.kind == "protocol"
    assert [r.text for r in model.replies] == ["should not be sent"]  # neither retried nor fallen back
    model.replies.clear()
    model.script(Reply(text="partial", stall_after=1, chunk=3))
    with pytest.raises(ModelError) as stalled:
        run(config_for(model, "an/m", timeout=0.5), [Message("user", "hi")])
    assert stalled.value.kind == "timeout"


def test_missing_keys_and_unknown_apis_say_what_to_set(model: ModelStandin) -> None:
    config = {"agents": {"defaults": {"model": "anthropic/claude"}}}
    with pytest.raises(ModelError, match=r"no API key for anthropic .set ANTHROPIC_API_KEY"):
        run(config, [Message("user", "hi")])
    weird = config_for(model, "oa/m")
    weird["models"]["providers"]["oa"]["api"] = "google-generative-ai"
    with pytest.raises(ModelError, match="is not supported"):
        run(weird, [Message("user", "hi")])
