"""Memory end to end: a real gateway and the model stand-in. A fact written in one session (by the
model's `write` tool into memory/, and by the session-memory hook on /new) is found by `memory_search`
in the next one, by keyword and with the stand-in's embeddings; today's notes reach the prompt after
/new; `memory_get` stays within memory files and bounds; `openclaw memory status|search|index`; and
upstream's `memory status` reads an index ours built (skipped without upstream)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, RawWs, handshake, running, upstream_bin, wait_for
from model_standin import ModelStandin, Reply, hashed_vector

from openclaw.agents import prompt
from openclaw.agents.tools import ToolContext
from openclaw.config.view import Config
from openclaw.memory.chunking import chunk_text
from openclaw.memory.settings import hook_settings, search_settings
from openclaw.profiles.paths import resolve_paths
from openclaw.tools.memory import memory_tools

KEY = "agent:main:memory"
TODAY = dt.date.today().isoformat()
UPSTREAM = upstream_bin()


def ui(env: Env, port: int) -> RawWs:
    ws, _ = handshake(port, env.token(), client_id="openclaw-control-ui", mode="ui",
                      scopes=["operator.admin", "operator.write", "operator.read"])
    return ws


def send(ws: RawWs, message: str, req_id: str) -> str:
    """`chat.send` one message and wait for its run's final text."""
    ws.send({"type": "req", "id": req_id, "method": "chat.send",
             "params": {"sessionKey": KEY, "message": message, "idempotencyKey": req_id}})
    while True:
        msg = ws.recv(timeout=30)
        if msg.get("type") == "res" and msg.get("id") == req_id:
            assert msg["ok"], msg
        elif msg.get("event") == "chat" and msg["payload"].get("runId") == req_id \
                and msg["payload"]["state"] in ("final", "error", "aborted"):
            assert msg["payload"]["state"] == "final", msg
            return str(msg["payload"]["message"]["content"][0]["text"])


def tool_result(model: ModelStandin) -> dict[str, Any]:
    last = model.requests("openai")[-1].body["messages"][-1]
    assert last["role"] == "tool", last
    found: dict[str, Any] = json.loads(last["content"])
    return found


def system_prompt(model: ModelStandin, index: int = -1) -> str:
    return str(model.requests("openai")[index].body["messages"][0]["content"])


def notes_section(system: str) -> str:
    start = system.index("## Recent notes (memory/)")
    return system[start:system.index("\n## ", start + 1)]


def workspace(env: Env) -> Path:
    return env.home / ".openclaw" / "workspace"


def remember_and_recall(env: Env, port: int, model: ModelStandin) -> dict[str, Any]:
    """Session one writes a note (tool) and says something the hook keeps; /new; session two searches."""
    note = f"memory/{TODAY}.md"
    with running(env.gateway(), port):
        ws = ui(env, port)
        model.script(Reply(tool_calls=[("write", {"path": note, "content": "- Prefers oolong tea, no sugar.\n"})]),
                     Reply(text="Noted."))
        assert send(ws, "remember that I prefer oolong tea", "r-1") == "Noted."
        assert "Memory Recall" in system_prompt(model)
        assert send(ws, "our sailing boat is called Marigold", "r-2") == "echo: our sailing boat is called Marigold"
        folder = workspace(env) / "memory"
        day = dt.date.today()
        (folder / f"{day - dt.timedelta(days=1)}-standup.md").write_text("- Yesterday: fixed the gate latch.\n")
        (folder / f"{day - dt.timedelta(days=2)}.md").write_text("- Two days ago: painted the shed.\n")
        send(ws, "/new", "r-3")
        saved = wait_for(lambda: [p for p in folder.glob(f"{TODAY}-*.md")], timeout=20, what="the session note")
        assert "Marigold" in saved[0].read_text() and "/new" in saved[0].read_text()
        model.script(Reply(tool_calls=[("memory_search", {"query": "which tea do I like?"})]), Reply(text="Oolong."))
        assert send(ws, "what tea do I like?", "r-4") == "Oolong."
        fresh = system_prompt(model)
        assert "Recent notes (memory/)" in fresh and "oolong tea, no sugar" in fresh  # today's note, after /new
        assert "fixed the gate latch" in fresh and "painted the shed" not in fresh  # yesterday's too, no older
        tea = tool_result(model)
        model.script(Reply(tool_calls=[("memory_search", {"query": "name of the sailing boat", "maxResults": 2})]),
                     Reply(text="Marigold."))
        assert send(ws, "what is the boat called?", "r-5") == "Marigold."
        boat = tool_result(model)
        assert notes_section(system_prompt(model)) == notes_section(fresh)  # the same for the whole session
        reset = ws.request("sessions.reset", {"key": KEY, "reason": "reset"}, req_id="r-6")
        assert reset["ok"], reset
        later = wait_for(lambda: [p for p in folder.glob(f"{TODAY}-*.md") if p != saved[0]], timeout=20,
                         what="the note of sessions.reset")
        assert "what is the boat called?" in later[0].read_text() and "sessions.reset (reset)" in later[0].read_text()
        ws.close()
    [written] = [r for r in tea["results"] if r["path"] == note]  # and the hook's note, which said it too
    assert "oolong" in written["snippet"] and written["citation"] == f"{note}#L1-L1"
    assert all("oolong" in r["snippet"] for r in tea["results"])
    assert boat["results"][0]["path"] == f"memory/{saved[0].name}" and len(boat["results"]) <= 2
    assert "Marigold" in boat["results"][0]["snippet"]
    return tea


def test_a_fact_from_one_session_is_found_in_the_next_by_keyword(env: Env, base: int, model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    env.set_config(("hooks.internal.entries.session-memory", '{"enabled": true}'))
    tea = remember_and_recall(env, base, model)
    assert tea["mode"] == "fts" and tea["results"][0]["score"] == 1.0 and len(tea["results"]) == 2
    assert model.requests("embeddings") == []
    db = env.state_dir() / "agents/main/agent/openclaw-agent.sqlite"
    assert db.exists()


def test_with_embeddings_the_search_is_hybrid(env: Env, base: int, model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    env.set_config(("hooks.internal.entries.session-memory", "{}"),
                   ("agents.defaults.memorySearch", json.dumps({  # upstream's legacy place is read too
                       "provider": "openai-compatible", "model": "hash-embed",
                       "remote": {"baseUrl": model.openai_url, "apiKey": "k-embed"}})))
    tea = remember_and_recall(env, base, model)
    assert tea["mode"] == "hybrid"
    assert 0.35 <= tea["results"][0]["score"] < 1.0  # 0.7 cosine + 0.3 keyword
    calls = model.requests("embeddings")
    assert calls and all(c.body["model"] == "hash-embed" for c in calls)
    assert calls[0].headers.get("Authorization") == "Bearer k-embed"
    assert any(c.body["input"] == ["which tea do I like?"] for c in calls)  # the query, embedded
    status = env.cli_json("memory", "status")
    [entry] = status
    assert entry["status"]["model"] == "hash-embed" and entry["status"]["cache"]["entries"] > 0


def test_memory_get_reads_only_memory_files_within_bounds(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "memory").mkdir(parents=True)
    (ws / "memory" / "long.md").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    (ws / "notes.md").write_text("not memory")
    (ws / "MEMORY.md").write_text("# Memory\nfact\n")
    secret = tmp_path / "secret.md"
    secret.write_text("token")
    (ws / "memory" / "link.md").symlink_to(secret)
    tools = {t.name: t for t in memory_tools(resolve_paths(os.environ), lambda: Config({}), {})}
    ctx = ToolContext(ws, "main", KEY, False)

    def get(**args: Any) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(asyncio.run(tools["memory_get"].run(args, ctx)))
        return found

    first = get(path="memory/long.md")
    assert first["status"] == "ok" and first["startLine"] == 1 and first["endLine"] == 120
    assert first["nextFrom"] == 121 and first["totalLines"] == 1000 and first["truncated"]
    more = get(path="memory/long.md", **{"from": 990, "lines": 50})
    assert more["text"].splitlines() == [f"line {i}" for i in range(990, 1001)] and "nextFrom" not in more
    assert get(path="memory/long.md", lines=100_000)["endLine"] == 400  # at most 400 lines at once
    assert get(path="MEMORY.md#L1-L2")["text"] == "# Memory\nfact"
    assert get(path="memory/none.md")["status"] == "not_found"
    for bad in ("notes.md", "../secret.md", "memory/../notes.md", str(secret), "memory/link.md",
                "openclaw.json"):
        refused = get(path=bad)
        assert refused["status"] == "error" and "text" not in refused, bad
    assert tools["memory_get"].kind == "read" and tools["memory_search"].kind == "read"


def test_cli_index_status_and_search(env: Env, base: int) -> None:
    env.provision(None, base)
    ws = workspace(env)
    (ws / "memory" / "projects").mkdir(parents=True)
    (ws / "MEMORY.md").write_text("# Memory\n\nThe user's cat is named Pixel.\n")
    (ws / "memory" / f"{TODAY}.md").write_text("- Booked the dentist for Friday.\n")
    (ws / "memory" / "projects" / "zebra.md").write_text("# Zebra\n\n" + "The zebra project ships in May.\n" * 200)
    (ws / "memory" / ".hidden.md").write_text("dentist secret")
    before = env.cli_json("memory", "status")
    assert before[0]["status"]["files"] == 0 and before[0]["status"]["dirty"]
    out = env.cli("memory", "index", check=True).stdout
    assert "4 files scanned, 4 indexed" in out  # with the starter USER.md
    [entry] = env.cli_json("memory", "status")
    assert entry["agentId"] == "main" and entry["status"]["files"] == 4 and not entry["status"]["dirty"]
    assert entry["status"]["chunks"] > 4  # the long note is several chunks
    text = env.cli("memory", "status", check=True).stdout
    assert "Indexed: 4/4 files" in text and "Dirty: no" in text
    found = env.cli_json("memory", "search", "dentist")["results"]
    assert [r["path"] for r in found] == [f"memory/{TODAY}.md"]
    assert found[0]["startLine"] == 1 and found[0]["citation"] == f"memory/{TODAY}.md#L1-L1"
    zebra = env.cli_json("memory", "search", "zebra project", "--max-results", "2")["results"]
    assert len(zebra) == 2 and all(r["path"] == "memory/projects/zebra.md" for r in zebra)
    assert env.cli_json("memory", "search", "xylophone quasar")["results"] == []
    (ws / "memory" / f"{TODAY}.md").unlink()
    assert "Dirty: yes" in env.cli("memory", "status", check=True).stdout
    assert env.cli_json("memory", "search", "dentist")["results"] == []  # the search synced first
    assert "0 indexed, 0 removed" in env.cli("memory", "index", check=True).stdout
    assert "3 indexed" in env.cli("memory", "index", "--force", check=True).stdout
    assert env.cli("memory", "search", "x", "--agent", "nobody").returncode != 0


def test_settings_prompt_caps_and_chunks(tmp_path: Path) -> None:
    config = Config({"memorySearch": {"model": "old", "query": {"maxResults": 3}},
                     "agents": {"defaults": {"memorySearch": {"provider": "openai-compatible"},
                                             "userTimezone": "Europe/Paris"},
                                "entries": {"main": {"memory": {"search": {"query": {"minScore": 0.5}}}}}},
                     "memory": {"search": {"model": "new"}},
                     "hooks": {"internal": {"entries": {"session-memory": {"messages": 4}}}}})
    s = search_settings(config, "main")
    assert (s.model, s.provider, s.max_results, s.min_score) == ("new", "openai-compatible", 3, 0.5)
    assert hook_settings(config).enabled and hook_settings(config).messages == 4
    assert not hook_settings(Config({})).enabled
    assert not hook_settings(Config({"hooks": {"internal": {"enabled": False, "entries": {
        "session-memory": {}}}}})).enabled
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "USER.md").write_text("u" * 10_000)
    (ws / "MEMORY.md").write_text("m" * 30_000)
    files = dict(prompt.read_files(ws, *prompt.caps(None, None)))
    assert files["USER.md"].startswith("u" * 4000) and "cut at 4000" in files["USER.md"]
    assert "cut at 20000" in files["MEMORY.md"]
    lowered = dict(prompt.read_files(ws, *prompt.caps(1000, None)))
    assert "cut at 1000" in lowered["USER.md"] and "cut at 1000" in lowered["MEMORY.md"]
    chunks = chunk_text("\n".join(f"line {i} " + "x" * 90 for i in range(1, 101)))
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 100
    assert all(len(c.text) <= 1600 for c in chunks)
    assert all(b.start_line <= a.end_line for a, b in itertools.pairwise(chunks))  # overlap


@pytest.mark.upstream
@pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")
@pytest.mark.timeout(600)
def test_upstream_memory_status_reads_our_index(env: Env, base: int) -> None:
    env.provision(None, base)
    ws = workspace(env)
    (ws / "memory").mkdir(exist_ok=True)
    (ws / "MEMORY.md").write_text("# Memory\n\nThe user's cat is named Pixel.\n")
    (ws / "memory" / f"{TODAY}.md").write_text("- Booked the dentist for Friday.\n")
    env.cli("memory", "index", check=True)
    assert UPSTREAM is not None

    def upstream(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=300)

    for _ in range(2):  # upstream's CLI needs its doctor once on a store ours created (docs/upstream-state.md)
        if upstream("doctor", "--fix", "--non-interactive").returncode == 0:
            break
    proc = upstream("memory", "status")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Indexed: 3/3 files" in proc.stdout, proc.stdout
    [entry] = json.loads(upstream("memory", "status", "--json").stdout)
    assert entry["agentId"] == "main" and entry["status"]["files"] == 3 and entry["status"]["chunks"] >= 3
    searched = upstream("memory", "search", "dentist", "--json")
    assert json.loads(searched.stdout)["results"][0]["path"] == f"memory/{TODAY}.md", searched.stdout[-1500:]
    # and ours keeps working on the store upstream migrated (its 23 shape: FTS by triggers, BLOB vectors)
    (ws / "memory" / "later.md").write_text("The boat is called Marigold.\n")
    found = env.cli_json("memory", "search", "Marigold boat")["results"]
    assert found and found[0]["path"] == "memory/later.md"
    assert "Indexed: 4/4 files" in upstream("memory", "status").stdout


def test_vectors_both_forms_and_both_engines() -> None:
    from openclaw.memory.vectors import Matrix, decode, encode

    assert decode(encode([0.5, -1.25], binary=True)) == (0.5, -1.25)
    assert decode(encode([0.5, -1.25], binary=False)) == (0.5, -1.25)
    assert decode(b"\x00" * 7) == () and decode("not json") == () and decode("") == ()
    rows = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.7, 0.7, 0.0)]
    pure = Matrix([10, 20, 30], list(rows), use_numpy=False)
    assert [i for i, _ in pure.top((1.0, 0.1, 0.0), 2)] == [10, 30]
    assert pure.one((0.0, 2.0, 0.0), 20) == pytest.approx(1.0) and pure.one((1.0, 0.0, 0.0), 99) is None
    fast = Matrix([10, 20, 30], list(rows))
    if fast.numpy:  # numpy is optional (the `embeddings` extra)
        assert [i for i, _ in fast.top((1.0, 0.1, 0.0), 2)] == [10, 30]
        assert fast.one((0.0, 2.0, 0.0), 20) == pytest.approx(1.0)


def test_a_failing_embeddings_endpoint_leaves_keyword_search(tmp_path: Path, model: ModelStandin) -> None:
    from openclaw.memory.index import MemoryIndex
    from openclaw.memory.registry import close_all, index_for
    from openclaw.memory.status import status as read_status

    ws = tmp_path / "ws"
    (ws / "memory").mkdir(parents=True)
    (ws / "memory" / "a.md").write_text("The spare key is under the blue pot.\n")
    down = {"memory": {"search": {"provider": "openai-compatible", "model": "e1",
                                  "remote": {"baseUrl": "http://127.0.0.1:9/v1", "apiKey": "k"}}}}

    async def go() -> tuple[Any, ...]:
        index: MemoryIndex = index_for(tmp_path / "state", "main", ws, Config(down), {})
        report = await index.sync()
        found = await index.search("spare key")
        status = await read_status(index)
        up = {"memory": {"search": {**down["memory"]["search"], "remote": {"baseUrl": model.openai_url}}}}
        back = index_for(tmp_path / "state", "main", ws, Config(up), {})  # the endpoint is back
        healed = await back.sync()
        hybrid = await back.search("spare key")
        keyword = index_for(tmp_path / "state", "main", ws, Config({"memory": {"search": {
            "store": {"fts": {"tokenizer": "trigram"}}}}}), {})  # new settings: a new index, FTS rebuilt
        again = await keyword.search("pot")
        await close_all()
        return report, found, status, healed, hybrid, again

    report, found, status, healed, hybrid, again = asyncio.run(go())
    assert report.error and "127.0.0.1:9" in report.error and report.chunks == 1
    assert [r.path for r in found] == ["memory/a.md"] and found[0].vector_score is None
    assert status.error and status.chunks == 1 and status.model == "e1"
    assert healed.embedded == 1 and healed.error is None  # the keyword-only chunk is embedded now
    expected = sum(a * b for a, b in zip(hashed_vector("spare key"), hashed_vector(
        "The spare key is under the blue pot."), strict=True))
    assert hybrid[0].vector_score == pytest.approx(expected, abs=1e-6)
    assert [r.path for r in again] == ["memory/a.md"]


def test_the_session_note_skips_commands_and_takes_a_free_name(tmp_path: Path) -> None:
    from openclaw.memory import sessionnote

    messages = [("user", "/model"), ("user", "first"), ("assistant", "NO_REPLY"), ("tool", "out"),
                ("user", "second"), ("assistant", "third")]
    one = sessionnote.save(tmp_path, messages, 2, "agent:main:main", "s1", "/new", "UTC")
    assert one is not None and one.parent == tmp_path / "memory"
    when = dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)
    names = [sessionnote.write_note(tmp_path, "x", when).name for _ in range(3)]
    assert names == ["2026-03-04-0506.md", "2026-03-04-0506-2.md", "2026-03-04-0506-3.md"]
    text = one.read_text()
    assert "**user**: second" in text and "**assistant**: third" in text
    assert "first" not in text and "/model" not in text and "NO_REPLY" not in text and "out" not in text
    assert sessionnote.save(tmp_path, [("user", "/new")], 15, "k", "s", "/new", None) is None


def test_a_changed_file_is_indexed_in_the_background(tmp_path: Path) -> None:
    from openclaw.memory.registry import close_all, index_for

    ws = tmp_path / "ws"
    (ws / "memory").mkdir(parents=True)
    (ws / "memory" / "a.md").write_text("The kettle is blue.\n")

    async def chunks_of(index: Any) -> list[str]:
        rows = await index.store.file.run(lambda db: db.execute(
            "SELECT path FROM memory_index_chunks ORDER BY path").fetchall())
        return [r[0] for r in rows]

    async def go() -> list[list[str]]:
        index = index_for(tmp_path / "state", "main", ws, Config({}), {})
        seen = []
        index.schedule(0.01)
        seen.append(await poll(lambda: chunks_of(index), lambda found: found == ["memory/a.md"]))
        (ws / "memory" / "a.md").write_text("The kettle is green now.\n")  # same folder: only a full scan sees it
        (ws / "MEMORY.md").write_text("# Memory\n")
        index.schedule(0.01)
        seen.append(await poll(lambda: chunks_of(index), lambda found: found == ["MEMORY.md", "memory/a.md"]))
        [hit] = await index.search("green kettle")
        seen.append([hit.snippet])
        await close_all()
        return seen

    seen = asyncio.run(go())
    assert seen == [["memory/a.md"], ["MEMORY.md", "memory/a.md"], ["The kettle is green now."]]


async def poll(read: Any, done: Any, timeout: float = 10.0) -> Any:
    """`await read()` until `done(value)`, at most `timeout` seconds (then the last value)."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = await read()
    while not done(value) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        value = await read()
    return value


def test_where_embeddings_come_from() -> None:
    from openclaw.memory.endpoint import endpoint

    def url(raw: dict[str, Any], env: dict[str, str] | None = None) -> str | None:
        config = Config(raw)
        found = endpoint(search_settings(config, "main"), config, env or {})
        return None if found is None else f"{found.url} {found.model} {found.api_key}"

    assert url({}) is None  # openai without a key: keyword search only, as upstream
    assert url({}, {"OPENAI_API_KEY": "sk-1"}) == "https://api.openai.com/v1/embeddings text-embedding-3-small sk-1"
    assert url({"models": {"providers": {"openai": {"baseUrl": "http://proxy:8/v1", "apiKey": "p"}}}}) == \
        "http://proxy:8/v1/embeddings text-embedding-3-small p"
    assert url({"memory": {"search": {"provider": "openai-compatible"}}}) is None
    assert url({"memory": {"search": {"provider": "openai-compatible", "model": "m",
                                      "remote": {"baseUrl": "http://h:1/"}}}}) == "http://h:1/v1/embeddings m None"
    assert url({"memory": {"search": {"provider": "gemini"}}}, {"OPENAI_API_KEY": "sk-1"}) is None
    assert url({"memory": {"search": {"enabled": False}}}, {"OPENAI_API_KEY": "sk-1"}) is None


def test_the_memory_keys_are_checked_and_upstreams_others_kept() -> None:
    from openclaw.config.validate import validate_config

    def problems(data: dict[str, Any]) -> list[str]:
        return [f"{i.path}: {i.message}" for i in validate_config(data)[1]]

    good = {"memory": {"citations": "off", "search": {
        "provider": "openai-compatible", "remote": {"baseUrl": "http://h/v1", "apiKey": {"source": "env", "id": "K"}},
        "query": {"maxResults": 3, "minScore": 0}, "extraPaths": ["../team", {"path": "/srv", "pattern": "*.md"}],
        "sources": ["memory"], "store": {"fts": {"tokenizer": "trigram"}}, "cache": {"enabled": True}}},
        "memorySearch": {"model": "m"}, "agents": {"defaults": {"memorySearch": {"enabled": False}}},
        "hooks": {"internal": {"entries": {"session-memory": {"enabled": True, "messages": 5},
                                           "boot-md": {"enabled": True}}}}}
    assert problems(good) == []
    bad = problems({"memory": {"search": {"bogus": 1, "query": {"minScore": 3}}},
                    "hooks": {"internal": {"entries": {"session-memory": {"messages": 0}}}}})
    assert any(p.startswith("memory.search.bogus: unknown key") for p in bad)
    assert any(p.startswith("memory.search.query.minScore") for p in bad)
    assert any(p.startswith("hooks.internal.entries.session-memory.messages") for p in bad)


def test_results_are_diverse() -> None:
    from openclaw.memory.ranking import Scored, diversify
    from openclaw.memory.store import Hit

    def scored(rowid: int, text: str, score: float) -> Scored:
        return Scored(Hit(rowid, f"memory/{rowid}.md", 1, 1, text), score, score, None)

    same = "the zebra project ships in may with the new stripes"
    found = diversify([scored(1, same, 1.0), scored(2, same + " too", 0.95), scored(3, "zebra food budget", 0.8)], 2)
    assert [s.hit.rowid for s in found] == [1, 3]  # the near copy of the first waits
    assert [s.hit.rowid for s in diversify([scored(1, same, 1.0), scored(2, same, 0.9)], 5)] == [1, 2]
