"""`openclaw memory status|search|index`: the agents' memory indexes, worked on locally in this
instance's own store (no gateway needed, as upstream's)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from openclaw.cli.output import json_option, print_json

if TYPE_CHECKING:
    from openclaw.memory.index import MemoryIndex
    from openclaw.memory.status import Status

T = TypeVar("T")


def _run(agent_id: str | None, work: Callable[[str, MemoryIndex], Awaitable[T]]) -> list[tuple[str, T]]:
    """`work` on each chosen agent's index (every agent with memory search on, or just `agent_id`)."""
    from openclaw.agents.workspace import agent_workspace
    from openclaw.config.store import read_view
    from openclaw.memory.endpoint import endpoint
    from openclaw.memory.index import MemoryIndex
    from openclaw.memory.settings import search_settings
    from openclaw.profiles.paths import resolve_paths
    from openclaw.stores.agentfile import agent_db_path

    paths = resolve_paths(os.environ)
    config = read_view(paths.config_path, os.environ)
    ids = [a.id for a in config.agents]
    if agent_id and agent_id not in ids:
        raise click.ClickException(f"unknown agent {agent_id!r} (agents: {', '.join(ids)})")
    chosen = [a for a in ids if (a == agent_id if agent_id else search_settings(config, a).enabled)]

    async def go() -> list[tuple[str, T]]:
        out = []
        for aid in chosen:
            workspace = agent_workspace(config, paths, dict(os.environ), aid)
            settings = search_settings(config, aid)
            index = MemoryIndex(agent_db_path(paths.state_dir, aid), aid, workspace, settings,
                                endpoint(settings, config, os.environ))
            try:
                out.append((aid, await work(aid, index)))
            finally:
                await index.close()
        return out

    return asyncio.run(go())


def _home(path: Path) -> str:
    home = os.path.expanduser("~")
    text = str(path)
    return "~" + text[len(home):] if home != "/" and text.startswith(home + os.sep) else text


def _status_json(agent_id: str, s: Status) -> dict[str, Any]:
    return {"agentId": agent_id, "status": {
        "backend": "builtin", "files": s.indexed_files, "chunks": s.chunks, "dirty": s.dirty,
        "workspaceDir": str(s.workspace), "dbPath": str(s.store), "provider": s.provider, "model": s.model,
        "requestedProvider": s.requested_provider, "sources": ["memory"], "extraPaths": s.extra_paths,
        "sourceCounts": [{"source": "memory", "files": s.indexed_files, "chunks": s.chunks, "eligible": s.files}],
        "cache": {"enabled": True, "entries": s.cache_entries}, "fts": {"enabled": True, "available": True},
        "vector": {"enabled": s.vector != "off", "engine": s.vector}, "error": s.error}}


def _status_text(agent_id: str, s: Status) -> str:
    lines = [f"Memory Search ({agent_id})",
             f"Provider: {s.provider} (requested: {s.requested_provider})", f"Model: {s.model}",
             "Sources: memory", f"Extra paths: {', '.join(s.extra_paths) or '-'}",
             f"Indexed: {s.indexed_files}/{s.files} files · {s.chunks} chunks", f"Dirty: {'yes' if s.dirty else 'no'}",
             f"Store: {_home(s.store)}", f"Workspace: {_home(s.workspace)}",
             f"Embeddings: {'off (keyword search only)' if s.vector == 'off' else 'on, vectors by ' + s.vector}",
             f"Embedding cache: {s.cache_entries} entries"]
    if s.error:
        lines.append(f"Last embeddings error: {s.error}")
    return "\n".join(lines)


@click.group(help="The agents' memory: MEMORY.md, USER.md and memory/*.md, indexed for search.")
def memory() -> None:
    pass


@memory.command(help="Show each agent's memory index: files, chunks, provider, store.")
@click.option("--agent", "agent_id", help="Only this agent.")
@click.option("--index", "reindex", is_flag=True, help="Bring the index up to date first.")
@click.option("--deep", is_flag=True, hidden=True, help="Accepted for upstream's scripts; same output.")
@json_option
def status(agent_id: str | None, reindex: bool, deep: bool, as_json: bool) -> None:
    from openclaw.memory.status import status as read_status

    async def work(_aid: str, index: MemoryIndex) -> Status:
        if reindex:
            await index.sync()
        return await read_status(index)

    rows = _run(agent_id, work)
    if as_json:
        print_json([_status_json(aid, s) for aid, s in rows])
        return
    if not rows:
        click.echo("Memory search is disabled for every agent (memory.search.enabled).")
    click.echo("\n\n".join(_status_text(aid, s) for aid, s in rows))


@memory.command(help="Index the memory files now (only what changed, or all of it with --force).")
@click.option("--agent", "agent_id", help="Only this agent.")
@click.option("--force", is_flag=True, help="Rebuild the whole index.")
def index(agent_id: str | None, force: bool) -> None:
    async def work(_aid: str, idx: MemoryIndex) -> Any:
        return await idx.sync(force=force)

    for aid, report in _run(agent_id, work):
        line = (f"Memory index updated ({aid}): {report.scanned} files scanned, {report.indexed} indexed, "
                f"{report.removed} removed, {report.chunks} chunks written")
        if report.embedded:
            line += f", {report.embedded} embedded"
        click.echo(line + ".")
        if report.skipped:
            click.echo(f"Memory index ({aid}): {report.skipped} files left out (the index holds at most "
                       "200,000 chunks).")
        if report.error:
            click.echo(f"Memory index WARNING ({aid}): embeddings failed, keyword search only: {report.error}")


@memory.command(help="Search the memory files.")
@click.argument("query", required=False)
@click.option("--query", "query_opt", help="The query (instead of the argument).")
@click.option("--agent", "agent_id", help="Search this agent's memory (default: the default agent).")
@click.option("--max-results", type=click.IntRange(1, 100), help="At most this many results (default 6).")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Drop results below this score (default 0.35).")
@json_option
def search(query: str | None, query_opt: str | None, agent_id: str | None, max_results: int | None,
           min_score: float | None, as_json: bool) -> None:
    text = (query_opt or query or "").strip()
    if not text:
        raise click.UsageError("give a query: openclaw memory search \"what to look for\"")
    if agent_id is None:
        from openclaw.config.store import read_view
        from openclaw.profiles.paths import resolve_paths

        agent_id = read_view(resolve_paths(os.environ).config_path, os.environ).default_agent_id

    async def work(_aid: str, index: MemoryIndex) -> Any:
        return await index.search(text, max_results, min_score)

    results = [r for _, found in _run(agent_id, work) for r in found]
    if as_json:
        print_json({"results": [r.as_dict() for r in results]})
        return
    if not results:
        click.echo("No matches.")
    for r in results:
        click.echo(f"{r.score:.3f} {r.path}:{r.start_line}-{r.end_line}\n{r.snippet}\n")
