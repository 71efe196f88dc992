"""Token use by day (and its cost where the model's price is configured), read from the usage on
the assistant messages of the agent stores' transcripts, without opening them for writing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from openclaw.config.view import Config
from openclaw.stores.agentdb import decode, zstd_column

PER_MILLION = 1_000_000


def prices(config: Config) -> dict[str, tuple[float, float]]:
    """`provider/model` -> (input, output) USD per million tokens, from `models.providers.*.models[].cost`."""
    out: dict[str, tuple[float, float]] = {}
    for pid, provider in config.providers.items():
        models = provider.get("models") if isinstance(provider, dict) else None
        for model in models if isinstance(models, list) else []:
            cost = model.get("cost") if isinstance(model, dict) else None
            if isinstance(cost, dict) and isinstance(model.get("id"), str):
                out[f"{pid}/{model['id']}"] = (float(cost.get("input") or 0), float(cost.get("output") or 0))
    return out


USAGE_SQL = """
SELECT date(created_at / 1000, 'unixepoch', 'localtime'),
       json_extract(event_json, '$.message.provider') || '/' || json_extract(event_json, '$.message.model'),
       SUM(json_extract(event_json, '$.message.usage.input')), SUM(json_extract(event_json, '$.message.usage.output')),
       COUNT(*)
FROM transcript_events
WHERE created_at >= ? AND event_json IS NOT NULL AND json_extract(event_json, '$.type') = 'message'
  AND json_extract(event_json, '$.message.role') = 'assistant'
  AND json_type(event_json, '$.message.usage') = 'object'
  AND (json_extract(event_json, '$.message.usage.input') + json_extract(event_json, '$.message.usage.output')) > 0
GROUP BY 1, 2
"""


def _rows(path: Path, since_ms: int) -> list[tuple[str, str | None, int, int, int]]:
    """(day, model, input, output, answers) from the assistant messages' usage in the agent store's
    transcripts (upstream keeps no other per-call usage)."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'transcript_events'").fetchone():
            return []
        rows: list[tuple[str, str | None, int, int, int]] = db.execute(USAGE_SQL, (since_ms,)).fetchall()
        return rows + _compressed_rows(db, since_ms)
    finally:
        db.close()


def _compressed_rows(db: sqlite3.Connection, since_ms: int) -> list[tuple[str, str | None, int, int, int]]:
    out: list[tuple[str, str | None, int, int, int]] = []
    if zstd_column(db) == "NULL":
        return out
    for created, blob in db.execute("SELECT created_at, event_zstd FROM transcript_events WHERE created_at >= ? "
                                    "AND event_zstd IS NOT NULL", (since_ms,)):
        event = decode(None, blob)
        body = event.get("message") if event else None
        usage = body.get("usage") if isinstance(body, dict) and body.get("role") == "assistant" else None
        if not isinstance(usage, dict) or not (usage.get("input") or usage.get("output")):
            continue
        day = time.strftime("%Y-%m-%d", time.localtime(created / 1000))
        model = f"{body.get('provider')}/{body.get('model')}" if isinstance(body, dict) else None
        out.append((day, model, int(usage.get("input") or 0), int(usage.get("output") or 0), 1))
    return out


def daily_usage(paths: list[Path], since_ms: int, config: Config) -> list[dict[str, Any]]:
    """One entry per day with tokens, cost (USD) and how many runs had no known price."""
    price = prices(config)
    days: dict[str, dict[str, Any]] = {}
    for path in paths:
        for date, model, tokens_in, tokens_out, runs in _rows(path, since_ms):
            day = days.setdefault(date, {"date": date, "input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0,
                                         "totalTokens": 0, "totalCost": 0.0, "missingCostEntries": 0})
            day["input"] += tokens_in
            day["output"] += tokens_out
            day["totalTokens"] += tokens_in + tokens_out
            if model in price:
                rate_in, rate_out = price[model]
                day["totalCost"] += (tokens_in * rate_in + tokens_out * rate_out) / PER_MILLION
            else:
                day["missingCostEntries"] += runs
    for day in days.values():
        day["totalCost"] = round(day["totalCost"], 6)
    return [days[d] for d in sorted(days)]
