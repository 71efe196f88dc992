"""The loaded skills, kept between turns and taken again only when their files change.

A snapshot remembers a stat stamp (mtime, size, inode) of every root, every folder in a root and
every `SKILL.md`. At most once per `RECHECK_S` those are stat'ed again (a few dozen stats); any
difference (a skill added, removed, renamed or edited, a root created) takes a new snapshot. What
a run gets from it (the prompt block, the skill folders its read tool may open, the skills'
environment) is kept per agent the same way, and for the same config object, so a turn normally
pays one dictionary lookup. Blocking work runs in a thread. Both caches are bounded.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw import logfile, memguard
from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths
from openclaw.skills import listing, roots
from openclaw.skills.gating import Host, Verdict, judge
from openclaw.skills.roots import Problem, Root, Skill
from openclaw.skills.runenv import skill_env
from openclaw.skills.settings import SkillsSettings, agent_filter, read_settings

RECHECK_S = 1.0
MAX_CACHED = 64
MAX_LOGGED_PROBLEMS = 20
Stamp = tuple[int, int, int] | None


@dataclass(frozen=True)
class Snapshot:
    skills: tuple[Skill, ...]
    problems: tuple[Problem, ...]
    stamps: tuple[tuple[str, Stamp], ...]
    roots: tuple[Root, ...]


@dataclass(frozen=True)
class RunSkills:
    """What one run gets from its agent's skills."""

    sections: tuple[tuple[str, str], ...] = ()
    folders: tuple[Path, ...] = ()  # the listed skills' folders: readable by the run's tools
    env: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()


def _stamp(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _stamps(all_roots: list[Root], limit: int) -> tuple[tuple[str, Stamp], ...]:
    """Stamps of the roots, the folders in them and their SKILL.md files (blocking)."""
    out: list[tuple[str, Stamp]] = []
    for root in all_roots:
        out.append((str(root.path), _stamp(str(root.path))))
        folders, _ = roots.candidates(root.path, limit)
        for folder in folders:
            out += [(str(folder), _stamp(str(folder))), (str(folder / "SKILL.md"), _stamp(str(folder / "SKILL.md")))]
    return tuple(out)


def _unchanged(snapshot: Snapshot) -> bool:
    return all(_stamp(path) == stamp for path, stamp in snapshot.stamps)


def _take(all_roots: list[Root], settings: SkillsSettings, home: Path) -> Snapshot:
    stamps = _stamps(all_roots, settings.limits.candidates_per_root)  # before reading: a change meanwhile shows
    skills, problems = roots.load(all_roots, settings, home)
    for problem in problems[:MAX_LOGGED_PROBLEMS]:
        logfile.warn(f"skill {problem.path}: {problem.message}", subsystem="skills")
    return Snapshot(tuple(skills), tuple(problems), stamps, tuple(all_roots))


_lock = threading.Lock()
_snapshots: dict[tuple[object, ...], tuple[Snapshot, float]] = {}


def current(paths: InstancePaths, settings: SkillsSettings, workspace: Path) -> Snapshot:
    """The snapshot for these roots, re-taken if its files changed (blocking: call it in a thread)."""
    all_roots = roots.roots(paths, settings, workspace)
    key = (tuple(all_roots), settings.symlink_targets, settings.limits.candidates_per_root,
           settings.limits.skills_per_source, settings.limits.file_bytes)
    now = time.monotonic()
    with _lock:
        held = _snapshots.get(key)
    if held is not None and (now - held[1] < RECHECK_S or _unchanged(held[0])):
        snapshot = held[0]
    else:
        snapshot = _take(all_roots, settings, paths.home)
    with _lock:
        if len(_snapshots) >= MAX_CACHED and key not in _snapshots:
            _snapshots.pop(next(iter(_snapshots)))
        if held is None or now - held[1] >= RECHECK_S:
            _snapshots[key] = (snapshot, now)
    return snapshot


def verdicts(paths: InstancePaths, config: Config, env: Mapping[str, str], agent_id: str,
             workspace: Path) -> tuple[Snapshot, SkillsSettings, list[Verdict]]:
    """Every loaded skill judged for this agent (blocking)."""
    settings = read_settings(config, agent_id)
    snapshot = current(paths, settings, workspace)
    host = Host(env, config, paths)
    allowed = agent_filter(config, agent_id)
    return snapshot, settings, [judge(s, settings, host, allowed) for s in snapshot.skills]


def build_run(paths: InstancePaths, config: Config, env: Mapping[str, str], agent_id: str,
              workspace: Path) -> RunSkills:
    """What a run of this agent gets (blocking)."""
    _, settings, judged = verdicts(paths, config, env, agent_id, workspace)
    visible = [v.skill for v in judged if v.model_visible]
    text, listed = listing.render(visible, settings.limits.in_prompt, settings.limits.prompt_chars)
    return RunSkills(((listing.HEADING, text),) if text else (), tuple(s.base_dir for s in listed),
                     skill_env(judged, settings, env), tuple(s.name for s in listed))


_runs: dict[tuple[str, str, str], tuple[RunSkills, float, Config]] = {}


async def for_run(paths: InstancePaths, config: Config, env: Mapping[str, str], agent_id: str,
                  workspace: Path) -> RunSkills:
    """`build_run`, off the event loop, at most once per `RECHECK_S` per agent and config."""
    key = (str(paths.state_dir), agent_id, str(workspace))
    now = time.monotonic()
    held = _runs.get(key)
    if held is not None and held[2] is config and now - held[1] < RECHECK_S:
        return held[0]
    try:
        value = await asyncio.to_thread(build_run, paths, config, env, agent_id, workspace)
    except Exception as exc:  # noqa: BLE001 - broken skills never take a turn down
        memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
        logfile.warn(f"skills could not be loaded for agent {agent_id}: {type(exc).__name__}: {exc}",
                     subsystem="skills")
        value = RunSkills()
    if len(_runs) >= MAX_CACHED and key not in _runs:
        _runs.pop(next(iter(_runs)))
    _runs[key] = (value, now, config)
    return value
