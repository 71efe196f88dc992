"""Exponential backoff, one policy for every client that talks to a peer that may fail for a while.

The wait doubles from `base_s` up to `cap_s`. A peer that says how long to wait (`retry-after`)
is waited exactly that long: never jittered, since it is the peer's rule; a wait above
`max_wait_s` is not waited out at all (the caller gives up and, say, tries another model).
Jitter takes up to that fraction off each backoff, so the gateways of one host that lost the
same upstream together do not all come back in the same instant. Waits are `asyncio.sleep`:
cancelling the task cancels the wait, and `CancelledError` is never taken for a failure.
Synchronous callers (the CLI) use `Waits.next()` with `time.sleep` and never load asyncio.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)

_MAX_EXPONENT = 64  # beyond this every delay is the cap anyway; keeps factor ** n finite


@dataclass(frozen=True)
class Backoff:
    """The policy: how long to wait after the n-th failure in a row."""

    base_s: float = 1.0
    cap_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.0  # 0..1: the largest fraction taken off a backoff at random

    def delay(self, failures: int) -> float:
        """The backoff after `failures` (>= 1) failures in a row."""
        exponent = min(max(failures, 1) - 1, _MAX_EXPONENT)
        wait = min(self.cap_s, self.base_s * self.factor**exponent)
        if self.jitter > 0:
            wait -= wait * min(self.jitter, 1.0) * random.random()
        return max(0.0, wait)

    def waits(self) -> Waits:
        """A fresh streak of failures under this policy."""
        return Waits(self)


class Waits:
    """One streak of failures: each one waits longer; `reset()` after a success starts over."""

    def __init__(self, policy: Backoff) -> None:
        self.policy = policy
        self.failures = 0

    def next(self, retry_after: float | None = None) -> float:
        """Count a failure and return how long to wait: the peer's `retry_after` if it gave one."""
        self.failures += 1
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.policy.delay(self.failures)

    def reset(self) -> None:
        self.failures = 0

    async def sleep(self, retry_after: float | None = None) -> float:
        """Count a failure and wait it out; returns the wait."""
        wait = self.next(retry_after)
        await _sleep(wait)
        return wait


async def _sleep(seconds: float) -> None:
    import asyncio  # here, not at the top: the synchronous CLI imports this module and never needs it

    await asyncio.sleep(seconds)


def _no_hint(_: Exception) -> float | None:
    return None


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: Backoff,
    attempts: int,
    on: type[E],
    when: Callable[[E], bool] = lambda _: True,
    retry_after: Callable[[E], float | None] = _no_hint,
    max_wait_s: float = math.inf,
) -> T:
    """`call()` up to `attempts` times, retrying an `on` failure that `when` accepts.

    The last failure is raised as it came, as is one whose wait would exceed `max_wait_s`
    and any exception that is not an `on`.
    """
    waits = policy.waits()
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except on as exc:
            if attempt >= attempts or not when(exc):
                raise
            wait = waits.next(retry_after(exc))
            if wait > max_wait_s:
                raise
        await _sleep(wait)
    raise ValueError(f"attempts must be >= 1, not {attempts}")
