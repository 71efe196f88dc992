"""`skills.*` reads: this gateway gives its agents no skills (SKILL.md bundles), so each answers
empty in upstream's shapes, with the directories upstream would read them from."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ


def _agent_workspace(ctx: CallContext, agent_id: str | None) -> tuple[str, str]:
    from openclaw.agents.workspace import agent_workspace

    settings = ctx.gateway.settings
    wanted = agent_id or settings.config.default_agent_id
    path = agent_workspace(settings.config, settings.paths, ctx.gateway.env, wanted)
    return wanted, str(path) if ctx.is_admin else "[redacted]"


@method("skills.status", scope=READ, params="FeatureParams")
async def skills_status(ctx: CallContext) -> dict[str, Any]:
    agent_id, workspace = _agent_workspace(ctx, ctx.params.get("agentId"))
    managed = str(ctx.gateway.settings.paths.state_dir / "skills") if ctx.is_admin else "[redacted]"
    return {"workspaceDir": workspace, "managedSkillsDir": managed, "agentId": agent_id, "skills": []}


@method("skills.library.list", scope=READ, params="FeatureParams")
async def skills_library_list(ctx: CallContext) -> dict[str, Any]:
    return {"entries": [], "profileId": None, "multipleProfiles": False, "defaultTarget": "workspace",
            "canManageWorkspace": False, "defaultSelectionLimit": 64}


@method("skills.securityVerdicts", scope=READ, params="FeatureParams")
async def skills_security_verdicts(ctx: CallContext) -> dict[str, Any]:
    return {"schema": "openclaw.skills.security-verdicts.v1", "items": []}


@method("skills.proposals.list", scope=READ, params="FeatureParams")
async def skills_proposals_list(ctx: CallContext) -> dict[str, Any]:
    return {"schema": "openclaw.skill-workshop.proposals-manifest.v1", "updatedAt": "1970-01-01T00:00:00.000Z",
            "proposals": [], "installedSkills": []}


@method("skills.curator.status", scope=READ, params="FeatureParams")
async def skills_curator_status(ctx: CallContext) -> dict[str, Any]:
    return {"lastAttemptAtMs": None, "lastSuccessAtMs": None, "lastError": None, "collectionReview": {},
            "experienceReview": {}, "counts": {"active": 0, "stale": 0, "archived": 0}, "skills": [], "overlaps": []}


@method("skills.search", scope=READ, params="FeatureParams")
async def skills_search(ctx: CallContext) -> dict[str, Any]:
    return {"results": [], "remoteError": "this gateway has no skills catalog"}
