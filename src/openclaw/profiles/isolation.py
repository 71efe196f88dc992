"""No instance serves or writes another instance's state dir, or its own.

A state dir holds an instance's config (with its token), credentials,
sessions and logs. Config paths that a gateway serves or writes into must
stay out of every state dir on the host and must not contain one either (a
canvas root of `~` would serve them all). The one exception is the
workspace folders `workspace` and `workspace-NAME`, which live inside
`~/.openclaw` by design and hold only the user's own files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from openclaw.config.model import Issue
from openclaw.config.view import Config, section
from openclaw.profiles.env import expand_user


def served_paths(config: Config) -> Iterator[tuple[str, str]]:
    """(key path, value) of every path in config that a gateway serves or writes into, or that a
    tool would see through a sandbox bind."""
    if config.canvas.root:
        yield "canvasHost.root", config.canvas.root
    if config.agent_defaults.workspace:
        yield "agents.defaults.workspace", config.agent_defaults.workspace
    for agent in config.agents:
        if agent.workspace and agent.where:
            yield f"{agent.where}.workspace", agent.workspace
    owners = [("agents.defaults", config.agent_defaults.sandbox)]
    owners += [(agent.where, agent.sandbox) for agent in config.agents if agent.where]
    for prefix, sandbox in owners:
        for backend in ("bubblewrap", "docker"):
            binds = section(sandbox.get(backend)).get("binds")
            for index, spec in enumerate(binds if isinstance(binds, list) else ()):
                if isinstance(spec, str) and spec.split(":")[0]:
                    yield f"{prefix}.sandbox.{backend}.binds[{index}]", spec.split(":")[0]


def is_workspace_name(name: str) -> bool:
    return name == "workspace" or name.startswith("workspace-")


def _within(path: str, root: str) -> bool:
    """`path` is `root` or below it (both real, absolute)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def state_dir_problem(path: Path, state_dirs: Iterable[Path]) -> str | None:
    """Why `path` may not be served or written, or None. Symlinks are followed.

    String work on real paths: a gateway checks its paths against every state dir on the host at
    each start, a hundred of them in a fleet."""
    real = os.path.realpath(path)
    for state in state_dirs:
        root = os.path.realpath(state)
        if _within(real, root):
            first = real[len(root):].lstrip(os.sep).split(os.sep, 1)[0]
            if first and is_workspace_name(first):
                continue
            return f"is inside the state dir {state}, which holds an instance's config, credentials and logs"
        if _within(root, real):
            return f"contains the state dir {state}, which holds an instance's config, credentials and logs"
    return None


def isolation_issues(config: Config, state_dirs: Iterable[Path],
                     env: Mapping[str, str]) -> list[Issue]:
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
    with contextlib.suppress(OSError):
        found += [p for p in home.iterdir() if (p.name == ".openclaw" or p.name.startswith(".openclaw-"))
                  and p.is_dir()]
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), Path(path))
    return list(unique.values())
