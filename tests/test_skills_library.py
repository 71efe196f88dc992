"""Skills in-process: SKILL.md frontmatter, roots and precedence, gating, the prompt listing and its
budget, the snapshot retaken on change, the skills' environment in exec, the read tool reaching a
listed skill folder in the state dir (and nothing else there)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_for

from openclaw.agents.tools import ToolContext, ToolError
from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths, paths_for_state_dir, resolve_paths
from openclaw.sandbox.confine import ToolSandbox
from openclaw.skills import listing, snapshot
from openclaw.skills.frontmatter import FrontmatterError, parse
from openclaw.skills.report import status
from openclaw.skills.settings import read_settings
from openclaw.tools.files import file_tools
from openclaw.tools.shell import run_exec


def write_skill(root: Path, folder: str, front: str, body: str = "Do the thing.") -> Path:
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}\n---\n\n{body}\n")
    return path


def instance() -> tuple[InstancePaths, Path]:
    paths = resolve_paths(os.environ)
    workspace = paths.state_dir / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    return paths, workspace


def report(config: dict[str, Any] | None = None, env: dict[str, str] | None = None,
           agent: str = "main") -> dict[str, Any]:
    paths, workspace = instance()
    return status(paths, Config(config or {}), env if env is not None else dict(os.environ), agent, workspace)


def by_name(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in rep["skills"]}


def test_frontmatter_lines_yaml_and_broken_files() -> None:
    simple = parse('---\nname: "notes"\ndescription: Keep notes\nuser-invocable: false\n'
                   'metadata: {"openclaw": {"requires": {"bins": ["jq"], "env": ["NOTES_KEY"]}, '
                   '"primaryEnv": "NOTES_KEY", "emoji": "📝", "os": ["linux"]}}\n---\nbody', "dir")
    assert (simple.name, simple.description, simple.user_invocable) == ("notes", "Keep notes", False)
    assert simple.requires.bins == ("jq",) and simple.requires.env == ("NOTES_KEY",)
    assert (simple.primary_env, simple.emoji, simple.requires.os) == ("NOTES_KEY", "📝", ("linux",))
    nested = parse("---\nname: deploy\ndescription: >\n  Ship the\n  site\nmetadata:\n  openclaw:\n"
                   "    always: true\n    skillKey: ship\n    requires:\n      anyBins: [rsync, scp]\n---\n", "x")
    assert nested.description == "Ship the site" and nested.always and nested.skill_key == "ship"
    assert nested.requires.any_bins == ("rsync", "scp")
    unnamed = parse("---\ndescription: falls back to the folder\n---\n", "folder-name")
    assert unnamed.name == "folder-name" and not unnamed.has_metadata
    for text, why in (("no fence at all", "no frontmatter"), ("---\nname: x\n---\n", "no description"),
                      ('---\nname: x\ndescription: y\nmetadata: {"openclaw": \n---\n', "JSON5")):
        with pytest.raises(FrontmatterError, match=why):
            parse(text, "x")


def test_precedence_gating_and_problems(tmp_path: Path) -> None:
    paths, workspace = instance()
    write_skill(workspace / "skills", "dup", "name: dup\ndescription: from the workspace")
    write_skill(paths.state_dir / "skills", "dup", "name: dup\ndescription: from the state dir")
    write_skill(paths.state_dir / "skills", "needs-bin",
                'name: needs-bin\ndescription: d\nmetadata: {"openclaw": {"requires": {"bins": ["no-such-bin-x1"]}}}')
    write_skill(paths.state_dir / "skills", "needs-env",
                'name: needs-env\ndescription: d\nmetadata: {"openclaw": {"requires": {"env": ["SK_TOKEN"]}, '
                '"primaryEnv": "SK_TOKEN"}}')
    write_skill(workspace / ".agents" / "skills", "wrong-os",
                'name: wrong-os\ndescription: d\nmetadata: {"openclaw": {"os": ["plan9"], "always": true}}')
    write_skill(workspace / "skills", "broken", "name: broken")
    extra = tmp_path / "extra"
    write_skill(extra, "from-extra", "name: from-extra\ndescription: an extra dir\ndisable-model-invocation: true")
    config = {"skills": {"load": {"extraDirs": [str(extra)]}, "entries": {"needs-env": {"apiKey": "k-123"}}}}
    skills = by_name(report(config))
    assert skills["dup"]["source"] == "openclaw-workspace" and skills["dup"]["description"] == "from the workspace"
    assert skills["needs-bin"]["missing"]["bins"] == ["no-such-bin-x1"] and not skills["needs-bin"]["eligible"]
    assert set(skills["needs-bin"]["missing"]) == {"bins", "anyBins", "env", "config", "os"}
    assert skills["needs-env"]["eligible"]  # its primaryEnv comes from skills.entries.<key>.apiKey
    assert skills["wrong-os"]["platformIncompatible"] and not skills["wrong-os"]["eligible"]  # always keeps the OS
    assert skills["from-extra"]["source"] == "openclaw-extra" and skills["from-extra"]["eligible"]
    assert not skills["from-extra"]["modelVisible"] and skills["from-extra"]["commandVisible"]
    problems = report(config)["problems"]
    assert any("broken" in p["path"] and "description" in p["message"] for p in problems)
    assert any("takes precedence" in p["message"] for p in problems)
    assert "broken" not in skills and not by_name(report({}))["needs-env"]["eligible"]
    assert by_name(report({}, {**os.environ, "SK_TOKEN": "set"}))["needs-env"]["eligible"]
    off = by_name(report({"skills": {"entries": {"dup": {"enabled": False}}, "allowBundled": ["gateways"]}}))
    assert off["dup"]["disabled"] and not off["dup"]["eligible"]
    assert off["rescue"]["blockedByAllowlist"] and not off["gateways"]["blockedByAllowlist"]
    filtered = report({"agents": {"defaults": {"skills": ["dup"]}}})
    assert filtered["agentSkillFilter"] == ["dup"] and by_name(filtered)["needs-bin"]["blockedByAgentFilter"]


def test_limits_bound_what_is_read() -> None:
    paths, workspace = instance()
    for i in range(5):
        write_skill(workspace / "skills", f"many-{i}", f"name: many-{i}\ndescription: d")
    write_skill(workspace / "skills", "many-5", "name: many-5\ndescription: d", "x" * 3000)
    config = {"skills": {"limits": {"maxCandidatesPerRoot": 4, "maxSkillFileBytes": 1024, "maxSkillsInPrompt": 2}}}
    rep = report(config)
    assert [n for n in by_name(rep) if n.startswith("many-")] == ["many-0", "many-1", "many-2", "many-3"]
    assert any("maxCandidatesPerRoot" in p["message"] for p in rep["problems"])
    big = report({"skills": {"limits": {"maxSkillFileBytes": 1024}}})
    assert "many-5" not in by_name(big) and any("maxSkillFileBytes" in p["message"] for p in big["problems"])
    run = asyncio.run(snapshot.for_run(paths, Config(config), dict(os.environ), "main", workspace))
    assert len(run.names) == 2 and "Only 2 of" in run.sections[0][1]
    wild = {"skills": {"limits": {"maxCandidatesPerRoot": 10**9, "maxSkillFileBytes": -5}}}
    limits = read_settings(Config(wild)).limits
    assert (limits.candidates_per_root, limits.file_bytes) == (2000, 1024)


def test_the_rescue_skill_needs_the_rescue_role(tmp_path: Path) -> None:
    paths, workspace = instance()
    assert not by_name(report({}))["rescue"]["eligible"]
    assert by_name(report({"rescue": {}}))["rescue"]["modelVisible"]
    rescue = paths_for_state_dir(paths.home / ".openclaw-rescue", paths.home)
    rep = status(rescue, Config({}), dict(os.environ), "main", workspace)
    assert by_name(rep)["rescue"]["eligible"]


def skill_at(name: str, description: str) -> snapshot.Skill:
    from openclaw.skills.frontmatter import Frontmatter

    return snapshot.Skill(name, "openclaw-workspace", Path(f"/skills/{name}/SKILL.md"), Path(f"/skills/{name}"),
                          Frontmatter(name, description), "")


def test_the_listing_escapes_and_keeps_within_its_budget() -> None:
    skills = [skill_at(f"s{i:02d}", "Does <things> & \"stuff\" " + "word " * 30) for i in range(40)]
    full, listed = listing.render(skills[:2], 150, 100_000)
    assert "<available_skills>" in full and "&lt;things&gt; &amp; &quot;stuff&quot;" in full and len(listed) == 2
    assert "<location>/skills/s00/SKILL.md</location>" in full
    cost = listing.prompt_report(full)
    assert cost["promptChars"] == len(full) and [e["name"] for e in cost["entries"]] == ["s00", "s01"]
    assert all(0 < e["blockChars"] < len(full) for e in cost["entries"])
    shortened, listed = listing.render(skills, 150, 6000)
    assert len(shortened) <= 6000 and len(listed) == 40 and "shortened" in shortened
    few, listed = listing.render(skills, 150, 1500)
    assert len(few) <= 1500 and 0 < len(listed) < 40 and f"Only {len(listed)} of 40" in few
    assert "<description>" not in few and "openclaw skills check" in few
    assert listing.render(skills, 3, 100_000)[1] == skills[:3]
    assert listing.render(skills, 150, 10) == ("", [])


def test_a_changed_skill_is_picked_up_by_the_next_snapshot() -> None:
    paths, workspace = instance()
    path = write_skill(workspace / "skills", "edited", "name: edited\ndescription: first words")
    config = Config({})

    def description() -> str:
        run = asyncio.run(snapshot.for_run(paths, config, dict(os.environ), "main", workspace))
        return run.sections[0][1] if run.sections else ""

    assert "first words" in description()
    path.write_text("---\nname: edited\ndescription: second words\n---\n")
    wait_for(lambda: "second words" in description(), timeout=10, what="the edited description in the listing")
    write_skill(workspace / "skills", "added", "name: added\ndescription: a new one")
    wait_for(lambda: "<name>added</name>" in description(), timeout=10, what="the new skill in the listing")


def test_skill_env_reaches_exec_only_where_unset_and_read_reaches_listed_folders(tmp_path: Path) -> None:
    paths, workspace = instance()
    folder = write_skill(paths.state_dir / "skills", "keyed",
                         'name: keyed\ndescription: d\nmetadata: {"openclaw": {"primaryEnv": "KEYED_TOKEN"}}').parent
    (paths.state_dir / "openclaw.json").write_text('{"gateway": {"auth": {"token": "hidden"}}}')
    config = Config({"skills": {"entries": {"keyed": {"apiKey": "from-config", "env": {"HOME": "/nope",
                                                                                       "KEYED_MODE": "fast"}}}}})
    run = asyncio.run(snapshot.for_run(paths, config, dict(os.environ), "main", workspace))
    assert run.env == {"HOME": "/nope", "KEYED_MODE": "fast", "KEYED_TOKEN": "from-config"}
    assert folder in run.folders
    sandbox = ToolSandbox(paths, lambda: config, os.environ)
    ctx = ToolContext(workspace, "main", "agent:main:main", True, extra_env=run.env, readable=run.folders)
    out = asyncio.run(run_exec({"command": 'echo "$KEYED_TOKEN $KEYED_MODE $HOME"'}, ctx, sandbox))
    assert out.splitlines()[0] == f"from-config fast {paths.home}"  # HOME was set: it stays
    read = {t.name: t for t in file_tools(sandbox)}["read"]
    assert "Do the thing." in asyncio.run(read.run({"path": str(folder / "SKILL.md")}, ctx))
    for denied in (paths.state_dir / "openclaw.json", folder.parent / "other.txt"):
        denied.write_text("secret") if not denied.exists() else None
        with pytest.raises(ToolError, match="off limits"):
            asyncio.run(read.run({"path": str(denied)}, ctx))
    bare = ToolContext(workspace, "main", "agent:main:main", True)
    with pytest.raises(ToolError, match="off limits"):
        asyncio.run(read.run({"path": str(folder / "SKILL.md")}, bare))


def test_commands_see_listed_skill_folders_and_never_another_instances(tmp_path: Path) -> None:
    paths, workspace = instance()
    mine = write_skill(paths.state_dir / "skills", "mine", "name: mine\ndescription: d", "my skill body").parent
    theirs = write_skill(paths.home / ".openclaw-other" / "skills", "theirs", "name: theirs\ndescription: d",
                         "their skill body").parent
    (paths.home / ".openclaw-other" / "openclaw.json").write_text("{}")
    sandbox = ToolSandbox(paths, lambda: Config({}), os.environ)
    ctx = ToolContext(workspace, "main", "agent:main:main", True, readable=(mine, theirs))
    out = asyncio.run(run_exec({"command": f"cat {mine}/SKILL.md; cat {theirs}/SKILL.md"}, ctx, sandbox))
    assert "my skill body" in out and "their skill body" not in out
    bare = ToolContext(workspace, "main", "agent:main:main", True)
    assert "my skill body" not in asyncio.run(run_exec({"command": f"cat {mine}/SKILL.md"}, bare, sandbox))
    read = {t.name: t for t in file_tools(sandbox)}["read"]
    with pytest.raises(ToolError, match="off limits"):
        asyncio.run(read.run({"path": str(theirs / "SKILL.md")}, ctx))
