"""What `openclaw sandbox explain` reports: the effective policy, the mechanism, every mount a
tool sees, what its commands' environment loses, and the config keys that change each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths
from openclaw.sandbox.confine import Confinement, confinement

KEYS = {
    "fence": "agents.defaults.sandbox.fence",
    "mode": "agents.defaults.sandbox.mode",
    "scope": "agents.defaults.sandbox.scope",
    "workspaceAccess": "agents.defaults.sandbox.workspaceAccess",
    "network": "agents.defaults.sandbox.bubblewrap.network",
    "binds": "agents.defaults.sandbox.bubblewrap.binds",
}


def session_key_for(agent_id: str, session: str | None) -> str:
    """Upstream's short names: `main` (or nothing) is the agent's main session."""
    if not session or session == "main":
        return f"agent:{agent_id}:main"
    return session if session.startswith("agent:") or session == "global" else f"agent:{agent_id}:{session}"


def explain(paths: InstancePaths, config: Config, env: Mapping[str, str], agent_id: str,
            session: str | None) -> dict[str, Any]:
    from openclaw.agents.workspace import agent_workspace

    key = session_key_for(agent_id, session)
    workspace = agent_workspace(config, paths, env, agent_id)
    confined = confinement(paths, config, env, agent_id, key, workspace)
    return report(confined, paths, workspace, env)


def report(confined: Confinement, paths: InstancePaths, workspace: Any, env: Mapping[str, str]) -> dict[str, Any]:
    settings, view, backend = confined.settings, confined.view, confined.backend
    removed = sorted(k for k in env if k not in confined.env)
    return {
        "instance": paths.name,
        "agentId": confined.agent_id,
        "sessionKey": confined.session_key,
        "fence": {"enabled": settings.fence, "backend": backend.name, "detail": backend.detail,
                  "problems": list(backend.problems)},
        "sandbox": {"mode": settings.mode, "active": view.sandboxed, "scope": settings.scope,
                    "backend": settings.backend, "workspaceAccess": settings.workspace_access,
                    "network": view.network, "binds": [str(b) for b in settings.binds]},
        "agentWorkspace": str(workspace),
        "workdir": str(view.workdir),
        "tmp": str(view.tmp),
        "execAllowed": not confined.fenced or backend.available,
        "mounts": [{"path": str(m.target), "kind": m.kind, "source": str(m.source) if m.source else None,
                    "writable": m.writable, "why": m.why} for m in view.mounts],
        "envRemoved": removed,
        "notes": list(settings.notes),
        "keys": KEYS,
    }


def render(data: dict[str, Any]) -> list[str]:
    fence, box = data["fence"], data["sandbox"]
    lines = [f"Tools of agent {data['agentId']} in session {data['sessionKey']} (instance {data['instance']})"]
    if not fence["enabled"]:
        lines.append(f"  fence      OFF ({KEYS['fence']} is false): exec and file tools can reach other instances")
    else:
        lines.append(f"  fence      on, {fence['backend']}: {fence['detail']}")
    for problem in fence["problems"] if fence["backend"] != "bubblewrap" else []:
        lines.append(f"             ({problem})")
    if box["active"]:
        lines.append(f"  sandbox    on for this session (mode {box['mode']}); backend {box['backend']}, "
                     f"scope {box['scope']}")
    else:
        lines.append(f"  sandbox    off for this session (mode {box['mode']})")
    access = f" (access {box['workspaceAccess']})" if box["active"] else ""
    lines.append(f"  workspace  {data['agentWorkspace']}{access}")
    if data["workdir"] != data["agentWorkspace"]:
        lines.append(f"  workdir    {data['workdir']} (the sandbox's own workspace)")
    lines.append(f"  network    {'on' if box['network'] else 'off'}")
    lines.append(f"  /tmp       {data['tmp']}")
    if not data["execAllowed"]:
        lines.append("  exec, write and edit are REFUSED: nothing here can fence them")
    lines.append("  Mounts, as tools see them:")
    width = max(len(m["path"]) for m in data["mounts"])
    for m in data["mounts"]:
        if m["kind"] == "bind":
            what = ("rw " if m["writable"] else "ro ") + (m["source"] if m["source"] != m["path"] else "")
        else:
            what = {"hidden": "hidden", "proc": "proc", "dev": "dev"}[m["kind"]]
        lines.append(f"    {m['path']:<{width}}  {what.strip():<12}  {m['why']}")
    if data["envRemoved"]:
        lines.append("  Left out of commands' environment: " + ", ".join(data["envRemoved"]))
    for note in data["notes"]:
        lines.append(f"  note: {note}")
    lines.append("  Keys: " + ", ".join(data["keys"].values()) + " (per agent: agents.entries.<id>.sandbox.*)")
    return lines
