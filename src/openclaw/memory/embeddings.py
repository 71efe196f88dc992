"""Embeddings from the endpoint `memory.endpoint` resolves, for the hybrid memory search: batched,
bounded in size and time, over aiohttp on the event loop (nothing here blocks). Loaded only when
embeddings are on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp

from openclaw.memory.endpoint import Endpoint
from openclaw.models import wire
from openclaw.models.catalog import Provider
from openclaw.models.types import ModelError

BATCH = 64  # inputs per request
MAX_INPUT_CHARS = 8000  # a chunk is at most 1,600 characters; a query is cut here
TIMEOUT_S = 30.0  # silence between reads
BATCH_TIMEOUT_S = 120.0
MAX_DIMS = 8192


class Embedder:
    def __init__(self, target: Endpoint) -> None:
        self.target = target
        self.calls = 0
        self._session: aiohttp.ClientSession | None = None
        self._provider = Provider(id=f"embeddings ({target.provider})", base_url=target.url, api="openai",
                                  api_key=target.api_key, key_source="config", headers=dict(target.headers),
                                  timeout_s=TIMEOUT_S)

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """One vector per text, in order; raises ModelError when the endpoint fails or answers oddly."""
        out: list[tuple[float, ...]] = []
        for i in range(0, len(texts), BATCH):
            out += await self._batch([t[:MAX_INPUT_CHARS] for t in texts[i:i + BATCH]])
        return out

    async def _batch(self, texts: list[str]) -> list[tuple[float, ...]]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self.target.api_key}"} if self.target.api_key else {}
        self.calls += 1
        try:
            async with asyncio.timeout(BATCH_TIMEOUT_S):  # a whole request, however slowly it trickles
                async with wire.post(self._session, self._provider, self.target.url,
                                     {"model": self.target.model, "input": texts}, headers) as resp:
                    body = await wire.json_body(resp)
        except TimeoutError:
            raise ModelError("timeout", f"{self.target.url} took longer than {BATCH_TIMEOUT_S:g}s") from None
        rows = body.get("data")
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise ModelError("protocol", f"{self.target.url} answered without one embedding per input")
        ordered = sorted(rows, key=lambda r: r.get("index", 0) if isinstance(r, dict) else 0)
        vectors = []
        for row in ordered:
            vector = row.get("embedding") if isinstance(row, dict) else None
            if not isinstance(vector, list) or not 0 < len(vector) <= MAX_DIMS:
                raise ModelError("protocol", f"{self.target.url} sent an embedding that is not a list of numbers")
            vectors.append(tuple(float(x) for x in vector))
        return vectors

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
