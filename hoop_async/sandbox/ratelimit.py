"""Rate limits per bucket (app and location, or app and company): a sliding
window of requests and a daily count reset at UTC midnight, the X-RateLimit-*
headers that every authenticated response carries, and the 429 response.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections import deque
from collections.abc import Callable

import attrs

from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.responses import ApiError
from hoop_async.sandbox.times import DAY_MS, ms_until_utc_midnight


@attrs.define
class _Bucket:
    window: deque[float] = attrs.field(factory=deque)
    day: int = -1
    daily_count: int = 0


@attrs.define(kw_only=True, frozen=True)
class RateDecision:
    """Outcome of one request against its bucket."""

    allowed: bool
    headers: dict[str, str]
    retry_after_seconds: float = 0.0


class RateLimiter:
    """Sliding-window and daily counters of every bucket."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, bucket_key: str) -> RateDecision:
        """Count one request in `bucket_key` unless the enforced limit is reached."""
        now = self._clock()
        bucket = self._bucket(bucket_key, now)
        wait = self._wait_seconds(bucket, now)
        if wait > 0 and self._config.enforce_rate_limit:
            headers = self._headers(bucket, now)
            return RateDecision(allowed=False, headers=headers, retry_after_seconds=wait)

        bucket.window.append(now)
        bucket.daily_count += 1
        return RateDecision(allowed=True, headers=self._headers(bucket, now))

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.setdefault(key, _Bucket())
        horizon = now - self._config.rate_limit_interval_ms / 1000
        while bucket.window and bucket.window[0] <= horizon:
            bucket.window.popleft()
        day = int(now * 1000) // DAY_MS
        if bucket.day != day:
            bucket.day = day
            bucket.daily_count = 0
        return bucket

    def _wait_seconds(self, bucket: _Bucket, now: float) -> float:
        """Return how long until the bucket has room again, 0 when it has room now."""
        if bucket.daily_count >= self._config.rate_limit_daily:
            return ms_until_utc_midnight(now) / 1000
        if len(bucket.window) >= self._config.rate_limit_max:
            interval = self._config.rate_limit_interval_ms / 1000
            return max(bucket.window[0] + interval - now, 0.001)
        return 0.0

    # NOTE: the live X-RateLimit-Daily-Reset appears to count milliseconds until the daily
    # reset. Resetting at UTC midnight is a guess.
    def _headers(self, bucket: _Bucket, now: float) -> dict[str, str]:
        config = self._config
        remaining = max(config.rate_limit_max - len(bucket.window), 0)
        daily_remaining = max(config.rate_limit_daily - bucket.daily_count, 0)
        return {
            "X-RateLimit-Max": str(config.rate_limit_max),
            "X-RateLimit-Interval-Milliseconds": str(config.rate_limit_interval_ms),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Limit-Daily": str(config.rate_limit_daily),
            "X-RateLimit-Daily-Remaining": str(daily_remaining),
            "X-RateLimit-Daily-Reset": str(ms_until_utc_midnight(now)),
        }


def retry_after_value(mode: str, wait_seconds: float, now: float) -> str | None:
    """Format Retry-After for `mode` ("seconds", "http-date" or "none")."""
    if mode == "seconds":
        return str(max(math.ceil(wait_seconds), 1))
    if mode == "http-date":
        return email.utils.formatdate(math.ceil(now + max(wait_seconds, 1.0)), usegmt=True)
    return None


def too_many_requests(config: SandboxConfig, decision: RateDecision) -> ApiError:
    """Build the 429 error for a rejected request, with the configured body and Retry-After."""
    headers = dict(decision.headers)
    retry_after = retry_after_value(config.retry_after, decision.retry_after_seconds, time.time())
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return ApiError(429, dict(config.rate_limit_body), headers)
