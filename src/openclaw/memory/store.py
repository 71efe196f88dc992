"""The memory index in the agent's store (`agents/<id>/agent/openclaw-agent.sqlite`, as upstream):
one row per indexed file in `memory_index_sources`, its chunks in `memory_index_chunks` (with
`memory_index_chunks_fts` for BM25), embeddings cached by content hash and model in
`memory_embedding_cache`, and the index's identity in `memory_index_meta`.

Every statement runs on the file's own thread (`SqliteFile`); the methods here are the blocking
halves the manager sends there. A file's chunks are replaced in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.memory import schema, vectors
from openclaw.memory.chunking import Chunk
from openclaw.stores import agentdb
from openclaw.stores.agentschema import AGENT_SCHEMA_VERSION
from openclaw.stores.sqlitefile import SqliteFile, immediate

SOURCE = "memory"
FTS_ONLY = "fts-only"  # the model column of a chunk without an embedding (upstream's word)
META_KEY = "memory_index_meta_v1"
CACHE_MAX = 50_000  # cached embeddings kept, as upstream's default cap
MAX_QUERY_TERMS = 32
WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset({  # dropped from a query unless it is all there is
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does",
    "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "like", "me", "my", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their", "them",
    "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who",
    "whom", "why", "will", "with", "would", "you", "your"
})


@dataclass(frozen=True)
class Indexed:
    hash: str
    mtime_ms: float
    size: int


@dataclass(frozen=True)
class Hit:
    rowid: int
    path: str
    start_line: int
    end_line: int
    text: str
    rank: float = 0.0  # bm25: lower is better


def match_query(query: str, tokenizer: str = "unicode61") -> str | None:
    """An FTS5 query matching any of the words (BM25 ranks chunks with more of them first)."""
    found = WORD.findall(query.lower())
    meaningful = [w for w in found if w not in STOPWORDS] or found
    words: list[str] = []
    for word in meaningful:
        if (tokenizer == "trigram" and len(word) < 3) or word in words:
            continue
        words.append(word)
    return " OR ".join(f'"{w}"' for w in words[:MAX_QUERY_TERMS]) or None


def chunk_id(path: str, chunk: Chunk, model: str) -> str:
    key = f"{SOURCE}:{path}:{chunk.start_line}:{chunk.end_line}:{chunk.hash}:{model}"
    return hashlib.sha256(key.encode()).hexdigest()


class MemoryStore:
    def __init__(self, path: Path, agent_id: str, tokenizer: str = "unicode61") -> None:
        self.path, self.agent_id, self.tokenizer = path, agent_id, tokenizer
        self.shape = schema.Shape(False, False)
        self._agent_prepare = agentdb.prepare(agent_id)
        self.file = SqliteFile(path, AGENT_SCHEMA_VERSION, self._prepare)

    def _prepare(self, db: sqlite3.Connection, version: int) -> None:
        self._agent_prepare(db, version)
        self.shape = schema.prepare(db, version, self.tokenizer)

    async def close(self) -> None:
        await self.file.close()

    # -- writing --------------------------------------------------------------------------------
    def known(self, db: sqlite3.Connection) -> dict[str, Indexed]:
        rows = db.execute("SELECT path, hash, mtime, size FROM memory_index_sources WHERE source = ?", (SOURCE,))
        return {p: Indexed(h, m, s) for p, h, m, s in rows}

    def _drop_chunks(self, db: sqlite3.Connection, path: str) -> None:
        if not self.shape.fts_by_trigger:
            db.execute(f"DELETE FROM {schema.FTS_TABLE} WHERE rowid IN "
                       "(SELECT rowid FROM memory_index_chunks WHERE path = ? AND source = ?)", (path, SOURCE))
        db.execute("DELETE FROM memory_index_chunks WHERE path = ? AND source = ?", (path, SOURCE))

    def replace_file(self, db: sqlite3.Connection, path: str, state: Indexed,
                     chunks: Sequence[tuple[Chunk, str, Sequence[float] | None]]) -> None:
        """The file's chunks (each with its model and embedding, or none) and its source row."""
        now = int(time.time() * 1000)
        with immediate(db):
            self._drop_chunks(db, path)
            for chunk, model, vector in chunks:
                blob = vectors.encode(vector or (), self.shape.binary)
                cid = chunk_id(path, chunk, model)
                cur = db.execute(
                    "INSERT OR IGNORE INTO memory_index_chunks (id, path, source, start_line, end_line, hash, "
                    "model, text, embedding, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cid, path, SOURCE, chunk.start_line, chunk.end_line, chunk.hash, model, chunk.text, blob, now))
                if cur.rowcount and not self.shape.fts_by_trigger:
                    db.execute(f"INSERT INTO {schema.FTS_TABLE} (rowid, text, id, path, source, model, start_line, "
                               "end_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (cur.lastrowid, chunk.text, cid, path, SOURCE, model, chunk.start_line, chunk.end_line))
            self.touch_source(db, path, state)

    def touch_source(self, db: sqlite3.Connection, path: str, state: Indexed) -> None:
        db.execute("INSERT INTO memory_index_sources (path, source, hash, mtime, size) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (path, source) DO UPDATE SET hash = excluded.hash, mtime = excluded.mtime, "
                   "size = excluded.size", (path, SOURCE, state.hash, state.mtime_ms, state.size))

    def remove(self, db: sqlite3.Connection, paths: Iterable[str]) -> None:
        with immediate(db):
            for path in paths:
                self._drop_chunks(db, path)
                db.execute("DELETE FROM memory_index_sources WHERE path = ? AND source = ?", (path, SOURCE))

    def clear(self, db: sqlite3.Connection) -> None:
        self.remove(db, list(self.known(db)))

    def write_meta(self, db: sqlite3.Connection, meta: dict[str, Any]) -> None:
        with immediate(db):
            db.execute("INSERT INTO memory_index_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                       "SET value = excluded.value", (META_KEY, json.dumps(meta, separators=(",", ":"))))

    def meta(self, db: sqlite3.Connection) -> dict[str, Any]:
        row = db.execute("SELECT value FROM memory_index_meta WHERE key = ?", (META_KEY,)).fetchone()
        try:
            found = json.loads(row[0]) if row else {}
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    # -- embeddings cache -----------------------------------------------------------------------
    def cached(self, db: sqlite3.Connection, provider: str, model: str, key: str,
               hashes: Sequence[str]) -> dict[str, vectors.Vector]:
        out: dict[str, vectors.Vector] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            marks = ",".join("?" * len(part))
            for h, blob in db.execute(f"SELECT hash, embedding FROM memory_embedding_cache WHERE provider = ? AND "
                                      f"model = ? AND provider_key = ? AND hash IN ({marks})",
                                      (provider, model, key, *part)):
                found = vectors.decode(blob)
                if found:
                    out[h] = found
        return out

    def cache(self, db: sqlite3.Connection, provider: str, model: str, key: str,
              found: dict[str, Sequence[float]]) -> None:
        """Keep new vectors; past `CACHE_MAX` entries the least recently written go (upstream's cap)."""
        now = int(time.time() * 1000)
        with immediate(db):
            db.executemany("INSERT OR REPLACE INTO memory_embedding_cache (provider, model, provider_key, hash, "
                           "embedding, dims, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(provider, model, key, h, vectors.encode(v, self.shape.binary), len(v), now)
                            for h, v in found.items()])
            over = db.execute("SELECT COUNT(*) FROM memory_embedding_cache").fetchone()[0] - CACHE_MAX
            if over > 0:
                db.execute("DELETE FROM memory_embedding_cache WHERE rowid IN (SELECT rowid FROM "
                           "memory_embedding_cache ORDER BY updated_at LIMIT ?)", (over,))

    def unembedded(self, db: sqlite3.Connection, model: str) -> set[str]:
        """Files with chunks not embedded by `model` (an embeddings failure left them keyword-only)."""
        rows = db.execute("SELECT DISTINCT path FROM memory_index_chunks WHERE source = ? AND model != ?",
                          (SOURCE, model))
        return {r[0] for r in rows}

    # -- reading --------------------------------------------------------------------------------
    def fts(self, db: sqlite3.Connection, match: str, limit: int) -> list[Hit]:
        rows = db.execute(
            f"SELECT c.rowid, c.path, c.start_line, c.end_line, c.text, bm25({schema.FTS_TABLE}) AS rank "
            f"FROM {schema.FTS_TABLE} JOIN memory_index_chunks c ON c.rowid = {schema.FTS_TABLE}.rowid "
            f"WHERE {schema.FTS_TABLE} MATCH ? AND c.source = ? ORDER BY rank LIMIT ?", (match, SOURCE, limit))
        return [Hit(*row) for row in rows]

    def hits(self, db: sqlite3.Connection, rowids: Sequence[int]) -> list[Hit]:
        marks = ",".join("?" * len(rowids))
        rows = db.execute(f"SELECT rowid, path, start_line, end_line, text FROM memory_index_chunks "
                          f"WHERE rowid IN ({marks})", tuple(rowids)) if rowids else []
        return [Hit(*row) for row in rows]

    def embedded(self, db: sqlite3.Connection, model: str, limit: int) -> tuple[list[int], list[Any]]:
        """(rowids, stored vectors) of the model's chunks, as stored: `vectors.Matrix` decodes them."""
        ids, found = [], []
        for rowid, blob in db.execute("SELECT rowid, embedding FROM memory_index_chunks WHERE model = ? AND "
                                      "source = ? LIMIT ?", (model, SOURCE, limit)):
            ids.append(rowid)
            found.append(blob)
        return ids, found

    def counts(self, db: sqlite3.Connection) -> tuple[int, int, int]:
        """(indexed files, chunks, cached embeddings)."""
        files = db.execute("SELECT COUNT(*) FROM memory_index_sources WHERE source = ?", (SOURCE,)).fetchone()[0]
        chunks = db.execute("SELECT COUNT(*) FROM memory_index_chunks WHERE source = ?", (SOURCE,)).fetchone()[0]
        cache = db.execute("SELECT COUNT(*) FROM memory_embedding_cache").fetchone()[0]
        return int(files), int(chunks), int(cache)
