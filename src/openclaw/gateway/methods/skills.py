"""`skills.*`: the agents' skills (`SKILL.md` folders) as upstream's CLI and Control UI read and
change them. `skills.status` is the full report; `skills.update` writes `skills.entries.<key>`
(enabled, apiKey, env) to the config, as upstream's UI does; `skills.bins` lists the binaries the
skills need. There is no skills catalog (ClawHub) or skill workshop here: those reads answer empty
in upstream's shapes. Paths go to admins only, as elsewhere in this gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, READ

HIDDEN = "[redacted]"
PATH_KEYS = ("filePath", "baseDir")
MAX_ENV_VARS = 64


def _agent(ctx: CallContext, requested: Any) -> str:
    config = ctx.gateway.settings.config
    if requested and requested not in [a.id for a in config.agents]:
        raise RpcError(INVALID_REQUEST, f'unknown agent id "{requested}"')
    return str(requested or config.default_agent_id)


def _workspace(ctx: CallContext, agent_id: str) -> Any:
    from openclaw.agents.workspace import agent_workspace

    settings = ctx.gateway.settings
    return agent_workspace(settings.config, settings.paths, ctx.gateway.env, agent_id)


def _redacted(report: dict[str, Any]) -> dict[str, Any]:
    """The report with host paths hidden, for connections without admin."""
    report = {**report, "workspaceDir": HIDDEN, "managedSkillsDir": HIDDEN}
    report["skills"] = [{**s, **{k: HIDDEN for k in PATH_KEYS}} for s in report["skills"]]
    report["problems"] = [{**p, "path": HIDDEN} for p in report.get("problems", [])]
    return report


@method("skills.status", scope=READ, params="FeatureParams")
async def skills_status(ctx: CallContext) -> dict[str, Any]:
    from openclaw.skills.report import status

    agent_id = _agent(ctx, ctx.params.get("agentId"))
    settings = ctx.gateway.settings
    report = await asyncio.to_thread(status, settings.paths, settings.config, ctx.gateway.env, agent_id,
                                     _workspace(ctx, agent_id))
    return report if ctx.is_admin else _redacted(report)


@method("skills.bins", scope=READ, params="FeatureParams")
async def skills_bins(ctx: CallContext) -> dict[str, Any]:
    from openclaw.skills.report import bins

    settings = ctx.gateway.settings
    workspaces = {a.id: _workspace(ctx, a.id) for a in settings.config.agents}
    return {"bins": await asyncio.to_thread(bins, settings.paths, settings.config, ctx.gateway.env, workspaces)}


def _patch(data: dict[str, Any], key: str, params: dict[str, Any]) -> dict[str, Any]:
    """Apply upstream's update to `skills.entries.<key>` in the raw config; the entry after it.
    A value equal to the redaction sentinel leaves what is there; an empty one removes it."""
    from openclaw.config.redact import REDACTED

    skills = data.setdefault("skills", {})
    if not isinstance(skills, dict):
        raise RpcError(INVALID_REQUEST, "skills in the config is not an object; fix it with openclaw config")
    entries = skills.setdefault("entries", {})
    if not isinstance(entries, dict):
        raise RpcError(INVALID_REQUEST, "skills.entries in the config is not an object; fix it with openclaw config")
    found = entries.get(key)
    current = dict(found) if isinstance(found, dict) else {}
    if isinstance(params.get("enabled"), bool):
        current["enabled"] = params["enabled"]
    if isinstance(params.get("apiKey"), str):
        api_key = params["apiKey"].strip()
        if api_key and api_key != REDACTED:
            current["apiKey"] = api_key
        elif not api_key:
            current.pop("apiKey", None)
    if isinstance(params.get("env"), dict):
        env = dict(current["env"]) if isinstance(current.get("env"), dict) else {}
        for name, value in params["env"].items():
            name, value = str(name).strip(), str(value).strip()
            if not name or value == REDACTED:
                continue
            if value:
                env[name] = value
            else:
                env.pop(name, None)
        current["env"] = env
    entries[key] = current
    return current


@method("skills.update", scope=ADMIN, params="SkillsUpdateParams")
async def skills_update(ctx: CallContext) -> dict[str, Any]:
    from openclaw.config.redact import redact
    from openclaw.config.store import update_config
    from openclaw.errors import OpenClawError

    params = ctx.params
    if "source" in params:
        raise RpcError(INVALID_REQUEST, "this gateway has no skills catalog (ClawHub): nothing to update from it")
    key = params.get("skillKey")
    if not isinstance(key, str) or not key.strip():
        raise RpcError(INVALID_REQUEST, 'skills.update needs "skillKey"')
    if isinstance(params.get("env"), dict) and len(params["env"]) > MAX_ENV_VARS:
        raise RpcError(INVALID_REQUEST, f"env holds more than {MAX_ENV_VARS} variables")
    result: dict[str, Any] = {}

    def mutate(data: dict[str, Any]) -> None:
        result.update(_patch(data, key, params))

    gateway = ctx.gateway
    try:
        async with gateway.config_writes:
            update = await asyncio.to_thread(update_config, gateway.settings.paths.config_path, mutate, gateway.env)
    except OpenClawError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    except OSError as exc:
        raise RpcError(UNAVAILABLE, f"config not written: {exc}", retryable=True) from None
    if update.written:
        gateway.config_written(f"skills.update by {ctx.conn.label}")
    return {"ok": True, "skillKey": key, "config": redact(result)}


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
