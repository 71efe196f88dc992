"""How memory results are scored (0..1, higher is better).

- Keyword: BM25 from FTS5, relative to the best hit of the query: `0.4 + 0.6 * bm25 / best`, so the
  best keyword hit scores 1.0 and every other one at least 0.4 (above the default `minScore` 0.35:
  a word that matches is worth showing).
- Hybrid, when embeddings are on: `0.7 * cosine + 0.3 * keyword` (keyword 0 for a chunk the words
  did not find), upstream's vector/text weights. A chunk found only by meaning can still pass
  `minScore` when its cosine is high enough.
- Recency: a dated note (`memory/YYYY-MM-DD*.md`) loses half its score every 30 days; `MEMORY.md`,
  `USER.md` and undated notes are evergreen.
- Diversity: the results are picked by maximal marginal relevance with upstream's lambda 0.7
  (`0.7 * score - 0.3 * the highest word overlap with a result already picked`), so overlapping
  chunks of one passage do not fill the list. Each result keeps its own score.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from openclaw.memory.files import DATED
from openclaw.memory.store import Hit

MMR_LAMBDA = 0.7
VECTOR_WEIGHT = 0.7
TEXT_WEIGHT = 0.3
KEYWORD_FLOOR = 0.4
HALF_LIFE_DAYS = 30.0


@dataclass(frozen=True)
class Scored:
    hit: Hit
    score: float
    text_score: float
    vector_score: float | None


def keyword_scores(hits: Sequence[Hit]) -> dict[int, float]:
    if not hits:
        return {}
    best = min(h.rank for h in hits)
    if best >= 0:  # bm25 is negative for a match; all equal when it says nothing
        return {h.rowid: 1.0 for h in hits}
    return {h.rowid: KEYWORD_FLOOR + (1 - KEYWORD_FLOOR) * (h.rank / best) for h in hits}


def decay(path: str, today: dt.date) -> float:
    found = DATED.match(PurePosixPath(path).name)
    if not found or "memory" not in PurePosixPath(path).parts[:-1]:
        return 1.0
    try:
        age = (today - dt.date.fromisoformat(found.group(1))).days
    except ValueError:
        return 1.0
    return float(0.5 ** (max(age, 0) / HALF_LIFE_DAYS))


def rank(text_hits: Sequence[Hit], vector_hits: Sequence[tuple[Hit, float]] | None,
         today: dt.date) -> list[Scored]:
    """Every candidate scored, best first; `vector_hits` None means keyword-only."""
    text = keyword_scores(text_hits)
    by_id = {h.rowid: h for h in text_hits}
    cosines: dict[int, float] = {}
    for hit, cosine in vector_hits or ():
        by_id.setdefault(hit.rowid, hit)
        cosines[hit.rowid] = max(0.0, cosine)
    out = []
    for rowid, hit in by_id.items():
        t = text.get(rowid, 0.0)
        if vector_hits is None:
            score, v = t, None
        else:
            v = cosines.get(rowid, 0.0)
            score = VECTOR_WEIGHT * v + TEXT_WEIGHT * t
        out.append(Scored(hit, score * decay(hit.path, today), t, v))
    out.sort(key=lambda s: (-s.score, s.hit.path, s.hit.start_line))
    return out


WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text.lower()))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def diversify(scored: Sequence[Scored], limit: int) -> list[Scored]:
    """Up to `limit` of `scored` (best first), picked by maximal marginal relevance."""
    pool = list(scored)
    words = {id(s): _words(s.hit.text) for s in pool}
    picked: list[Scored] = []
    while pool and len(picked) < limit:
        def value(s: Scored) -> float:
            similar = max((_overlap(words[id(s)], words[id(p)]) for p in picked), default=0.0)
            return MMR_LAMBDA * s.score - (1 - MMR_LAMBDA) * similar

        best = max(pool, key=value)
        pool.remove(best)
        picked.append(best)
    return picked
