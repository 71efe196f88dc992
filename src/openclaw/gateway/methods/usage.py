"""`sessions.usage`: token use per session over a date range, with the aggregates upstream's Usage
page draws, from our session store.

What the store keeps: each session's token totals (input, output), its model of the latest answer
and its transcript's timestamps. So message counts and activity per day are exact; tokens are the
session's totals, counted on the day of its last activity; no costs are known (each session with
tokens counts as a missing cost entry, as upstream counts a model without prices); latency and tool
statistics are empty."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.methods.sessioninfo import split_ref
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import READ
from openclaw.gateway.state.runstream import runtime_for

DEFAULT_DAYS = 30
DEFAULT_LIMIT = 200
COSTS = ("totalCost", "inputCost", "outputCost", "cacheReadCost", "cacheWriteCost")


def _zone(raw: str | None) -> timezone:
    match = re.fullmatch(r"UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?", (raw or "UTC").strip())
    if match is None:
        raise RpcError(INVALID_REQUEST, f"utcOffset must look like UTC, UTC+2 or UTC-5:30 (got {raw!r})")
    if not match.group(1):
        return UTC
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    return timezone(timedelta(minutes=minutes if match.group(1) == "+" else -minutes))


def _day(raw: str | None, fallback: date, name: str) -> date:
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RpcError(INVALID_REQUEST, f"{name} must be a date such as 2026-01-31 (got {raw!r})") from None


def _totals(inp: int = 0, out: int = 0, missing: int = 0) -> dict[str, Any]:
    return {"input": inp, "output": out, "cacheRead": 0, "cacheWrite": 0, "totalTokens": inp + out,
            **dict.fromkeys(COSTS, 0), "missingCostEntries": missing}


def _add(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key in ("input", "output", "cacheRead", "cacheWrite", "totalTokens", *COSTS, "missingCostEntries"):
        into[key] += other[key]


def _session_usage(session: Any, agent_id: str, entries: list[Any], zone: timezone) -> dict[str, Any]:
    ref = session.model or session.model_override
    provider, model = split_ref(ref)
    tokens = session.input_tokens + session.output_tokens
    totals = _totals(session.input_tokens, session.output_tokens, 1 if tokens else 0)
    roles = Counter(e.message.role for e in entries)
    calls = sum(len(e.message.tool_calls) for e in entries)
    first = entries[0].ts if entries else session.created_at
    last = entries[-1].ts if entries else session.updated_at
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries:
        per_day[datetime.fromtimestamp(e.ts / 1000, zone).date().isoformat()][e.message.role] += 1
    last_day = datetime.fromtimestamp(last / 1000, zone).date().isoformat()
    days = sorted(set(per_day) | {last_day})
    counts = {"total": len(entries), "user": roles["user"], "assistant": roles["assistant"], "toolCalls": calls,
              "toolResults": roles["tool"], "errors": 0}
    model_usage = [{"provider": provider, "model": model, "count": roles["assistant"], "totals": dict(totals)}] \
        if model and tokens else []
    usage = {**totals, "sessionId": session.session_id, "firstActivity": first, "lastActivity": last,
             "durationMs": max(0, last - first), "messageCounts": counts, "modelUsage": model_usage,
             "activityDates": days,
             "dailyBreakdown": [{"date": d, "tokens": tokens if d == last_day else 0, "cost": 0,
                                 **(totals if d == last_day else _totals())} for d in days],
             "dailyMessageCounts": [{"date": d, "total": sum(per_day[d].values()), "user": per_day[d]["user"],
                                     "assistant": per_day[d]["assistant"], "toolCalls": 0,
                                     "toolResults": per_day[d]["tool"], "errors": 0} for d in days],
             "dailyLatency": [], "dailyModelUsage": [{"date": last_day, "provider": provider, "model": model,
                                                       "tokens": tokens, "cost": 0, "count": roles["assistant"]}]
             if model_usage else []}
    return {"key": session.key, "sessionId": session.session_id, "scope": "family", "sessionFamilyKey": session.key,
            "currentSessionId": session.session_id, "includedSessionIds": [session.session_id],
            "historicalInstanceCount": 1, "updatedAt": session.updated_at, "agentId": agent_id,
            "chatType": session.chat_type or "direct", "modelProvider": provider, "model": model, "usage": usage,
            "hasContextWeight": False}


def _aggregates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_model: dict[tuple[Any, Any], dict[str, Any]] = {}
    by_provider: dict[Any, dict[str, Any]] = {}
    by_agent: dict[str, dict[str, Any]] = {}
    daily: dict[str, dict[str, Any]] = {}
    messages = Counter[str]()
    for row in rows:
        usage = row["usage"]
        messages.update(usage["messageCounts"])
        for m in usage["modelUsage"]:
            entry = by_model.setdefault((m["provider"], m["model"]), {"provider": m["provider"], "model": m["model"],
                                                                      "count": 0, "totals": _totals()})
            entry["count"] += m["count"]
            _add(entry["totals"], m["totals"])
            prov = by_provider.setdefault(m["provider"], {"provider": m["provider"], "count": 0, "totals": _totals()})
            prov["count"] += m["count"]
            _add(prov["totals"], m["totals"])
        _add(by_agent.setdefault(row["agentId"], {"agentId": row["agentId"], "totals": _totals()})["totals"], usage)
        for day in usage["dailyBreakdown"]:
            into = daily.setdefault(day["date"], {"date": day["date"], **_totals()})
            _add(into, day)
    days = sorted(daily)
    per_day = Counter[str]()
    for row in rows:
        for counts in row["usage"]["dailyMessageCounts"]:
            per_day[counts["date"]] += counts["total"]
    return {
        "sessionCount": len(rows),
        "longestSessionDurationMs": max((r["usage"]["durationMs"] for r in rows), default=0),
        "messages": {k: messages[k] for k in ("total", "user", "assistant", "toolCalls", "toolResults", "errors")},
        "tools": {"totalCalls": messages["toolCalls"], "uniqueTools": 0, "tools": []},
        "byModel": list(by_model.values()), "byProvider": list(by_provider.values()),
        "byAgent": list(by_agent.values()), "byChannel": [], "byCreator": [],
        "costDaily": [daily[d] for d in days],
        "latency": {"count": 0, "avgMs": 0, "minMs": 0, "maxMs": 0, "p95Ms": 0}, "dailyLatency": [],
        "modelDaily": [m for r in rows for m in r["usage"]["dailyModelUsage"]],
        "daily": [{"date": d, "tokens": daily[d]["totalTokens"], "cost": 0,
                   "messages": per_day[d],
                   "toolCalls": 0, "errors": 0} for d in days],
    }


@method("sessions.usage", scope=READ, params="SessionsUsageParams")
async def sessions_usage(ctx: CallContext) -> dict[str, Any]:
    p = ctx.params
    zone = _zone(p.get("utcOffset"))
    today = datetime.now(zone).date()
    end = _day(p.get("endDate"), today, "endDate")
    start = _day(p.get("startDate"), end - timedelta(days=DEFAULT_DAYS - 1), "startDate")
    if start > end:
        raise RpcError(INVALID_REQUEST, "startDate must not be after endDate")
    since = int(datetime.combine(start, datetime.min.time(), zone).timestamp() * 1000)
    until = int(datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).timestamp() * 1000)
    runtime = runtime_for(ctx.gateway)
    config = ctx.gateway.settings.config
    wanted = p.get("agentId") if p.get("agentScope") != "all" else None
    limit = p.get("limit", DEFAULT_LIMIT)
    rows: list[dict[str, Any]] = []
    for agent in config.agents:
        if wanted and agent.id != wanted:
            continue
        store = runtime.store(agent.id)
        for session in await store.list(limit):
            if not since <= session.updated_at < until or (p.get("key") and session.key != p["key"]):
                continue
            entries = await store.entries(session.session_id)
            rows.append(_session_usage(session, agent.id, entries, zone))
    rows.sort(key=lambda r: r["updatedAt"], reverse=True)
    rows = rows[:limit]
    totals = _totals()
    for row in rows:
        _add(totals, row["usage"])
    return {"updatedAt": int(time.time() * 1000), "startDate": start.isoformat(), "endDate": end.isoformat(),
            "sessions": rows, "totals": totals, "aggregates": _aggregates(rows), "creatorOptions": [],
            "cacheStatus": {"status": "fresh", "cachedFiles": 0, "pendingFiles": 0, "staleFiles": 0,
                            "refreshedAt": int(time.time() * 1000)}}
