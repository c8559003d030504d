"""RedisRateLimiter against a real redis-server and the sandbox: clients with their own
limiters share one budget per location, and an unreachable Redis raises the typed error.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis_support import free_port, unique_prefix

from hoop_async import HoopClient, QuotaExhaustedError
from hoop_async._redis import RedisUnavailableError
from hoop_async.ratelimit import RateLimit
from hoop_async.ratelimit_redis import RedisRateLimiter
from hoop_async.sandbox import Sandbox, SandboxConfig

logger = logging.getLogger(__name__)

CLIENTS = 4
CALLS_PER_CLIENT = 50
SANDBOX_LIMIT = 50


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        seed_contacts=0,
        enforce_rate_limit=True,
        rate_limit_max=SANDBOX_LIMIT,
        rate_limit_interval_ms=1000,
    )


def shared_client(sandbox: Sandbox, limiter: RedisRateLimiter) -> HoopClient:
    return HoopClient(
        token=sandbox.token,
        base_url=sandbox.url,
        location_id=sandbox.location_id,
        rate_limiter=limiter,
    )


async def make_calls(client: HoopClient) -> None:
    async with client:
        for _ in range(CALLS_PER_CLIENT // 5):
            await asyncio.gather(*(client.opportunities.pipelines() for _ in range(5)))


@pytest.mark.slow
async def test_clients_share_one_budget(hoop_sandbox: Sandbox, redis_url: str) -> None:
    prefix = unique_prefix()
    limiters = [RedisRateLimiter(redis_url, RateLimit(), prefix=prefix) for _ in range(CLIENTS)]
    clients = [shared_client(hoop_sandbox, limiter) for limiter in limiters]
    try:
        await asyncio.gather(*(make_calls(client) for client in clients))
    finally:
        for limiter in limiters:
            await limiter.aclose()

    throttled = sum(client.stats.statuses[429] for client in clients)
    succeeded = sum(client.stats.statuses[200] for client in clients)
    logger.info("%d clients: %d calls succeeded, %d answered 429", CLIENTS, succeeded, throttled)
    assert succeeded == CLIENTS * CALLS_PER_CLIENT
    assert throttled <= succeeded // 100


async def test_unreachable_redis_raises_typed_error() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(RedisUnavailableError, match="unreachable"):
            await limiter.ping()
        with pytest.raises(RedisUnavailableError):
            await limiter.acquire("LOC1")
    finally:
        await limiter.aclose()


async def test_fallback_limits_locally(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", fallback_to_local=True)
    try:
        await limiter.acquire("LOC1")
        limiter.settle("LOC1")
        await limiter.acquire("LOC1")
    finally:
        await limiter.aclose()

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "in this process alone" in warnings[0].getMessage()


async def test_429_pause_reaches_other_workers(redis_url: str) -> None:
    prefix = unique_prefix()
    first = RedisRateLimiter(redis_url, prefix=prefix)
    second = RedisRateLimiter(redis_url, prefix=prefix)
    waits: list[str] = []
    second.hooks.rate_limit_wait.append(lambda event: waits.append(event.reason))
    try:
        await first.acquire("LOC")
        assert first.throttled("LOC", 0.3) == 0.3
        # The pause travels to Redis with the first worker's next acquire, which
        # then waits it out itself; meanwhile the second worker must wait too.
        pending = asyncio.ensure_future(first.acquire("LOC"))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(second.acquire("LOC"), timeout=10)
        await asyncio.wait_for(pending, timeout=10)
    finally:
        await first.aclose()
        await second.aclose()
    assert waits
    assert waits[0] == "retry-after"


async def test_daily_reserve_shared_by_workers(redis_url: str) -> None:
    prefix = unique_prefix()
    settings = RateLimit(daily_reserve=10)
    first = RedisRateLimiter(redis_url, settings, prefix=prefix)
    second = RedisRateLimiter(redis_url, settings, prefix=prefix)
    try:
        first.observe(
            "LOC", {"X-RateLimit-Daily-Remaining": "10", "X-RateLimit-Daily-Reset": "60000"}
        )
        with pytest.raises(QuotaExhaustedError) as first_error:
            await first.acquire("LOC")
        with pytest.raises(QuotaExhaustedError) as second_error:
            await second.acquire("LOC")
    finally:
        await first.aclose()
        await second.aclose()
    assert first_error.value.remaining == 10
    assert second_error.value.remaining == 10
    assert second_error.value.reset_after is not None
