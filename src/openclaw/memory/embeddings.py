"""Embeddings from an OpenAI-shaped `/v1/embeddings` endpoint, for the hybrid memory search.

Which endpoint: `memory.search.remote.baseUrl` (with `remote.apiKey`, `remote.headers`), else the
configured provider named by `memory.search.provider` (`openai` by default: its base URL and key as
the models use them). `openai-compatible` needs a `remote.baseUrl`. A hosted provider without a key
means no embeddings: the search stays full-text, as upstream's does. Requests are batched, bounded
in size and time, and run on the event loop (aiohttp); nothing here blocks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from openclaw.config.view import Config
from openclaw.memory.settings import SearchSettings
from openclaw.models import wire
from openclaw.models.catalog import Provider, providers
from openclaw.models.types import ModelError

BATCH = 64  # inputs per request
MAX_INPUT_CHARS = 8000  # a chunk is at most 1,600 characters; a query is cut here
TIMEOUT_S = 30.0
MAX_DIMS = 8192
VERSIONED = re.compile(r"/v\d+$")


@dataclass(frozen=True)
class Endpoint:
    provider: str
    url: str
    model: str
    api_key: str | None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What the cached vectors are keyed by besides model and content: where they came from."""
        return hashlib.sha256(f"{self.url}|{self.model}".encode()).hexdigest()


def embeddings_url(base: str) -> str:
    """`<base>/embeddings` when the base already names an API version (`.../v1`), as the models'
    base URLs do; else `<base>/v1/embeddings`."""
    base = base.rstrip("/")
    return f"{base}/embeddings" if VERSIONED.search(base) else f"{base}/v1/embeddings"


def endpoint(settings: SearchSettings, config: Config, env: Mapping[str, str]) -> Endpoint | None:
    """The endpoint the settings name, or None (search disabled, unsupported provider, no key)."""
    if not settings.enabled or settings.provider not in ("openai", "openai-compatible"):
        return None
    remote = settings.remote
    if settings.provider == "openai-compatible" and not remote.base_url:
        return None
    known: Provider | None = None
    if not remote.base_url or not remote.api_key:
        known = providers(config, env).get(settings.provider) if settings.provider == "openai" else None
    base = remote.base_url or (known.base_url if known else None)
    key = remote.api_key or (known.api_key if known else None)
    if not base or (settings.provider == "openai" and not remote.base_url and not key):
        return None
    return Endpoint(settings.provider, embeddings_url(base), settings.model, key, dict(remote.headers))


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
        async with wire.post(self._session, self._provider, self.target.url,
                             {"model": self.target.model, "input": texts}, headers) as resp:
            body = await wire.json_body(resp)
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
