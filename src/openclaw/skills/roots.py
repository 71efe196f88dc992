"""Where skills come from, in upstream's order of precedence, and what each root holds.

Highest first: `<workspace>/skills`, `<workspace>/.agents/skills`, `~/.agents/skills` (only for
the instance on the default state dir, as upstream), `<state-dir>/skills`, the skills shipped in
this package, then `skills.load.extraDirs`. A skill is a folder holding `SKILL.md`. When two roots
hold a skill of the same name, the higher one wins and the pair is reported once.

Blocking (lists folders, reads files): called off the event loop. Every scan is bounded by the
limits: folders looked at per root, skills kept per root, bytes read per `SKILL.md`. A folder or
file reached through a symlink must resolve inside its root or inside `allowSymlinkTargets`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from openclaw.profiles.paths import InstancePaths
from openclaw.skills.frontmatter import Frontmatter, FrontmatterError, parse
from openclaw.skills.settings import Limits, SkillsSettings

BUNDLED_DIR = Path(__file__).with_name("bundled")
BUNDLED_SOURCES = frozenset({"openclaw-bundled", "openclaw-custodian"})


@dataclass(frozen=True)
class Root:
    source: str  # upstream's label: openclaw-workspace, agents-skills-project, ...
    path: Path


@dataclass(frozen=True)
class Skill:
    name: str
    source: str
    file_path: Path  # absolute SKILL.md path
    base_dir: Path
    front: Frontmatter
    digest: str  # of the file's bytes: tells a copy from a different skill of the same name

    @property
    def key(self) -> str:
        """The key under `skills.entries`: the frontmatter's `skillKey`, else the name."""
        return self.front.skill_key or self.name

    @property
    def bundled(self) -> bool:
        return self.source in BUNDLED_SOURCES


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def _expand(raw: str, home: Path) -> Path:
    return Path(str(home) + raw[1:]) if raw == "~" or raw.startswith("~/") else Path(raw)


def roots(paths: InstancePaths, settings: SkillsSettings, workspace: Path) -> list[Root]:
    """Every root, highest precedence first (absolute paths; missing ones are skipped at scan)."""
    found = [Root("openclaw-workspace", workspace / "skills"),
             Root("agents-skills-project", workspace / ".agents" / "skills")]
    if paths.state_dir == paths.home / ".openclaw":
        found.append(Root("agents-skills-personal", paths.home / ".agents" / "skills"))
    found += [Root("openclaw-managed", paths.state_dir / "skills"), Root("openclaw-bundled", BUNDLED_DIR)]
    found += [Root("openclaw-extra", Path(os.path.abspath(_expand(d, paths.home)))) for d in settings.extra_dirs]
    return found


def _inside(path: Path, parents: list[Path]) -> bool:
    return any(path == p or p in path.parents for p in parents)


def candidates(root: Path, limit: int) -> tuple[list[Path], bool]:
    """Sub-folders of `root` (sorted, no dot-folders or node_modules), at most `limit`; (folders, cut)."""
    try:
        with os.scandir(root) as entries:
            names: list[str] = []
            for entry in entries:
                if len(names) >= limit * 10:  # a huge folder is not read to its end
                    break
                if not entry.name.startswith(".") and entry.name != "node_modules" and entry.is_dir():
                    names.append(entry.name)
    except OSError:
        return [], False
    names.sort()
    return [root / n for n in names[:limit]], len(names) > limit


def _read(path: Path, limit: int) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FrontmatterError(f"SKILL.md is larger than skills.limits.maxSkillFileBytes ({limit} bytes)")
    return data


def scan(root: Root, limits: Limits, trusted: list[Path]) -> tuple[list[Skill], list[Problem]]:
    """The skills in one root, and what could not be loaded there."""
    real_root = Path(os.path.realpath(root.path))
    folders, cut = candidates(root.path, limits.candidates_per_root)
    problems = [Problem(str(root.path), f"more than {limits.candidates_per_root} folders; the rest were not "
                                        "looked at (skills.limits.maxCandidatesPerRoot)")] if cut else []
    skills: list[Skill] = []
    for folder in folders:
        file = folder / "SKILL.md"
        if not os.path.lexists(file):
            continue
        if len(skills) >= limits.skills_per_source:
            problems.append(Problem(str(root.path), f"more than {limits.skills_per_source} skills; the rest were "
                                                    "not loaded (skills.limits.maxSkillsLoadedPerSource)"))
            break
        real = Path(os.path.realpath(file))
        if not _inside(real, [real_root, *trusted]):
            problems.append(Problem(str(file), f"leads to {real}, outside its root; add the target to "
                                               "skills.load.allowSymlinkTargets to trust it"))
            continue
        try:
            data = _read(real, limits.file_bytes)
            front = parse(data.decode("utf-8", errors="replace"), folder.name)
        except FrontmatterError as exc:
            problems.append(Problem(str(file), str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(str(file), f"cannot be read ({exc.strerror})"))
            continue
        skills.append(Skill(front.name, root.source, real, real.parent, front, hashlib.sha256(data).hexdigest()))
    return skills, problems


def load(all_roots: list[Root], settings: SkillsSettings, home: Path) -> tuple[list[Skill], list[Problem]]:
    """Every root scanned, the highest root winning per name; the losers reported once each."""
    trusted = [Path(os.path.realpath(_expand(t, home))) for t in settings.symlink_targets]
    chosen: dict[str, Skill] = {}
    problems: list[Problem] = []
    for root in all_roots:
        skills, found = scan(root, settings.limits, trusted)
        problems += found
        for skill in skills:
            winner = chosen.get(skill.name)
            if winner is None:
                chosen[skill.name] = skill
            elif winner.digest != skill.digest:
                problems.append(Problem(str(skill.file_path), f"skill {skill.name!r} is also in {winner.file_path} "
                                                              f"({winner.source}), which takes precedence"))
    return list(chosen.values()), problems
