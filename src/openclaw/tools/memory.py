"""`memory_search` and `memory_get`: the agent's recall over its memory files (kind `read`: they
change nothing, so every sender may use them, as the `read` tool).

Both answer JSON, as upstream's do: search results carry path, lines, score, snippet and a
`path#Lstart-Lend` citation; `memory_get` a bounded excerpt with `nextFrom` when there is more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.config.view import Config
from openclaw.models.types import ToolSpec
from openclaw.profiles.paths import InstancePaths

MAX_RESULTS_CAP = 20  # 20 snippets of 700 characters stay within a tool result
MAX_QUERY_CHARS = 2000


def _spec(name: str, description: str, required: str, properties: dict[str, Any]) -> ToolSpec:
    """Both tools take one object with one required key and nothing beyond the keys listed."""
    return ToolSpec(name, description, {"type": "object", "additionalProperties": False, "required": [required],
                                        "properties": properties})


def _field(kind: str, description: str | None = None, **more: Any) -> dict[str, Any]:
    return {"type": kind, **more, **({"description": description} if description else {})}


SEARCH = _spec(
    "memory_search",
    "Search your memory files (MEMORY.md, USER.md, memory/*.md) for facts, decisions, preferences and past "
    "conversations. Returns the best-matching snippets with their path and lines.",
    "query", {"query": _field("string", "What to look for, in words"),
              "maxResults": _field("integer", "How many results at most (default 6)", minimum=1),
              "minScore": _field("number", "Drop results scoring below this, 0 to 1 (default 0.35)"),
              "corpus": _field("string", "What to search; memory is what there is here",
                               enum=["memory", "wiki", "all", "sessions"])})
GET = _spec(
    "memory_get",
    "Read lines of one memory file (a path from memory_search, or MEMORY.md, USER.md, memory/...). "
    "Returns a bounded excerpt; nextFrom says where to continue.",
    "path", {"path": _field("string", "The memory file, as memory_search names it"),
             "from": _field("integer", "First line (1-based)", minimum=1),
             "lines": _field("integer", "How many lines (default 120, at most 400)", minimum=1),
             "corpus": _field("string", enum=["memory", "wiki", "all"])})


def _int(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
        raise ToolError(f"{key} must be a positive integer")
    return int(value)


def memory_tools(paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str]) -> list[Tool]:
    async def search(args: dict[str, Any], ctx: ToolContext) -> str:
        from openclaw.memory.registry import index_for

        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("query is required")
        limit = _int(args, "maxResults")
        floor = args.get("minScore")
        if floor is not None and (isinstance(floor, bool) or not isinstance(floor, (int, float))):
            raise ToolError("minScore must be a number")
        if args.get("corpus") in ("sessions", "wiki"):
            return json.dumps({"results": [], "note": f"no {args['corpus']} corpus is indexed here"})
        if not memory_enabled(config(), ctx.agent_id):
            raise ToolError(f"memory search is off for agent {ctx.agent_id} (memory.search.enabled)")
        index = index_for(paths.state_dir, ctx.agent_id, ctx.workspace, config(), env)
        results = await index.search(query.strip()[:MAX_QUERY_CHARS], min(limit or index.settings.max_results,
                                                                          MAX_RESULTS_CAP),
                                     None if floor is None else float(floor))
        mode = "hybrid" if index.embedder is not None and index.error is None else "fts"
        return json.dumps({"results": [r.as_dict() for r in results], "mode": mode}, ensure_ascii=False)

    async def get(args: dict[str, Any], ctx: ToolContext) -> str:
        from openclaw.memory.excerpt import read_excerpt
        from openclaw.memory.settings import search_settings

        path = args.get("path")
        if not isinstance(path, str) or not path.strip():
            raise ToolError("path is required")
        extra = search_settings(config(), ctx.agent_id).extra_paths
        found = await asyncio.to_thread(read_excerpt, ctx.workspace, path.strip(), _int(args, "from"),
                                        _int(args, "lines"), extra)
        return json.dumps(found.as_dict(), ensure_ascii=False)

    return [Tool(SEARCH, search), Tool(GET, get)]


def memory_enabled(config: Config, agent_id: str | None = None) -> bool:
    from openclaw.memory.settings import search_settings

    return search_settings(config, agent_id).enabled
