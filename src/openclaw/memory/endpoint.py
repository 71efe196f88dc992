"""Where embeddings come from: an OpenAI-shaped `/v1/embeddings` endpoint, resolved from config.

`memory.search.remote.baseUrl` (with `remote.apiKey`, `remote.headers`), else the configured
provider entry named by `memory.search.provider` (`openai` by default, built in: its base URL and key
as the models use them; `openai-compatible` needs a `remote.baseUrl` or a `models.providers` entry of
that name). A hosted provider without a key means no
embeddings: the search stays full-text, as upstream's does. Light on purpose (no HTTP client), so
`openclaw memory status` and a keyword search load no network stack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from openclaw.config.view import Config
from openclaw.memory.settings import SearchSettings
from openclaw.models.catalog import Provider, providers

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
    known: Provider | None = None
    if not remote.base_url or not remote.api_key:  # `models.providers.<provider>` (or the built-in openai)
        known = providers(config, env).get(settings.provider)
    base = remote.base_url or (known.base_url if known else None)
    key = remote.api_key or (known.api_key if known else None)
    if not base or (settings.provider == "openai" and not remote.base_url and not key):
        return None
    return Endpoint(settings.provider, embeddings_url(base), settings.model, key, dict(remote.headers))
