"""Token use by day (and its cost where the model's price is configured), read from the
sessions databases' usage log without opening them for writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from openclaw.config.view import Config

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


def _rows(path: Path, since_ms: int) -> list[tuple[str, str | None, int, int, int]]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'usage_log'").fetchone():
            return []
        return db.execute(
            "SELECT date(ts / 1000, 'unixepoch', 'localtime'), model, SUM(input_tokens), SUM(output_tokens), "
            "COUNT(*) FROM usage_log WHERE ts >= ? GROUP BY 1, 2", (since_ms,)).fetchall()
    finally:
        db.close()


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
