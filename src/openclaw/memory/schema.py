"""The memory index's tables in upstream's per-agent store, in the two shapes upstream knows.

A store at `user_version` 0 (one ours created) gets upstream's pre-23 memory tables: chunk ids as
the primary key and embeddings as JSON text. Upstream's migration (its gateway start or `doctor
--fix`) compares every table with that DDL before taking the file to 23, so anything else there
(23's shape included) makes it refuse the file. At 23 the tables are upstream's own: a stable
`chunk_rowid`, Float64 little-endian embedding BLOBs, and triggers that keep the full-text table in
step with the chunks. `Shape` tells the writer which one it has; the FTS rowid is the chunk's rowid
in both, so one query joins them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

FTS_TABLE = "memory_index_chunks_fts"

LEGACY = """
CREATE TABLE IF NOT EXISTS memory_index_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS memory_index_sources (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'memory',
  hash TEXT NOT NULL,
  mtime REAL NOT NULL,
  size INTEGER NOT NULL,
  UNIQUE (path, source)
) STRICT;
CREATE TABLE IF NOT EXISTS memory_index_chunks (
  id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'memory',
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  hash TEXT NOT NULL,
  model TEXT NOT NULL,
  text TEXT NOT NULL,
  embedding TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS memory_embedding_cache (
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  provider_key TEXT NOT NULL,
  hash TEXT NOT NULL,
  embedding TEXT NOT NULL,
  dims INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (provider, model, provider_key, hash)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_memory_embedding_cache_updated_at
  ON memory_embedding_cache(updated_at);
CREATE INDEX IF NOT EXISTS idx_memory_index_sources_source
  ON memory_index_sources(source);
CREATE INDEX IF NOT EXISTS idx_memory_index_chunks_path_source
  ON memory_index_chunks(path, source);
CREATE INDEX IF NOT EXISTS idx_memory_index_chunks_path
  ON memory_index_chunks(path);
CREATE INDEX IF NOT EXISTS idx_memory_index_chunks_source
  ON memory_index_chunks(source);
"""


def fts_ddl(tokenizer: str) -> str:
    clause = ",\n  tokenize='trigram'" if tokenizer == "trigram" else ""
    return (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(\n  text,\n  id UNINDEXED,\n"
            "  path UNINDEXED,\n  source UNINDEXED,\n  model UNINDEXED,\n  start_line UNINDEXED,\n"
            f"  end_line UNINDEXED{clause}\n);")


@dataclass(frozen=True)
class Shape:
    binary: bool  # 23: Float64 BLOB embeddings; else JSON text
    fts_by_trigger: bool  # upstream's triggers fill the FTS table from the chunks


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def prepare(db: sqlite3.Connection, version: int, tokenizer: str) -> Shape:
    """Create what is missing (upstream's DDL for the file's version) and read the shape."""
    if not _has_table(db, "memory_index_chunks"):
        if version >= 23:
            # upstream asserts its whole schema at 23, so this is a store it never finished: keep out
            raise sqlite3.OperationalError("the agent store has no memory tables; run openclaw doctor --fix")
        db.executescript(LEGACY)
    if not _has_table(db, FTS_TABLE):
        db.execute(fts_ddl(tokenizer))
    elif _tokenizer(db) != tokenizer:
        _rebuild_fts(db, tokenizer)
    binary = db.execute("SELECT 1 FROM pragma_table_info('memory_index_chunks') "
                        "WHERE name = 'chunk_rowid'").fetchone() is not None
    trigger = _has_table(db, "memory_index_chunks_fts_after_insert")
    return Shape(binary, trigger)


def _tokenizer(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()
    return "trigram" if row and "trigram" in str(row[0]) else "unicode61"


def _rebuild_fts(db: sqlite3.Connection, tokenizer: str) -> None:
    """`store.fts.tokenizer` changed: the full-text table again, with the new one, from the chunks."""
    db.execute("SAVEPOINT memory_fts_tokenizer")
    try:
        db.execute(f"DROP TABLE {FTS_TABLE}")
        db.execute(fts_ddl(tokenizer))
        db.execute(f"INSERT INTO {FTS_TABLE} (rowid, text, id, path, source, model, start_line, end_line) "
                   "SELECT rowid, text, id, path, source, model, start_line, end_line FROM memory_index_chunks")
    except BaseException:
        db.execute("ROLLBACK TO memory_fts_tokenizer")
        db.execute("RELEASE memory_fts_tokenizer")
        raise
    db.execute("RELEASE memory_fts_tokenizer")
