"""No instance serves or writes another instance's state dir, or its own.

A state dir holds an instance's config (with its token), credentials,
sessions and logs. Config paths that a gateway serves or writes into must
stay out of every state dir on the host and must not contain one either (a
canvas root of `~` would serve them all). The one exception is the
workspace folders `workspace` and `workspace-NAME`, which live inside
`~/.openclaw` by design and hold only the user's own files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from openclaw.config.model import Issue
from openclaw.profiles.env import expand_user


def served_paths(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key path, value) of every path in config that a gateway serves or writes into."""
    canvas = config.get("canvasHost")
    if isinstance(canvas, dict) and isinstance(canvas.get("root"), str) and canvas["root"]:
        yield "canvasHost.root", canvas["root"]
    agents = config.get("agents") if isinstance(config.get("agents"), dict) else {}
    defaults = agents.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("workspace"), str):
        yield "agents.defaults.workspace", defaults["workspace"]
    entries = agents.get("entries")
    for agent_id, entry in (entries.items() if isinstance(entries, dict) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("workspace"), str):
            yield f"agents.entries.{agent_id}.workspace", entry["workspace"]
    legacy = agents.get("list")
    for index, entry in enumerate(legacy if isinstance(legacy, list) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("workspace"), str):
            yield f"agents.list[{index}].workspace", entry["workspace"]
    yield from _bind_sources(agents)


def _bind_sources(agents: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The host side of every sandbox bind: a tool would see (or write) what lies there."""
    sections: list[tuple[str, Any]] = [("agents.defaults", agents.get("defaults"))]
    entries = agents.get("entries")
    sections += [(f"agents.entries.{k}", v) for k, v in (entries.items() if isinstance(entries, dict) else ())]
    legacy = agents.get("list")
    sections += [(f"agents.list[{i}]", v) for i, v in enumerate(legacy if isinstance(legacy, list) else ())]
    for prefix, section in sections:
        sandbox = section.get("sandbox") if isinstance(section, dict) else None
        for backend in ("bubblewrap", "docker"):
            part = sandbox.get(backend) if isinstance(sandbox, dict) else None
            binds = part.get("binds") if isinstance(part, dict) else None
            for index, spec in enumerate(binds if isinstance(binds, list) else ()):
                if isinstance(spec, str) and spec.split(":")[0]:
                    yield f"{prefix}.sandbox.{backend}.binds[{index}]", spec.split(":")[0]


def is_workspace_name(name: str) -> bool:
    return name == "workspace" or name.startswith("workspace-")


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def state_dir_problem(path: Path, state_dirs: Iterable[Path]) -> str | None:
    """Why `path` may not be served or written, or None. Symlinks are followed."""
    real = _real(path)
    for state in state_dirs:
        root = _real(state)
        if real == root or root in real.parents:
            rest = real.relative_to(root).parts
            if rest and is_workspace_name(rest[0]):
                continue
            return f"is inside the state dir {state}, which holds an instance's config, credentials and logs"
        if real in root.parents:
            return f"contains the state dir {state}, which holds an instance's config, credentials and logs"
    return None


def isolation_issues(config: dict[str, Any], state_dirs: Iterable[Path],
                     env: MutableMapping[str, str] | None = None) -> list[Issue]:
    """One issue per configured path that would expose or overwrite a state dir."""
    dirs = list(state_dirs)
    issues = []
    for key, value in served_paths(config):
        problem = state_dir_problem(Path(os.path.abspath(expand_user(value, env))), dirs)
        if problem:
            issues.append(Issue(key, f"{value} {problem}; choose a folder outside every instance's state dir"))
    return issues


def state_dirs_near(home: Path, own: Path, running: Iterable[Path] = ()) -> list[Path]:
    """This instance's state dir, every `~/.openclaw` / `~/.openclaw-*` folder, and `running` ones."""
    found = [own, *running]
    try:
        found += [p for p in home.iterdir() if (p.name == ".openclaw" or p.name.startswith(".openclaw-"))
                  and p.is_dir()]
    except OSError:
        pass
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), Path(path))
    return list(unique.values())
