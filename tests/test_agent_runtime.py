"""The agent runtime in-process against the model stand-in: prompt, transcripts, tools, lanes,
abort, timeouts, NO_REPLY, compaction."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from model_standin import ModelStandin, Reply

from openclaw.agents.run import TurnInput
from openclaw.agents.runtime import AgentRuntime
from openclaw.agents.tools import Tool, ToolContext
from openclaw.config.view import Config
from openclaw.models.types import ToolSpec
from openclaw.profiles.paths import InstancePaths

ENV = {"OPENCLAW_MODEL_RETRY_BASE_MS": "10"}
KEY = "agent:main:main"


@pytest.fixture
def setup(tmp_path: Path, model: ModelStandin) -> tuple[InstancePaths, dict[str, Any]]:
    model.replies.clear()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "SOUL.md").write_text("You answer like a lighthouse keeper.")
    (workspace / "notes.txt").write_text("the spare key is under the third stone")
    paths = InstancePaths(None, tmp_path, tmp_path / "state", tmp_path / "state" / "openclaw.json", True)
    config = {"agents": {"defaults": {"model": "oa/m", "workspace": str(workspace), "timeoutSeconds": 30}},
              "models": {"providers": {"oa": {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 5}}}}
    return paths, config


async def finished(run: Any) -> Any:
    """The run, once it has ended."""
    await run.done
    return run


def read_tool(calls: list[dict[str, Any]]) -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        calls.append(args)
        return (ctx.workspace / args["path"]).read_text()

    return Tool(ToolSpec("read", "Read a workspace file", {"type": "object"}), run)


def write_tool() -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        return "written"

    return Tool(ToolSpec("write", "Write a file", {"type": "object"}), run, kind="write")


def go(paths: InstancePaths, config: dict[str, Any], body: Any, tools: list[Tool] | None = None) -> Any:
    async def main() -> Any:
        view = Config(config)
        runtime = AgentRuntime(paths, lambda: view, ENV, lambda _t, _a: list(tools or []))
        try:
            return await body(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


def test_a_turn_persists_and_the_next_one_remembers(setup, model: ModelStandin) -> None:
    paths, config = setup

    async def body(rt: AgentRuntime) -> list[Any]:
        first = await finished(rt.submit(TurnInput(KEY, "my name is Ada")))
        second = await finished(rt.submit(TurnInput(KEY, "what is my name?")))
        store = rt.store("main")
        session = await store.session(KEY)
        return [first, second, await store.entries(session.session_id), session]

    first, _, entries, session = go(paths, config, body)
    assert first.status == "ok" and first.text == "echo: my name is Ada" and first.model == "oa/m"
    assert [(e.message.role, e.message.content) for e in entries] == [
        ("user", "my name is Ada"), ("assistant", "echo: my name is Ada"),
        ("user", "what is my name?"), ("assistant", "echo: what is my name?")]
    sent = model.requests()[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "lighthouse keeper" in sent[0]["content"] and "Gateway profile: default" in sent[0]["content"]
    assert session.input_tokens == 22 and session.output_tokens == 14


def test_tool_calls_run_and_feed_back(setup, model: ModelStandin) -> None:
    paths, config = setup
    calls: list[dict[str, Any]] = []
    model.script(Reply(tool_calls=[("read", {"path": "notes.txt"})]), Reply(text="Under the third stone."))

    async def body(rt: AgentRuntime) -> Any:
        run = rt.submit(TurnInput(KEY, "where is the key?", operator=True))
        events: list[Any] = []
        run.subscribe(events.append)
        await run.done
        return run, events

    run, events = go(paths, config, body, [read_tool(calls), write_tool()])
    assert run.text == "Under the third stone." and calls == [{"path": "notes.txt"}]
    tool_result = model.requests()[-1].body["messages"][-1]
    assert tool_result["role"] == "tool" and tool_result["content"] == "the spare key is under the third stone"
    offered = [t["function"]["name"] for t in model.requests()[-1].body["tools"]]
    assert offered == ["read", "write"]
    streams = [(e.stream, e.data.get("phase")) for e in events]
    assert ("tool", "call") in streams and ("tool", "result") in streams and streams[-1] == ("lifecycle", "end")


def test_strangers_never_get_tools_that_change_things(setup, model: ModelStandin) -> None:
    paths, config = setup

    async def body(rt: AgentRuntime) -> Any:
        return await finished(rt.submit(TurnInput(KEY, "please write a file", operator=False)))

    go(paths, config, body, [read_tool([]), write_tool()])
    assert [t["function"]["name"] for t in model.requests()[-1].body["tools"]] == ["read"]


def test_one_session_runs_in_order_two_sessions_at_once(setup, model: ModelStandin) -> None:
    paths, config = setup
    model.script(*[Reply(text="slow answer", delay_s=0.05, chunk=2) for _ in range(3)])

    async def body(rt: AgentRuntime) -> Any:
        a1 = rt.submit(TurnInput(KEY, "one"))
        a2 = rt.submit(TurnInput(KEY, "two"))
        b1 = rt.submit(TurnInput("agent:main:telegram:group:5", "three"))
        await asyncio.gather(a1.done, a2.done, b1.done)
        return a1, a2, b1

    a1, a2, b1 = go(paths, config, body)
    assert a2.started_at >= a1.ended_at  # a follow-up waits for the run before it
    assert b1.started_at < a1.ended_at  # another session does not
    assert {a1.status, a2.status, b1.status} == {"ok"}


def test_abort_stops_the_running_and_the_waiting(setup, model: ModelStandin) -> None:
    paths, config = setup
    model.script(Reply(text="x" * 400, delay_s=0.05, chunk=2))

    async def body(rt: AgentRuntime) -> Any:
        running = rt.submit(TurnInput(KEY, "talk a lot"))
        waiting = rt.submit(TurnInput(KEY, "then this"))
        speaking = asyncio.Event()
        running.subscribe(lambda e: speaking.set() if e.stream == "assistant" else None)
        await speaking.wait()
        stopped = rt.abort(KEY)
        await asyncio.gather(running.done, waiting.done)
        return running, waiting, stopped, rt.busy(KEY)

    running, waiting, stopped, busy = go(paths, config, body)
    assert (running.status, waiting.status) == ("aborted", "aborted") and len(stopped) == 2 and not busy


def test_silent_replies_and_timeouts(setup, model: ModelStandin) -> None:
    paths, config = setup
    model.script(Reply(text="no_reply"), Reply(text="slow", delay_s=0.6, chunk=1))
    config["agents"]["defaults"]["timeoutSeconds"] = 1

    async def body(rt: AgentRuntime) -> Any:
        silent = await finished(rt.submit(TurnInput(KEY, "ok thanks")))
        started = time.monotonic()
        slow = await finished(rt.submit(TurnInput(KEY, "take your time")))
        return silent, slow, time.monotonic() - started

    silent, slow, took = go(paths, config, body)
    assert silent.silent and silent.text == "" and silent.status == "ok"
    assert slow.status == "timeout" and "timeoutSeconds" in slow.error and took < 5


def test_long_conversations_are_compacted(setup, model: ModelStandin) -> None:
    paths, config = setup
    config["models"]["providers"]["oa"]["models"] = [{"id": "m", "contextWindow": 300}]
    model.script(*[Reply(text="noted " + "y" * 150, model="m") for _ in range(6)])

    async def body(rt: AgentRuntime) -> Any:
        for i in range(6):
            await finished(rt.submit(TurnInput(KEY, f"fact {i}: " + "z" * 150)))
        session = await rt.store("main").session(KEY)
        return session, await rt.store("main").history(session)

    session, history = go(paths, config, body)
    summaries = [r for r in model.requests() if not r.body.get("stream")]
    assert summaries and "Summarise this conversation" in summaries[0].body["messages"][0]["content"]
    assert session.compaction_count >= 1 and history[0].content.startswith("[Summary of the earlier conversation]")


def test_session_maintenance_prunes_idle_and_excess_sessions(setup, model: ModelStandin) -> None:
    import sqlite3

    from openclaw.agents.maintenance import duration_ms, policy

    paths, config = setup
    assert duration_ms("30d") == 2_592_000_000 and duration_ms("90m") == 5_400_000 and duration_ms(250) == 250
    assert policy(Config({})).enforce and policy(Config({})).max_entries == 500
    db_path = paths.state_dir / "agents/main/agent/openclaw-agent.sqlite"

    async def seed(rt: AgentRuntime) -> None:
        for i in range(5):
            await finished(rt.submit(TurnInput(f"agent:main:s{i}", f"hello {i}")))

    go(paths, config, seed)
    with sqlite3.connect(db_path) as db:  # s0 went quiet 40 days ago; s1..s4 are recent, oldest first
        db.execute("UPDATE session_nodes SET updated_at = updated_at - ? WHERE session_key = 'agent:main:s0'",
                   (40 * 86_400_000,))
        for i in range(1, 5):
            db.execute("UPDATE session_nodes SET updated_at = updated_at - ? WHERE session_key = ?",
                       ((10 - i) * 1000, f"agent:main:s{i}"))

    def keys() -> list[str]:
        with sqlite3.connect(db_path) as db:
            return sorted(r[0] for r in db.execute("SELECT session_key FROM session_nodes"))

    warn = {**config, "session": {"maintenance": {"mode": "warn", "maxEntries": 3}}}
    assert go(paths, warn, lambda rt: rt.maintain("main")) == ["agent:main:s0", "agent:main:s1"]
    assert len(keys()) == 5  # warn mode only reports
    enforce = {**config, "session": {"maintenance": {"pruneAfter": "30d", "maxEntries": 3}}}

    async def turn_then_wait(rt: AgentRuntime) -> None:
        await finished(rt.submit(TurnInput("agent:main:s4", "still here")))
        await rt._maintenance  # the turn started maintenance in the background

    go(paths, enforce, turn_then_wait)
    assert keys() == ["agent:main:s2", "agent:main:s3", "agent:main:s4"]
    with sqlite3.connect(db_path) as db:  # the pruned sessions' transcripts went with them
        assert db.execute("SELECT COUNT(*) FROM transcript_events WHERE json_extract(event_json, '$.type') = "
                          "'message'").fetchone()[0] == 2 + 2 + 4


def test_the_history_cache_is_bounded_and_written_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from openclaw.agents import historycache
    from openclaw.models.types import Message

    monkeypatch.setattr(historycache, "CACHE_SESSIONS", 3)
    monkeypatch.setattr(historycache, "CACHE_BYTES", 10_000)
    cache = historycache.HistoryCache()
    for i in range(5):
        cache.put(f"s{i}", [Message("user", f"hello {i}")])
    assert cache.get("s0") is None and cache.get("s1") is None and cache.get("s4") is not None  # oldest out
    cache.add("s4", Message("assistant", "hi"))
    got = cache.get("s4")
    assert [m.content for m in got] == ["hello 4", "hi"]
    got.append(Message("user", "a caller's copy"))  # callers get copies
    assert len(cache.get("s4")) == 2
    cache.add("s9", Message("user", "not cached: ignored"))
    assert cache.get("s9") is None
    cache.put("big", [Message("user", "x" * 20_000)])  # larger than the budget on its own
    assert cache.get("big") is None and cache.size <= 10_000


def test_remembered_runs_are_bounded_by_the_text_they_hold(setup, model: ModelStandin,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from openclaw.agents import runtime as runtime_module

    monkeypatch.setattr(runtime_module, "REMEMBERED_TEXT", 25_000)
    paths, config = setup
    model.script(*[Reply(text=f"{i}" * 10_000) for i in range(4)])

    async def body(rt: AgentRuntime) -> Any:
        for i in range(4):
            await finished(rt.submit(TurnInput(f"agent:main:s{i}", "talk", run_id=f"run-{i}")))
        return list(rt.runs)

    assert go(paths, config, body) == ["run-2", "run-3"]  # 20,000 characters kept, the oldest forgotten


def test_a_finished_run_is_freed_without_the_cyclic_collector(setup, model: ModelStandin) -> None:
    """A run (its reply text with it) is gone as soon as nothing refers to it: memory after many
    long replies must not wait for the cyclic garbage collector, which may not run for a long time."""
    import gc
    import weakref

    paths, config = setup
    model.script(Reply(text="x" * 1_000_000))

    async def body(rt: AgentRuntime) -> Any:
        run = await finished(rt.submit(TurnInput(KEY, "a long answer, please")))
        assert run.status == "ok" and len(run.text) == 1_000_000
        gone = weakref.ref(run)
        rt.runs.clear()
        del run
        return gone

    gc.disable()
    try:
        assert go(paths, config, body)() is None
    finally:
        gc.enable()
