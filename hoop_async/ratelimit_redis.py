"""RedisRateLimiter: one rate budget per resource (location or company id) kept in
Redis and shared by every worker that uses the same Redis and prefix, checked and
taken in one atomic Lua script. It offers the four methods the session calls.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hoop_async._redis import RedisUnavailableError, open_redis, ping, redis_call
from hoop_async.errors import QuotaExhaustedError
from hoop_async.hooks import Hooks, RateLimitWait
from hoop_async.ratelimit import (
    DEFAULT_INTERVAL,
    DEFAULT_MAX_REQUESTS,
    RateLimit,
    RateLimiter,
    RateLimitHeaders,
    parse_rate_limit_headers,
)
from hoop_async.testing import sleep

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("hoop_async.ratelimit")

TAKEN, WAIT, DAILY_EXHAUSTED = 0, 1, 2

# KEYS: the log of send times (a sorted set scored in ms) and the learned state (a hash).
# ARGV: 1 id of this send, 2 default limit, 3 default interval ms, 4 configured max
# (0: none), 5 configured interval ms (0: none), 6 safety margin, 7-11 the last observed
# max, interval ms, remaining, daily remaining, daily reset ms (-1: not observed),
# 12 pause ms after a 429 (-1: none), 13 daily reserve, 14 age in ms of the observed
# values (how long before this call the response carrying them arrived).
# Returns {TAKEN}, {WAIT, delay ms, 1 if paused after a 429}, or
# {DAILY_EXHAUSTED, daily remaining, ms until the daily reset or -1}.
_ACQUIRE = """
local log, state = KEYS[1], KEYS[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit = tonumber(redis.call('HGET', state, 'limit') or ARGV[2])
local interval = tonumber(redis.call('HGET', state, 'interval') or ARGV[3])
local configured_max, configured_interval = tonumber(ARGV[4]), tonumber(ARGV[5])
local seen_max, seen_interval = tonumber(ARGV[7]), tonumber(ARGV[8])
local seen_remaining = tonumber(ARGV[9])

if seen_max > 0 then
    limit = seen_max
    if configured_max > 0 then limit = math.min(configured_max, seen_max) end
    redis.call('HSET', state, 'limit', limit)
end
if seen_interval > 0 then
    interval = math.max(configured_interval, seen_interval)
    redis.call('HSET', state, 'interval', interval)
end
local span = interval * (1 + tonumber(ARGV[6]))

-- Requests the server counted that no worker logged were spent by other programs.
-- Compare with the log as it was when the response arrived, not as it is now:
-- sends that left the window since then would otherwise look like foreign ones.
if seen_remaining >= 0 and seen_max > 0 then
    local observed = now - tonumber(ARGV[14])
    local logged = redis.call('ZCOUNT', log, '(' .. (observed - interval), observed)
    for i = 1, (seen_max - seen_remaining) - logged do
        redis.call('ZADD', log, observed, ARGV[1] .. ':other:' .. i)
    end
end
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - span)
if tonumber(ARGV[10]) >= 0 then redis.call('HSET', state, 'daily_remaining', ARGV[10]) end
if tonumber(ARGV[11]) >= 0 then
    redis.call('HSET', state, 'daily_reset_at', now + tonumber(ARGV[11]))
end
if tonumber(ARGV[12]) >= 0 then
    local paused = tonumber(redis.call('HGET', state, 'paused_until') or 0)
    redis.call('HSET', state, 'paused_until', math.max(paused, now + tonumber(ARGV[12])))
end
redis.call('PEXPIRE', state, 172800000)

local daily = redis.call('HGET', state, 'daily_remaining')
if daily and tonumber(daily) <= tonumber(ARGV[13]) then
    local reset_at = redis.call('HGET', state, 'daily_reset_at')
    if reset_at and now >= tonumber(reset_at) then
        redis.call('HDEL', state, 'daily_remaining', 'daily_reset_at')
        daily = false
    else
        local reset_after = -1
        if reset_at then reset_after = tonumber(reset_at) - now end
        return {2, tonumber(daily), reset_after}
    end
end

local paused_until = tonumber(redis.call('HGET', state, 'paused_until') or 0)
local delay = math.max(0, paused_until - now)
local count = redis.call('ZCARD', log)
if count >= limit then
    local oldest = redis.call('ZRANGE', log, count - limit, count - limit, 'WITHSCORES')
    delay = math.max(delay, tonumber(oldest[2]) + span - now)
end
if delay > 0 then
    local paused = 0
    if paused_until > now then paused = 1 end
    return {1, math.ceil(delay), paused}
end
redis.call('ZADD', log, now, ARGV[1])
redis.call('PEXPIRE', log, math.ceil(span) + 1000)
if daily then redis.call('HINCRBY', state, 'daily_remaining', -1) end
return {0}
"""


class RedisRateLimiter:
    """Budgets per resource in Redis at `<prefix>:rate:<resource>:log` and `...:state`.

    Takes the same RateLimit settings as RateLimiter. What `observe` and
    `throttled` learn (X-RateLimit-* headers, a 429's pause) is sent to Redis
    with this worker's next `acquire`, which the session makes before every
    send, so all workers see it from then on. When Redis cannot be reached,
    `acquire` raises RedisUnavailableError, or, with `fallback_to_local=True`,
    logs a warning once and limits this process alone.
    """

    def __init__(
        self,
        redis: str | Redis,
        settings: RateLimit | None = None,
        *,
        prefix: str = "hoop_async",
        hooks: Hooks | None = None,
        fallback_to_local: bool = False,
    ) -> None:
        self.client, self._owns_client = open_redis(redis)
        self.settings = settings or RateLimit()
        self.prefix = prefix
        self.hooks = hooks or Hooks()
        self.fallback_to_local = fallback_to_local
        self._local = RateLimiter(self.settings, hooks=self.hooks)
        self._warned = False
        self._ids = (f"{secrets.token_hex(8)}:{n}" for n in itertools.count())
        self._seen: dict[str, RateLimitHeaders] = {}
        self._seen_at: dict[str, float] = {}
        self._pauses: dict[str, float] = {}
        self._intervals: dict[str, float] = {}
        # Tasks of this process queue per resource, so one of them at a time polls Redis.
        self._queues: dict[str, asyncio.Lock] = {}

    async def ping(self) -> None:
        """Raise RedisUnavailableError when Redis does not respond. Call it at start-up."""
        await ping(self.client, repr(self))

    async def aclose(self) -> None:
        """Close the Redis client if this limiter opened it from a URL."""
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> RedisRateLimiter:
        await self.ping()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def acquire(self, resource: str) -> None:
        """Wait until `resource` may send one more request in any worker, then count it.

        Raises QuotaExhaustedError at the daily reserve (unless the settings ask to
        wait for the reset) and RedisUnavailableError when Redis cannot be reached.
        """
        queue = self._queues.setdefault(resource, asyncio.Lock())
        async with queue:
            try:
                await self._acquire_shared(resource)
            except RedisUnavailableError as error:
                if not self.fallback_to_local:
                    raise
                self._warn_fallback(error)
                await self._local.acquire(resource)

    def observe(self, resource: str, headers: Mapping[str, str]) -> None:
        """Keep the X-RateLimit-* values of a response for the next `acquire` to share."""
        self._local.observe(resource, headers)
        parsed = parse_rate_limit_headers(headers)
        if parsed is None:
            return
        self._seen[resource] = parsed
        self._seen_at[resource] = time.monotonic()
        if parsed.interval:
            self._intervals[resource] = parsed.interval

    def settle(self, resource: str) -> None:
        """Release this process's requests queued behind the first one (fallback only)."""
        self._local.settle(resource)

    def throttled(self, resource: str, retry_after: float | None) -> float:
        """Pause `resource` in every worker after a 429; return the seconds to wait.

        Without a Retry-After header the wait is one rate-limit window.
        """
        self._local.throttled(resource, retry_after)
        interval = self._intervals.get(resource, self.settings.interval or DEFAULT_INTERVAL)
        delay = interval if retry_after is None else retry_after
        self._pauses[resource] = max(self._pauses.get(resource, 0.0), delay)
        return delay

    async def _acquire_shared(self, resource: str) -> None:
        while True:
            result = await self._run_script(resource)
            status = int(result[0])
            if status == TAKEN:
                return
            if status == DAILY_EXHAUSTED:
                await self._wait_for_daily_reset(resource, int(result[1]), int(result[2]))
                continue
            delay = int(result[1]) / 1000
            reason = "retry-after" if int(result[2]) else "window"
            event = RateLimitWait(resource=resource, delay=delay, reason=reason)
            self.hooks.emit(self.hooks.rate_limit_wait, event)
            await sleep(delay)

    async def _run_script(self, resource: str) -> list[Any]:
        seen = self._seen.pop(resource, None) or RateLimitHeaders()
        seen_at = self._seen_at.pop(resource, None)
        age = 0 if seen_at is None else _milliseconds(time.monotonic() - seen_at)
        pause = self._pauses.pop(resource, None)
        settings = self.settings
        arguments = (
            next(self._ids),
            min(settings.max_requests or DEFAULT_MAX_REQUESTS, DEFAULT_MAX_REQUESTS),
            _milliseconds(settings.interval or DEFAULT_INTERVAL),
            settings.max_requests or 0,
            _milliseconds(settings.interval or 0.0),
            settings.safety_margin,
            seen.max_requests or 0,
            _milliseconds(seen.interval or 0.0),
            _or_unset(seen.remaining),
            _or_unset(seen.daily_remaining),
            -1 if seen.daily_reset is None else _milliseconds(seen.daily_reset),
            -1 if pause is None else _milliseconds(pause),
            settings.daily_reserve,
            age,
        )
        names = (f"{self.prefix}:rate:{resource}:log", f"{self.prefix}:rate:{resource}:state")
        script: Any = self.client.eval(_ACQUIRE, 2, *names, *arguments)
        try:
            result: list[Any] = await redis_call(
                self.client, script, f"taking a request slot of {resource!r}"
            )
        except RedisUnavailableError:
            # Keep what was learned for the next attempt.
            if pause is not None:
                self._pauses[resource] = max(self._pauses.get(resource, 0.0), pause)
            raise
        return result

    async def _wait_for_daily_reset(self, resource: str, remaining: int, reset_ms: int) -> None:
        reset_after = None if reset_ms < 0 else reset_ms / 1000
        if not self.settings.wait_for_daily_reset or reset_after is None:
            raise QuotaExhaustedError(resource, remaining, reset_after)
        event = RateLimitWait(resource=resource, delay=reset_after, reason="daily")
        self.hooks.emit(self.hooks.rate_limit_wait, event)
        await sleep(reset_after)

    def _warn_fallback(self, error: RedisUnavailableError) -> None:
        if self._warned:
            return
        self._warned = True
        logger.warning(
            "%s; limiting the rate in this process alone until Redis is back, so several "
            "workers together may exceed the API's limit",
            error,
        )

    def __repr__(self) -> str:
        return f"RedisRateLimiter(prefix={self.prefix!r})"


def _milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)


def _or_unset(value: int | None) -> int:
    return -1 if value is None else value
