"""The skills status report in upstream's `skills.status` shape: what `skills list|info|check` (ours
and upstream's) and the Control UI read. Every entry carries `requirements` and `missing` with all
five arrays. `problems` (files that could not be loaded, shadowed copies) is ours, beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths
from openclaw.skills.gating import Verdict
from openclaw.skills.settings import agent_filter
from openclaw.skills.snapshot import verdicts

INSTALL_KINDS = ("brew", "node", "go", "uv", "download")


def _install(verdict: Verdict) -> list[dict[str, Any]]:
    """The skill's installer specs as upstream lists them (id, kind, label, bins); we run none."""
    out = []
    for index, spec in enumerate(verdict.skill.front.install):
        kind = str(spec.get("kind") or "")
        if kind not in INSTALL_KINDS:
            continue
        what = spec.get("formula") or spec.get("package") or spec.get("module") or spec.get("url") or ""
        label = str(spec.get("label") or (f"Install {what} ({kind})" if what else "Run installer"))
        bins = [str(b) for b in spec.get("bins") or [] if isinstance(b, str)]
        out.append({"id": str(spec.get("id") or f"{kind}-{index}"), "kind": kind, "label": label, "bins": bins})
    return out


def entry(verdict: Verdict) -> dict[str, Any]:
    skill, front = verdict.skill, verdict.skill.front
    out: dict[str, Any] = {
        "name": skill.name, "description": front.description, "source": skill.source, "bundled": skill.bundled,
        "filePath": str(skill.file_path), "baseDir": str(skill.base_dir), "skillKey": skill.key,
        "primaryEnv": front.primary_env, "emoji": front.emoji, "homepage": front.homepage,
        "always": front.always, "disabled": verdict.disabled, "blockedByAllowlist": verdict.blocked_by_allowlist,
        "blockedByAgentFilter": verdict.blocked_by_agent_filter, "eligible": verdict.eligible,
        "platformIncompatible": bool(verdict.missing.os), "modelVisible": verdict.model_visible,
        "userInvocable": front.user_invocable, "commandVisible": verdict.command_visible,
        "requirements": front.requires.as_dict(), "missing": verdict.missing.as_dict(),
        "configChecks": [{"path": path, "satisfied": ok} for path, ok in verdict.config_checks],
        "install": _install(verdict),
    }
    return {k: v for k, v in out.items() if v is not None}


def status(paths: InstancePaths, config: Config, env: Mapping[str, str], agent_id: str,
           workspace: Path) -> dict[str, Any]:
    """The report for one agent (blocking: it may load the skills)."""
    snapshot, _, judged = verdicts(paths, config, env, agent_id, workspace)
    allowed = agent_filter(config, agent_id)
    return {
        "workspaceDir": str(workspace), "managedSkillsDir": str(paths.state_dir / "skills"), "agentId": agent_id,
        **({"agentSkillFilter": list(allowed)} if allowed is not None else {}),
        "skills": [entry(v) for v in sorted(judged, key=lambda v: v.skill.name)],
        "problems": [{"path": p.path, "message": p.message} for p in snapshot.problems],
    }


def bins(paths: InstancePaths, config: Config, env: Mapping[str, str],
         workspaces: Mapping[str, Path]) -> list[str]:
    """Every binary any agent's skills require or install (`skills.bins`)."""
    found: set[str] = set()
    for agent_id, workspace in workspaces.items():
        _, _, judged = verdicts(paths, config, env, agent_id, workspace)
        for verdict in judged:
            want = verdict.skill.front.requires
            found.update(want.bins, want.any_bins)
            for spec in verdict.skill.front.install:
                found.update(str(b).strip() for b in spec.get("bins") or [] if isinstance(b, str) and b.strip())
    return sorted(found)
