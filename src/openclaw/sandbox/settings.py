"""The sandbox policy an agent's tools run under, read from `agents.defaults.sandbox` and the agent's
own `sandbox` section (upstream's shape, plus our `fence` switch and `bubblewrap` backend).

The instance fence is always on unless `fence: false` says otherwise. The full sandbox is upstream's:
`mode` off|non-main|all decides which sessions get it; `scope` agent|session|shared names the sandbox
workspace used with `workspaceAccess: none`; `backend` defaults to `bubblewrap`. Upstream's container
backends are not built here: a config that names one runs under bubblewrap with the same workspace
access, `docker.binds` and `docker.network`, and `doctor` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from openclaw.config.binds import Bind, parse_bind
from openclaw.config.view import Config, section

Mode = Literal["off", "non-main", "all"]
Scope = Literal["agent", "session", "shared"]
Access = Literal["none", "ro", "rw"]
MODES = ("off", "non-main", "all")
SCOPES = ("agent", "session", "shared")
ACCESSES = ("none", "ro", "rw")
BACKENDS = ("bubblewrap", "docker", "podman", "ssh", "openshell")
CONTAINER_BACKENDS = ("docker", "podman")


@dataclass(frozen=True)
class SandboxSettings:
    fence: bool = True
    mode: Mode = "off"
    scope: Scope = "agent"
    backend: str = "bubblewrap"
    workspace_access: Access = "rw"
    workspace_root: str | None = None
    network: bool = True
    binds: tuple[Bind, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)  # what differs from what the config asked

    def applies_to(self, agent_id: str, session_key: str) -> bool:
        """Whether the full sandbox covers this session (the fence covers every one)."""
        if self.mode == "all":
            return True
        if self.mode == "non-main":
            return session_key not in (f"agent:{agent_id}:main", "global")
        return False


def _merged(config: Config, agent_id: str) -> tuple[dict[str, Any], list[str]]:
    """Defaults with the agent's own keys on top; binds of both (upstream merges them too)."""
    base, own = config.agent_defaults.sandbox, config.agent(agent_id).sandbox
    merged: dict[str, Any] = {**base, **own}
    binds: list[str] = []
    for part in (base, own):
        for key in ("bubblewrap", "docker"):
            values = section(part.get(key)).get("binds")
            binds += [b for b in values if isinstance(b, str)] if isinstance(values, list) else []
    for key in ("bubblewrap", "docker"):
        merged[key] = {**section(base.get(key)), **section(own.get(key))}
    return merged, binds


def sandbox_settings(config: Config, agent_id: str) -> SandboxSettings:
    """The effective policy for one agent. Values of the wrong type fall back to the defaults
    (validation reports them; a running gateway keeps its tools fenced whatever the file says)."""
    raw, bind_specs = _merged(config, agent_id)
    notes: list[str] = []
    backend = str(raw["backend"]) if raw.get("backend") in BACKENDS else "bubblewrap"
    if backend != "bubblewrap":
        notes.append(f"backend {backend} is not available here; bubblewrap runs the sandbox instead")
    access_default: Access = "none" if backend in CONTAINER_BACKENDS else "rw"
    if backend in CONTAINER_BACKENDS:
        network = raw["docker"].get("network", "none") != "none"
    else:
        network = raw["bubblewrap"].get("network", "on") != "off"
    binds = []
    for spec in bind_specs:
        try:
            binds.append(parse_bind(spec))
        except ValueError as exc:
            notes.append(f"{exc}; ignored")
    return SandboxSettings(
        fence=raw.get("fence") is not False,
        mode=raw["mode"] if raw.get("mode") in MODES else "off",
        scope=raw["scope"] if raw.get("scope") in SCOPES else "agent",
        backend=backend,
        workspace_access=raw["workspaceAccess"] if raw.get("workspaceAccess") in ACCESSES else access_default,
        workspace_root=raw["workspaceRoot"] if isinstance(raw.get("workspaceRoot"), str) else None,
        network=network,
        binds=tuple(binds),
        notes=tuple(notes),
    )
