"""The one backoff policy: growth, cap, jitter, a peer's retry-after, giving up, cancelling."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import pytest

from openclaw import retry as retry_module
from openclaw.retry import Backoff, retry


class Flaky(Exception):
    def __init__(self, retry_after: float | None = None, retryable: bool = True) -> None:
        super().__init__("flaky")
        self.retry_after, self.retryable = retry_after, retryable


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits `retry` asks for, recorded instead of slept."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry_module, "_sleep", record)
    return waits


def failing(*failures: Exception, result: str = "ok") -> tuple[list[int], Callable[[], Awaitable[str]]]:
    """A call that raises `failures` one by one, then returns `result`; and its call counter."""
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        if calls[0] <= len(failures):
            raise failures[calls[0] - 1]
        return result

    return calls, call


def test_the_backoff_doubles_up_to_its_cap_and_never_overflows() -> None:
    policy = Backoff(base_s=1.0, cap_s=30.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.delay(10**6) == 30.0
    assert Backoff(base_s=0.01, cap_s=math.inf).delay(3) == pytest.approx(0.04)


def test_jitter_only_shortens_a_backoff_and_spreads_it() -> None:
    policy = Backoff(base_s=10.0, cap_s=10.0, jitter=0.25)
    delays = [policy.delay(1) for _ in range(200)]
    assert all(7.5 <= d <= 10.0 for d in delays)
    assert len(set(delays)) > 1


def test_a_peers_retry_after_is_waited_exactly_and_a_success_starts_over() -> None:
    waits = Backoff(base_s=1.0, cap_s=30.0, jitter=0.5).waits()
    assert waits.next(retry_after=3.0) == 3.0  # never jittered
    assert waits.next(retry_after=0.0) == 0.0
    assert 2.0 <= waits.next() <= 4.0  # the third failure in a row: 4 s less up to half
    waits.reset()
    assert 0.5 <= waits.next() <= 1.0


def test_retry_waits_retry_after_else_backs_off_and_returns_the_result(slept: list[float]) -> None:
    calls, call = failing(Flaky(retry_after=5.0), Flaky(), Flaky())
    result = asyncio.run(retry(call, Backoff(base_s=1.0), 4, on=Flaky, retry_after=lambda e: e.retry_after))
    assert result == "ok" and calls[0] == 4
    assert slept == [5.0, 2.0, 4.0]  # every failure counts towards the backoff, hinted or not


def test_retry_raises_the_last_failure_when_the_attempts_run_out(slept: list[float]) -> None:
    last = Flaky()
    calls, call = failing(Flaky(), Flaky(), last)
    with pytest.raises(Flaky) as caught:
        asyncio.run(retry(call, Backoff(base_s=1.0), 3, on=Flaky))
    assert caught.value is last and calls[0] == 3 and slept == [1.0, 2.0]


def test_retry_gives_up_at_once_on_what_it_must_not_retry(slept: list[float]) -> None:
    calls, call = failing(Flaky(retryable=False))
    with pytest.raises(Flaky):
        asyncio.run(retry(call, Backoff(), 3, on=Flaky, when=lambda e: e.retryable))
    calls_other, other = failing(KeyError("not ours"))
    with pytest.raises(KeyError):
        asyncio.run(retry(other, Backoff(), 3, on=Flaky))
    calls_long, too_long = failing(Flaky(retry_after=120.0))
    with pytest.raises(Flaky):
        asyncio.run(retry(too_long, Backoff(), 3, on=Flaky, retry_after=lambda e: e.retry_after,
                          max_wait_s=60))
    assert (calls[0], calls_other[0], calls_long[0]) == (1, 1, 1) and slept == []
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        asyncio.run(retry(failing()[1], Backoff(), 0, on=Flaky))


def test_cancelling_a_retry_ends_its_wait_and_it_calls_no_more() -> None:
    async def scenario() -> int:
        failed = asyncio.Event()
        calls = [0]

        async def call() -> None:
            calls[0] += 1
            failed.set()
            raise Flaky()

        task = asyncio.create_task(retry(call, Backoff(base_s=3600.0, cap_s=3600.0), 5, on=Flaky))
        await failed.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return calls[0]

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == 1


def test_a_waits_sleep_is_cancellable_too() -> None:
    async def scenario() -> None:
        task = asyncio.create_task(Backoff(base_s=3600.0, cap_s=3600.0).waits().sleep())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), 30))
