"""One agent's memory index at work: keeping it in step with the files, and searching it.

A sync lists the memory files, re-reads only those whose size or mtime moved (and re-chunks only
those whose content hash moved), embeds the chunks the cache does not have, and replaces each
changed file's chunks in one transaction. One sync runs at a time; reading and chunking run in a
worker thread, SQL on the store's thread, embeddings over aiohttp: the event loop never waits on
disk. Changes are noticed by a cheap fingerprint (the root files and the folders under `memory/`,
a few stats however many notes there are), compared before each search and, debounced, in the
background when a turn begins (`schedule()`); a full scan (every file's size and mtime: ~0.3 s for
10,000 notes) runs when the fingerprint moved or the last one is older than `FULL_RESCAN_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw import logfile, memguard
from openclaw.memory import files as memfiles
from openclaw.memory.chunking import Chunk, chunk_text
from openclaw.memory.endpoint import Endpoint
from openclaw.memory.ranking import diversify, rank
from openclaw.memory.settings import SearchSettings
from openclaw.memory.store import FTS_ONLY, Hit, Indexed, MemoryStore, match_query
from openclaw.memory.vectors import Matrix
from openclaw.models.types import ModelError

if TYPE_CHECKING:
    from openclaw.memory.embeddings import Embedder

DEBOUNCE_S = 1.5
FULL_RESCAN_S = 30.0  # catches edits in place inside a note (the fingerprint misses those)
BATCH_FILES = 200  # files read, embedded and written per step of a sync
MAX_CHUNKS = 200_000  # chunks one index holds; files past it are left out (status says so)
MAX_VECTORS = 50_000  # held in memory for cosine: 300 MB at 1,536 dimensions (float32), 13 MB at 64
SNIPPET_CHARS = 700
EMBED_RETRY_S = 60.0  # after a failure, keyword-only chunks wait this long before being embedded again
CANDIDATES = 24  # keyword and vector candidates looked at per search, at least


@dataclass
class SyncReport:
    scanned: int = 0
    indexed: int = 0
    removed: int = 0
    chunks: int = 0
    embedded: int = 0
    skipped: int = 0  # left out: over MAX_CHUNKS
    error: str | None = None


@dataclass(frozen=True)
class Result:
    path: str
    start_line: int
    end_line: int
    score: float
    snippet: str
    vector_score: float | None = None
    text_score: float = 0.0

    @property
    def citation(self) -> str:
        return f"{self.path}#L{self.start_line}-L{self.end_line}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "startLine": self.start_line, "endLine": self.end_line,
                               "score": round(self.score, 4), "textScore": round(self.text_score, 4)}
        if self.vector_score is not None:
            out["vectorScore"] = round(self.vector_score, 4)
        return {**out, "snippet": self.snippet, "source": "memory", "citation": self.citation}


def changed(known: Indexed | None, f: memfiles.MemoryFile) -> bool:
    return known is None or known.size != f.size or abs(known.mtime_ms - f.mtime_ns / 1e6) > 0.001


def _read(batch: Sequence[memfiles.MemoryFile]) -> list[tuple[memfiles.MemoryFile, str, list[Chunk]]]:
    out = []
    for f in batch:
        try:
            text = memfiles.read_capped(f.abspath)
        except OSError:
            continue
        out.append((f, hashlib.sha256(text.encode()).hexdigest(), chunk_text(text)))
    return out


class MemoryIndex:
    def __init__(self, store_path: Path, agent_id: str, workspace: Path, settings: SearchSettings,
                 target: Endpoint | None) -> None:
        self.agent_id, self.workspace, self.settings, self.target = agent_id, workspace, settings, target
        self.store = MemoryStore(store_path, agent_id, settings.tokenizer)
        self.embedder: Embedder | None = None
        if target is not None:  # the HTTP client loads only when embeddings are on
            from openclaw.memory.embeddings import Embedder

            self.embedder = Embedder(target)
        self.model = target.model if target is not None else FTS_ONLY
        self.error: str | None = None  # the last embeddings failure
        self._lock = asyncio.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._scanned_at = 0.0
        self._synced = False
        self._revision = 0
        self._matrix: tuple[int, Matrix] | None = None
        self._pending: asyncio.Task[Any] | None = None
        self._failed_at = -EMBED_RETRY_S  # when embedding chunks last failed

    # -- keeping up with the files ----------------------------------------------------------------
    def schedule(self, delay: float = DEBOUNCE_S) -> None:
        """Check for changes in the background after `delay`, syncing when there are (calls within the
        delay share one check)."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._later(delay))

    async def _later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.fresh()
        except Exception as exc:  # noqa: BLE001 - a background sync is retried by the next trigger
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            logfile.warn(f"memory index sync failed for agent {self.agent_id}: {exc}", subsystem="memory")

    async def fresh(self) -> None:
        """Sync first when the files look changed (cheap check) or the last full scan is old."""
        mark = await asyncio.to_thread(memfiles.fingerprint, self.workspace)
        if not self._synced or mark != self._fingerprint or time.monotonic() - self._scanned_at > FULL_RESCAN_S:
            await self.sync(fingerprint=mark)

    async def sync(self, force: bool = False, fingerprint: tuple[Any, ...] | None = None) -> SyncReport:
        async with self._lock:
            mark = fingerprint or await asyncio.to_thread(memfiles.fingerprint, self.workspace)
            report = await self._sync(force)
            self._fingerprint, self._scanned_at, self._synced = mark, time.monotonic(), True
            return report

    async def _sync(self, force: bool) -> SyncReport:
        listed = await asyncio.to_thread(memfiles.list_files, self.workspace, self.settings.extra_paths)
        run = self.store.file.run
        known = await run(self.store.known)
        meta = await run(self.store.meta)
        force = force or meta.get("model") != self.model or meta.get("ftsTokenizer") != self.settings.tokenizer
        report = SyncReport(scanned=len(listed))
        retry: set[str] = set()
        if self.embedder is not None and time.monotonic() - self._failed_at > EMBED_RETRY_S:
            retry = await run(lambda db: self.store.unembedded(db, self.model))
        stale = [f for f in listed if force or f.path in retry or changed(known.get(f.path), f)]
        gone = set(known) - {f.path for f in listed}
        total = (await run(self.store.counts))[1] if not force else 0
        if force and known:
            await run(self.store.clear)
            known = {}
        for i in range(0, len(stale), BATCH_FILES):
            read = await asyncio.to_thread(_read, stale[i:i + BATCH_FILES])
            total = await self._write(read, known, report, total, retry)
        if gone:
            await run(lambda db: self.store.remove(db, gone))
            report.removed = len(gone)
        if stale or gone or force:
            await run(lambda db: self.store.write_meta(db, self._meta()))
            self._revision += 1
        return report

    async def _write(self, read: list[tuple[memfiles.MemoryFile, str, list[Chunk]]], known: dict[str, Indexed],
                     report: SyncReport, total: int, retry: set[str]) -> int:
        rows: list[tuple[str, Indexed, list[tuple[Chunk, str, Sequence[float] | None]] | None]] = []
        for f, digest, chunks in read:
            state = Indexed(digest, f.mtime_ns / 1e6, f.size)
            old = known.get(f.path)
            if old is not None and old.hash == digest and f.path not in retry:
                rows.append((f.path, state, None))  # touched, not changed
                continue
            if total + len(chunks) > MAX_CHUNKS:
                report.skipped += 1
                continue
            total += len(chunks)
            rows.append((f.path, state, [(c, FTS_ONLY, None) for c in chunks]))
        await self._embed(rows, report)

        def write(db: Any) -> None:
            for path, state, chunks in rows:
                if chunks is None:
                    self.store.touch_source(db, path, state)
                else:
                    self.store.replace_file(db, path, state, chunks)

        await self.store.file.run(write)
        report.indexed += sum(1 for r in rows if r[2] is not None)
        report.chunks += sum(len(r[2]) for r in rows if r[2] is not None)
        return total

    async def _embed(self, rows: list[Any], report: SyncReport) -> None:
        """Fill in the vectors of `rows`' chunks: from the cache, else from the endpoint."""
        if self.embedder is None or self.target is None:
            return
        target = self.target
        wanted = {c.hash: c.text for _, _, chunks in rows if chunks for c, _, _ in chunks}
        if not wanted:
            return
        found = await self.store.file.run(
            lambda db: self.store.cached(db, target.provider, target.model, target.key, list(wanted)))
        missing = [h for h in wanted if h not in found]
        if missing:
            try:
                fresh = await self.embedder.embed([wanted[h] for h in missing])
            except ModelError as exc:
                self.error = str(exc)
                self._failed_at = time.monotonic()
                report.error = self.error
                logfile.warn(f"memory embeddings failed; indexing by keyword only: {exc}", subsystem="memory")
                return
            new = dict(zip(missing, fresh, strict=True))
            await self.store.file.run(
                lambda db: self.store.cache(db, target.provider, target.model, target.key, new))
            found.update(new)
            report.embedded += len(new)
        self.error = None
        for i, (path, state, chunks) in enumerate(rows):
            if chunks:
                rows[i] = (path, state, [(c, self.model if c.hash in found else FTS_ONLY, found.get(c.hash))
                                         for c, _, _ in chunks])

    def _meta(self) -> dict[str, Any]:
        target = self.target
        return {"model": self.model, "provider": target.provider if target else "none",
                "providerKey": target.key if target else "", "sources": ["memory"],
                "chunkTokens": 400, "chunkOverlap": 80, "chunker": "openclaw-python-1",
                "ftsTokenizer": self.settings.tokenizer}

    # -- searching --------------------------------------------------------------------------------
    async def search(self, query: str, max_results: int | None = None,
                     min_score: float | None = None) -> list[Result]:
        await self.fresh()
        limit = max_results or self.settings.max_results
        floor = self.settings.min_score if min_score is None else min_score
        pool = max(CANDIDATES, limit * 4)
        match = match_query(query, self.settings.tokenizer)
        text_hits = await self.store.file.run(lambda db: self.store.fts(db, match, pool)) if match else []
        vector_hits = await self._vector_hits(query, text_hits, pool)
        scored = [s for s in rank(text_hits, vector_hits, dt.date.today()) if s.score >= floor]
        return [Result(s.hit.path, s.hit.start_line, s.hit.end_line, s.score, _snippet(s.hit.text),
                       s.vector_score, s.text_score) for s in diversify(scored, limit)]

    async def _vector_hits(self, query: str, text_hits: list[Hit], pool: int) -> list[tuple[Hit, float]] | None:
        if self.embedder is None:
            return None
        matrix = await self._vectors()
        if not matrix.ids:
            return None
        try:
            [q] = await self.embedder.embed([query])
        except ModelError as exc:
            self.error = str(exc)
            logfile.warn(f"memory search embeddings failed; keyword results only: {exc}", subsystem="memory")
            return None

        def score() -> tuple[list[tuple[int, float]], dict[int, float]]:
            top = matrix.top(q, pool)
            more = {h.rowid: c for h in text_hits if (c := matrix.one(q, h.rowid)) is not None}
            return top, more

        top, more = await asyncio.to_thread(score)
        known = {h.rowid: h for h in text_hits}
        extra = [rowid for rowid, _ in top if rowid not in known]
        if extra:
            known.update({h.rowid: h for h in await self.store.file.run(lambda db: self.store.hits(db, extra))})
        cos = {**more, **dict(top)}
        return [(known[r], c) for r, c in cos.items() if r in known]

    async def _vectors(self) -> Matrix:
        if self._matrix is None or self._matrix[0] != self._revision:
            ids, found = await self.store.file.run(lambda db: self.store.embedded(db, self.model, MAX_VECTORS))
            self._matrix = (self._revision, await asyncio.to_thread(Matrix, ids, found))
        return self._matrix[1]

    async def close(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(BaseException):
                await self._pending
        if self.embedder is not None:
            await self.embedder.close()
        await self.store.close()


def _snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rstrip() + "…"

