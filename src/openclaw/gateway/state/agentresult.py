"""The `agent` method's final answer (what `openclaw agent --json` prints), in upstream's shape.

Upstream's answer carries ~150 fields; this fills those we have data for (the run, its session,
the models asked and the one that answered, token use, the prompt's size) and leaves out what
we do not track (costs, context budgets, credential provenance, skills, per-file prompt sizes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the `agent` method at start; the agents stack loads with the first run
    from openclaw.agents.run import Run
    from openclaw.models.types import Usage

STATUS = {"ok": "ok", "timeout": "timeout", "aborted": "aborted"}
SUMMARY = {"ok": "completed", "timeout": "aborted", "aborted": "aborted"}


def split_ref(ref: str) -> tuple[str, str]:
    """(provider, model) of `provider/model`."""
    provider, _, model = ref.partition("/")
    return (provider, model) if model else ("", ref)


def usage_fields(usage: Usage) -> dict[str, Any]:
    """Token use as upstream counts it (we keep no cache counts or prices: zero)."""
    return {"input": usage.input, "output": usage.output, "cacheRead": 0, "cacheWrite": 0,
            "total": usage.input + usage.output, "cost": {"total": 0}}


def _agent_meta(run: Run, provider: str, model: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"sessionId": run.session_id, "sessionFile": run.session_key}
    if model:
        meta.update(provider=provider, model=model)
    meta["usage"] = usage_fields(run.usage)
    if run.rounds:
        meta.update(lastCallUsage=usage_fields(run.last_usage), promptTokens=run.last_usage.input,
                    assistantTurns=run.rounds)
    return meta


def _trace(run: Run, provider: str, model: str) -> dict[str, Any]:
    result = "success" if run.status == "ok" else run.status
    return {"winnerProvider": provider, "winnerModel": model,
            "attempts": [{"provider": provider, "model": model, "result": result, "stage": "assistant"}],
            "fallbackUsed": bool(run.requested) and run.requested != run.model, "runner": "embedded"}


def _prompt_report(run: Run, provider: str, model: str) -> dict[str, Any]:
    return {"source": "run", "generatedAt": run.started_at, "sessionId": run.session_id,
            "sessionKey": run.session_key, "provider": provider, "model": model, **run.report}


def final_payload(run: Run) -> dict[str, Any]:
    """The `agent` method's second answer, as upstream's CLI reads and prints it."""
    status = STATUS.get(run.status, "error")
    provider, model = split_ref(run.model)
    payloads = [{"text": run.text, "mediaUrl": None}] if run.status == "ok" and run.text else []
    meta: dict[str, Any] = {
        "durationMs": (run.ended_at or 0) - (run.started_at or run.accepted_at),
        "agentMeta": _agent_meta(run, provider, model), "aborted": run.status == "aborted",
    }
    if run.report:
        meta["systemPromptReport"] = _prompt_report(run, provider, model)
    meta.update(finalPromptText=run.turn.text, finalAssistantVisibleText=run.text, stopReason=run.stop_reason)
    if model:
        meta["executionTrace"] = _trace(run, provider, model)
    if run.finish_reason or run.stop_reason:
        meta["completion"] = {"stopReason": run.stop_reason, "finishReason": run.finish_reason or run.stop_reason}
    meta["silent"] = run.silent
    out: dict[str, Any] = {"runId": run.id, "status": status,
                           "summary": SUMMARY.get(status, run.error or "failed"),
                           "result": {"payloads": payloads, "meta": meta}}
    if status != "ok":
        out["stopReason"] = run.status
    return out
