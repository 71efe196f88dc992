"""An agent's workspace as upstream's clients read it: `agents.files.list|get|set` (the top-level
Markdown files that shape the prompt), `agents.workspace.list|get` (browse and read any file in
it), `projects.list` and `environments.list` (each agent's workspace, on this gateway's host).

Every path stays inside the workspace (resolved, symlinks included); reads are bounded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
import os
import platform
from pathlib import Path
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ

MAX_READ_BYTES = 1_048_576
MAX_ENTRIES = 500


def _workspace(ctx: CallContext, agent_id: str | None) -> tuple[str, Path]:
    from openclaw.agents.workspace import agent_workspace

    settings = ctx.gateway.settings
    ids = [a.id for a in settings.config.agents]
    wanted = agent_id or settings.config.default_agent_id
    if wanted not in ids:
        raise RpcError(INVALID_REQUEST, f"unknown agent {wanted!r} (agents: {', '.join(ids)})")
    return wanted, agent_workspace(settings.config, settings.paths, ctx.gateway.env, wanted)


def _inside(root: Path, relative: str) -> Path:
    """`relative` under `root`, or an error if it leaves it (by `..`, an absolute path or a symlink)."""
    target = (root / relative.lstrip("/")).resolve()
    if not target.is_relative_to(root.resolve()):
        raise RpcError(INVALID_REQUEST, f"path is outside the agent workspace: {relative}")
    return target


def _file_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise RpcError(INVALID_REQUEST, "name must be a file name in the workspace's top level (e.g. AGENTS.md)")
    return name


def _entry(path: Path, name: str) -> dict[str, Any]:
    try:
        st = path.stat()
    except OSError:
        return {"name": name, "path": str(path), "missing": True}
    return {"name": name, "path": str(path), "missing": False, "size": st.st_size,
            "updatedAtMs": int(st.st_mtime * 1000)}


def _list_files(root: Path) -> list[dict[str, Any]]:
    if not root.is_dir():
        return []
    return [_entry(p, p.name) for p in sorted(root.iterdir()) if p.suffix.lower() == ".md" and p.is_file()]


def _read_text(path: Path) -> str:
    with path.open("rb") as f:
        data = f.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise RpcError(INVALID_REQUEST, f"file is larger than {MAX_READ_BYTES} bytes: {path.name}")
    return data.decode("utf-8", errors="replace")


@method("agents.files.list", scope=READ, params="AgentFilesListParams")
async def files_list(ctx: CallContext) -> dict[str, Any]:
    agent_id, root = _workspace(ctx, ctx.params["agentId"])
    return {"agentId": agent_id, "workspace": str(root), "files": await asyncio.to_thread(_list_files, root)}


def _get(root: Path, name: str) -> dict[str, Any]:
    path = _inside(root, name)
    entry = _entry(path, name)
    if not entry["missing"] and path.is_file():
        content = _read_text(path)
        entry.update(content=content, hash=hashlib.sha256(content.encode()).hexdigest())
    return entry


@method("agents.files.get", scope=READ, params="AgentFileParams")
async def files_get(ctx: CallContext) -> dict[str, Any]:
    agent_id, root = _workspace(ctx, ctx.params["agentId"])
    file = await asyncio.to_thread(_get, root, _file_name(ctx.params["name"]))
    return {"agentId": agent_id, "workspace": str(root), "file": file}


def _set(root: Path, name: str, content: str) -> dict[str, Any]:
    from openclaw.fsutil import atomic_write

    path = _inside(root, name)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(path, content)
    return _get(root, name)


@method("agents.files.set", scope=ADMIN, params="AgentFileSetParams")
async def files_set(ctx: CallContext) -> dict[str, Any]:
    agent_id, root = _workspace(ctx, ctx.params["agentId"])
    content = ctx.params["content"]
    if len(content.encode()) > MAX_READ_BYTES:
        raise RpcError(INVALID_REQUEST, f"content is larger than {MAX_READ_BYTES} bytes")
    file = await asyncio.to_thread(_set, root, _file_name(ctx.params["name"]), content)
    return {"ok": True, "agentId": agent_id, "workspace": str(root), "file": file}


def _listing(root: Path, relative: str, offset: int, limit: int) -> dict[str, Any]:
    folder = _inside(root, relative)
    if not folder.is_dir():
        raise RpcError(INVALID_REQUEST, f"not a folder in the workspace: {relative or '.'}")
    children = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name))
    entries = []
    for child in children[offset:offset + limit]:
        rel = str(child.relative_to(root.resolve())) if child.resolve().is_relative_to(root.resolve()) else child.name
        entry: dict[str, Any] = {"path": rel, "name": child.name, "kind": "directory" if child.is_dir() else "file"}
        try:
            st = child.stat()
            entry["updatedAtMs"] = int(st.st_mtime * 1000)
            if not child.is_dir():
                entry["size"] = st.st_size
        except OSError:
            pass
        entries.append(entry)
    return {"path": relative.strip("/"), "entries": entries, "totalEntries": len(children), "offset": offset}


@method("agents.workspace.list", scope=READ, params="AgentWorkspaceListParams")
async def workspace_list(ctx: CallContext) -> dict[str, Any]:
    agent_id, root = _workspace(ctx, ctx.params["agentId"])
    if not root.is_dir():
        return {"agentId": agent_id, "path": "", "entries": [], "totalEntries": 0, "offset": 0}
    listing = await asyncio.to_thread(_listing, root, ctx.params.get("path", ""), ctx.params.get("offset", 0),
                                      min(ctx.params.get("limit", MAX_ENTRIES), MAX_ENTRIES))
    return {"agentId": agent_id, **listing}


def _read(root: Path, relative: str) -> dict[str, Any]:
    path = _inside(root, relative)
    if not path.is_file():
        raise RpcError(INVALID_REQUEST, f"not a file in the workspace: {relative}")
    with path.open("rb") as f:
        data = f.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise RpcError(INVALID_REQUEST, f"file is larger than {MAX_READ_BYTES} bytes: {relative}")
    try:
        content, encoding = data.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        content, encoding = base64.b64encode(data).decode(), "base64"
    mime = mimetypes.guess_type(path.name)[0] or ("text/plain" if encoding == "utf8" else "application/octet-stream")
    return {"name": path.name, "path": relative.strip("/"), "size": len(data),
            "updatedAtMs": int(path.stat().st_mtime * 1000), "mimeType": mime, "encoding": encoding, "content": content}


@method("agents.workspace.get", scope=READ, params="AgentWorkspaceGetParams")
async def workspace_get(ctx: CallContext) -> dict[str, Any]:
    agent_id, root = _workspace(ctx, ctx.params["agentId"])
    return {"agentId": agent_id, "file": await asyncio.to_thread(_read, root, ctx.params["path"])}


@method("projects.list", scope=READ, params="FeatureParams")
async def projects_list(ctx: CallContext) -> dict[str, Any]:
    projects = []
    for agent in ctx.gateway.settings.config.agents:
        _, root = _workspace(ctx, agent.id)
        projects.append({"id": f"workspace:{agent.id}", "displayName": root.name, "repoRoot": str(root),
                         "source": "workspace", "agentId": agent.id})
    return {"projects": projects}


def _local_environment() -> dict[str, Any]:
    return {"id": "gateway", "type": "local", "label": "Gateway local", "status": "available",
            "platform": platform.system().lower() or os.name, "sessionHost": True, "trust": "persistent",
            "capabilities": ["agent.run", "sessions", "tools", "workspace"]}


@method("environments.list", scope=READ, params="FeatureParams")
async def environments_list(ctx: CallContext) -> dict[str, Any]:
    return {"environments": [_local_environment()]}


@method("environments.status", scope=READ, params="EnvironmentStatusParams")
async def environments_status(ctx: CallContext) -> dict[str, Any]:
    """The one environment here: the gateway's own host."""
    if ctx.params["environmentId"] != "gateway":
        raise RpcError(INVALID_REQUEST, f"unknown environment {ctx.params['environmentId']!r} (environments: gateway)")
    return {"environment": _local_environment()}
