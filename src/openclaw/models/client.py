"""One model call as the agent sees it: the first model of the chain that answers.

Each model gets a few attempts on rate limits, overloads, server errors,
timeouts and broken connections (waiting what `retry-after` says, else
backing off), then the next model of the chain takes over. Once text has
reached the user a failure is final: a retry would say it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import aiohttp

from openclaw.models import anthropic, openai
from openclaw.models.catalog import ANTHROPIC, OPENAI, ModelRef, Provider, env_key_name
from openclaw.models.types import Completion, ModelError, OnText, Request
from openclaw.retry import Backoff, retry

MAX_ATTEMPTS = 3
MAX_WAIT_S = 60.0  # a retry-after longer than this is not waited out: the next model is tried
JITTER = 0.2  # agents that hit one provider's limit together do not all retry in the same instant


def _retry_base_s(env: Mapping[str, str]) -> float:
    try:
        return max(0.0, int(env.get("OPENCLAW_MODEL_RETRY_BASE_MS") or 1000) / 1000)
    except ValueError:
        return 1.0


async def _nothing(_: str) -> None:
    return None


class ModelClient:
    """Holds one HTTP session for every provider (created with the first call)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.backoff = Backoff(base_s=_retry_base_s(env), cap_s=MAX_WAIT_S,
                               jitter=JITTER)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # no cookie jar: providers get nothing one of them set, and no time goes into cookie bookkeeping
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64),
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def complete(self, refs: list[ModelRef], known: dict[str, Provider], request: Request,
                       on_text: OnText = _nothing) -> Completion:
        if not refs:
            raise ModelError("config", "no model is configured (set agents.defaults.model)")
        streamed = False

        async def relay(text: str) -> None:
            nonlocal streamed
            streamed = True
            await on_text(text)

        failures: list[str] = []
        for ref in refs:
            provider = known.get(ref.provider)
            try:
                return await self._attempts(ref, provider, replace(request, model=ref.model), relay,
                                            lambda: streamed)
            except ModelError as exc:
                if streamed or (exc.kind == "config" and len(refs) == 1) or exc.kind == "context_overflow":
                    raise  # an overflow is the conversation's: the caller compacts it and asks again
                failures.append(f"{ref}: {exc}")
        raise ModelError("exhausted", "every model failed: " + "; ".join(failures))

    async def _attempts(self, ref: ModelRef, provider: Provider | None, request: Request, relay: OnText,
                        streamed: Callable[[], bool]) -> Completion:
        if provider is None:
            raise ModelError("config", f"unknown provider {ref.provider!r}")
        if not provider.has_key:
            raise ModelError("config", f"no API key for {provider.id} (set {env_key_name(provider.id)} or "
                                       f"models.providers.{provider.id}.apiKey)")
        call = {OPENAI: openai.call, ANTHROPIC: anthropic.call}.get(provider.api)
        if call is None:
            raise ModelError("config", f"models.providers.{provider.id}.api {provider.api!r} is not supported "
                                       f"(use {OPENAI} or {ANTHROPIC})")

        async def attempt() -> Completion:
            completion = await call(self.session, provider, request, relay)
            completion.model = str(ref)
            return completion

        return await retry(attempt, self.backoff, MAX_ATTEMPTS, on=ModelError,
                           when=lambda exc: exc.retryable and not streamed(),
                           retry_after=lambda exc: exc.retry_after, max_wait_s=MAX_WAIT_S)
