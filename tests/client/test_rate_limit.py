"""Mutate pacing: no more than N request starts in any window, under real concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest
import respx

from cms_client.rate_limit import MutationRateLimiter, process_mutation_limiter
from cms_client.sanity_client import SanityClient
from tests.client.fakes import FakeTime, make_settings


class FrozenTime:
    """Time stands still; each sleeper's wake-up time is recorded (many sleep at once)."""

    def __init__(self) -> None:
        self.now = 50.0
        self.wakeups: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.wakeups.append(self.now + seconds)
        await asyncio.sleep(0)


def most_in_any_window(starts: list[float], window: float = 1.0) -> int:
    starts = sorted(starts)
    return max(sum(1 for t in starts if begin <= t < begin + window - 1e-9) for begin in starts)


def test_a_burst_up_to_the_rate_then_one_window_later() -> None:
    time = FrozenTime()
    limiter = MutationRateLimiter(25, clock=time.monotonic, sleep=time.sleep)

    waits = [limiter.reserve() for _ in range(60)]

    assert waits[:25] == [0.0] * 25
    assert waits[25:50] == [1.0] * 25
    assert waits[50:] == [2.0] * 10


def test_slots_free_up_as_time_passes() -> None:
    time = FakeTime()
    limiter = MutationRateLimiter(2, clock=time.monotonic)
    assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.0]
    time.now += 0.4
    assert limiter.reserve() == pytest.approx(0.6)  # the first slot frees 1 s after it was used
    time.now += 5
    assert limiter.reserve() == 0.0


async def test_concurrent_acquirers_never_exceed_the_rate() -> None:
    time = FrozenTime()
    limiter = MutationRateLimiter(10, clock=time.monotonic, sleep=time.sleep)

    await asyncio.gather(*(limiter.acquire() for _ in range(95)))

    starts = [time.now] * (95 - len(time.wakeups)) + time.wakeups
    assert len(starts) == 95
    assert most_in_any_window(starts) == 10
    assert max(starts) - time.now == 9.0  # 95 requests at 10/s: the last starts at +9 s


async def test_client_mutations_are_paced_through_the_limiter(sanity: respx.MockRouter) -> None:
    time = FrozenTime()
    sanity.post("/mutate/production").respond(json={"transactionId": "t", "results": []})
    store = SanityClient(
        make_settings(mutations_per_second=5), sleep=time.sleep, monotonic=time.monotonic
    )

    await asyncio.gather(*(store.mutate([{"delete": {"id": f"d{n}"}}]) for n in range(12)))
    await store.aclose()

    assert sorted(time.wakeups) == [51.0] * 5 + [52.0] * 2


async def test_reads_are_not_paced(sanity: respx.MockRouter) -> None:
    time = FrozenTime()
    sanity.get("/query/production").respond(json={"result": 1})
    store = SanityClient(
        make_settings(mutations_per_second=1), sleep=time.sleep, monotonic=time.monotonic
    )
    await asyncio.gather(*(store.query("1") for _ in range(10)))
    await store.aclose()
    assert time.wakeups == []


async def test_clients_share_the_process_limiter_unless_time_is_injected() -> None:
    first = SanityClient(make_settings())
    second = SanityClient(make_settings(dataset="other"))
    other_rate = SanityClient(make_settings(mutations_per_second=5))
    faked = SanityClient(make_settings(), sleep=FakeTime().sleep)
    try:
        assert first.limiter is second.limiter is process_mutation_limiter(25)
        assert other_rate.limiter is process_mutation_limiter(5)
        assert faked.limiter is not first.limiter
    finally:
        for store in (first, second, other_rate, faked):
            await store.aclose()


def test_one_limiter_serves_several_event_loops_and_threads() -> None:
    time = FrozenTime()
    limiter = MutationRateLimiter(10, clock=time.monotonic, sleep=time.sleep)

    async def burst() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(10)))

    threads = [threading.Thread(target=asyncio.run, args=(burst(),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    starts = [time.now] * (30 - len(time.wakeups)) + time.wakeups
    assert most_in_any_window(starts) == 10
    assert sorted(time.wakeups) == [51.0] * 10 + [52.0] * 10


def test_the_expected_wait_is_what_the_next_request_would_wait_and_books_nothing() -> None:
    time = FakeTime()
    limiter = MutationRateLimiter(2, clock=time.monotonic)
    assert limiter.expected_wait() == 0.0
    limiter.reserve()
    limiter.reserve()
    time.now += 0.25
    # Asking any number of times takes no slot: the answer stays the same.
    assert [limiter.expected_wait() for _ in range(3)] == [pytest.approx(0.75)] * 3
    assert limiter.reserve() == pytest.approx(0.75)
    time.now += 10
    assert limiter.expected_wait() == 0.0
