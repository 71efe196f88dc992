"""Embedding vectors: their two stored forms and cosine similarity.

Stored as upstream does: JSON text in a store at schema 0, little-endian Float64 in one at 23.
Similarity runs over every stored vector of the model. numpy does it in one matrix product when
installed (imported on the first vector search, so a gateway without embeddings never loads it);
otherwise pure Python, which is fine for a few thousand chunks (bench/memory.py has both figures).
"""

from __future__ import annotations

import json
import math
import operator
import struct
from array import array
from collections.abc import Sequence
from typing import Any

Vector = tuple[float, ...]


def encode(vector: Sequence[float], binary: bool) -> bytes | str:
    if binary:
        return struct.pack(f"<{len(vector)}d", *vector)
    return json.dumps(list(vector), separators=(",", ":"))


def decode(value: Any) -> Vector:
    """A stored vector (either form); empty when there is none or it is malformed."""
    try:
        if isinstance(value, bytes):
            if len(value) % 8:
                return ()
            return struct.unpack(f"<{len(value) // 8}d", value)
        if isinstance(value, str) and value.startswith("["):
            found = json.loads(value)
            return tuple(float(x) for x in found) if isinstance(found, list) else ()
    except (ValueError, TypeError, struct.error):
        return ()
    return ()


def normalized(vector: Sequence[float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in vector))
    return tuple(x / norm for x in vector) if norm else tuple(vector)


class Matrix:
    """Unit vectors of one model, searched by cosine; numpy when available, else lists."""

    def __init__(self, ids: list[int], vectors: list[Any], use_numpy: bool | None = None) -> None:
        """`vectors` as stored (BLOB or JSON) or decoded; rows of another length than the first are
        left out. With numpy the stored form goes straight into one float32 matrix."""
        self.ids: list[int] = []
        self._np: Any = None
        self._rows: list[array[float]] = []  # float32, as numpy's matrix: 6 KB per 1,536-dim vector
        self._index: dict[int, int] | None = None
        np = _numpy() if use_numpy is not False else None
        if np is not None and vectors:
            self._load_numpy(np, ids, vectors)
            return
        for rowid, raw in zip(ids, vectors, strict=True):
            vector = raw if isinstance(raw, tuple) else decode(raw)
            if vector and (not self._rows or len(vector) == len(self._rows[0])):
                self.ids.append(rowid)
                self._rows.append(array("f", normalized(vector)))

    def _load_numpy(self, np: Any, ids: list[int], vectors: list[Any]) -> None:
        rows: list[Any] = []
        for rowid, raw in zip(ids, vectors, strict=True):
            if isinstance(raw, bytes) and raw and len(raw) % 8 == 0:
                row = np.frombuffer(raw, dtype="<f8").astype(np.float32)
            else:
                vector = raw if isinstance(raw, tuple) else decode(raw)
                if not vector:
                    continue
                row = np.asarray(vector, dtype=np.float32)
            if rows and row.shape != rows[0].shape:
                continue
            rows.append(row)
            self.ids.append(rowid)
        if not rows:
            return
        m = np.vstack(rows)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self._np, self._matrix = np, m / norms

    @property
    def numpy(self) -> bool:
        return self._np is not None

    def one(self, query: Sequence[float], rowid: int) -> float | None:
        """The cosine of one stored vector (None when the chunk has none)."""
        if self._index is None:
            self._index = {rowid: i for i, rowid in enumerate(self.ids)}
        i = self._index.get(rowid)
        if i is None:
            return None
        q = normalized(query)
        row = self._matrix[i].tolist() if self._np is not None else self._rows[i]
        return float(sum(map(operator.mul, row, q))) if len(row) == len(q) else None

    def top(self, query: Sequence[float], k: int) -> list[tuple[int, float]]:
        """(id, cosine) of the `k` closest vectors, best first."""
        if not self.ids:
            return []
        q = normalized(query)
        if self._np is not None:
            np = self._np
            if self._matrix.shape[1] != len(q):
                return []
            scores = self._matrix @ np.asarray(q, dtype=np.float32)
            k = min(k, len(scores))
            best = np.argpartition(-scores, k - 1)[:k]
            return sorted(((self.ids[i], float(scores[i])) for i in best), key=lambda p: -p[1])
        scored = [(self.ids[i], sum(map(operator.mul, row, q)))
                  for i, row in enumerate(self._rows) if len(row) == len(q)]
        scored.sort(key=lambda p: -p[1])
        return scored[:k]


def _numpy() -> Any:
    try:
        import numpy  # optional: only vector search needs it
    except ImportError:
        return None
    return numpy
