"""Agent memory maintenance (upstream's memory-core: dream diary, short-term recall, session
backfill, imports from other assistants): this gateway keeps no memory index, so each operation
finds nothing and changes nothing, and says so in upstream's shapes."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import ADMIN, WRITE

DIARY = "DREAMS.md"


def _agent(ctx: CallContext) -> str:
    wanted = ctx.params.get("agentId")
    return wanted if isinstance(wanted, str) and wanted else ctx.gateway.settings.config.default_agent_id


@method("doctor.memory.backfillDreamDiary", scope=WRITE, params="FeatureParams")
async def backfill_dream_diary(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "path": DIARY, "action": "backfill", "found": False, "scannedFiles": 0,
            "written": 0, "replaced": 0}


@method("doctor.memory.resetDreamDiary", scope=WRITE, params="FeatureParams")
async def reset_dream_diary(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "path": DIARY, "action": "reset", "found": False, "removedEntries": 0}


@method("doctor.memory.resetGroundedShortTerm", scope=WRITE, params="FeatureParams")
async def reset_grounded(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "action": "resetGroundedShortTerm", "removedShortTermEntries": 0}


@method("doctor.memory.repairDreamingArtifacts", scope=WRITE, params="FeatureParams")
async def repair_dreaming(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "action": "repairDreamingArtifacts", "changed": False, "archiveDir": None,
            "archivedDreamsDiary": False, "archivedSessionCorpus": False, "archivedSessionIngestion": False}


@method("doctor.memory.dedupeDreamDiary", scope=WRITE, params="FeatureParams")
async def dedupe_dream_diary(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "action": "dedupeDreamDiary", "path": DIARY, "found": False,
            "removedEntries": 0, "dedupedEntries": 0, "keptEntries": 0}


@method("memory.sessionBackfill.apply", scope=ADMIN, params="FeatureParams")
async def backfill_apply(ctx: CallContext) -> dict[str, Any]:
    return {"days": 0, "applied": 0, "staged": 0}


@method("memory.sessionBackfill.rollback", scope=ADMIN, params="FeatureParams")
async def backfill_rollback(ctx: CallContext) -> dict[str, Any]:
    return {"rolledBack": 0}


@method("migrations.memory.apply", scope=ADMIN, params="FeatureParams")
async def memory_migration_apply(ctx: CallContext) -> dict[str, Any]:
    return {"agentId": _agent(ctx), "providers": [], "applied": 0}
