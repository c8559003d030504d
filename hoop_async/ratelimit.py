"""Client-side rate limiting: one budget per resource (location or company id).

The API allows 100 requests per 10 s and 200,000 per day per app and location,
and reports the budget in X-RateLimit-* headers. Each budget keeps a log of
its own send times over a sliding window and learns the limit and window from
the headers. When the server's Remaining is lower than the log explains, the
difference is requests other programs spent, and the budget counts them too.
A budget pauses after a 429 and stops at the daily reserve.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from hoop_async.errors import InvalidRequestError, QuotaExhaustedError
from hoop_async.hooks import Hooks, RateLimitWait
from hoop_async.testing import sleep

__all__ = [
    "Limiter",
    "RateLimit",
    "RateLimitHeaders",
    "RateLimiter",
    "parse_rate_limit_headers",
]

# The live API's published limits, used until a response reports the real ones.
DEFAULT_MAX_REQUESTS = 100
DEFAULT_INTERVAL = 10.0


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidRequestError(f"RateLimit.{attribute.name}", value, "expected a number > 0")


@attrs.frozen(kw_only=True)
class RateLimit:
    """Settings of the client-side rate limiter.

    Leave `max_requests` and `interval` at None to use what the API reports
    (100 per 10 s until the first response). Set them lower to leave part of
    an app's budget to other programs: the limiter then uses the lower of
    yours and the server's.
    """

    max_requests: int | None = attrs.field(default=None, validator=_positive)
    """Requests per window."""

    interval: float | None = attrs.field(default=None, validator=_positive)
    """Window length in seconds."""

    daily_reserve: int = attrs.field(default=100, validator=attrs.validators.ge(0))
    """Daily requests left untouched: once the server reports this many or fewer
    remaining, calls raise QuotaExhaustedError (or wait, see `wait_for_daily_reset`)."""

    wait_for_daily_reset: bool = False
    """Wait for the daily reset instead of raising QuotaExhaustedError."""

    safety_margin: float = attrs.field(default=0.02, validator=attrs.validators.ge(0))
    """Share of the window a send stays counted beyond it, to absorb network jitter
    between when the client sends and when the server counts."""


@attrs.frozen(kw_only=True)
class RateLimitHeaders:
    """The X-RateLimit-* values of one response; None where a header was missing or invalid."""

    max_requests: int | None = None
    interval: float | None = None
    remaining: int | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: float | None = None
    """Seconds until the daily quota resets."""


# HighLevel's own header names. Proxies add look-alikes such as X-RateLimit-Limit
# and X-RateLimit-Reset, which describe a different limit and are ignored.
_HEADER_FIELDS = {
    "x-ratelimit-max": "max_requests",
    "x-ratelimit-interval-milliseconds": "interval",
    "x-ratelimit-remaining": "remaining",
    "x-ratelimit-limit-daily": "daily_limit",
    "x-ratelimit-daily-remaining": "daily_remaining",
    "x-ratelimit-daily-reset": "daily_reset",
}
_MILLISECOND_FIELDS = {"interval", "daily_reset"}


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """Read HighLevel's X-RateLimit-* headers case-insensitively; None when there are none."""
    values: dict[str, float | int] = {}
    for name, text in headers.items():
        field = _HEADER_FIELDS.get(name.lower())
        if field is None:
            continue
        number = _number(text)
        if number is None:
            continue
        values[field] = number / 1000 if field in _MILLISECOND_FIELDS else int(number)
    return RateLimitHeaders(**values) if values else None  # type: ignore[arg-type]


def _number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


class _Budget:
    """The budget of one resource: a log of send times and what the server reported."""

    def __init__(self, settings: RateLimit, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.limit = min(settings.max_requests or DEFAULT_MAX_REQUESTS, DEFAULT_MAX_REQUESTS)
        self.interval = settings.interval or DEFAULT_INTERVAL
        self.sent: deque[float] = deque()
        # As many send times as requests waiting for a response, oldest first. The
        # first is never later than the send time of any request in flight.
        self.in_flight: deque[float] = deque()
        self.paused_until = 0.0
        self.daily_remaining: int | None = None
        self.daily_reset_at: float | None = None
        # FIFO: one waiter sleeps for the next slot while the others queue behind it.
        self.lock = asyncio.Lock()
        # Until the first response of this resource settles the budget, only one
        # request is in flight, so a burst never outruns a limit lower than assumed.
        self.settled = asyncio.Event()
        self.probing = False

    @property
    def span(self) -> float:
        """Seconds a send stays in the log: the window plus the safety margin."""
        return self.interval * (1 + self.settings.safety_margin)

    def window_delay(self, now: float) -> float:
        """Seconds until a request may be sent, from the window and any 429 pause."""
        window_start = now - self.span
        # Sends older than the window stay while a request sent within one window
        # of them is in flight: its response is compared with them.
        keep_from = (
            min(window_start, self.in_flight[0] - self.interval) if self.in_flight else window_start
        )
        while self.sent and self.sent[0] <= keep_from:
            self.sent.popleft()
        in_window = len(self.sent) - bisect.bisect_right(self.sent, window_start)
        delay = max(0.0, self.paused_until - now)
        if in_window >= self.limit:
            oldest_to_expire = self.sent[len(self.sent) - self.limit]
            delay = max(delay, oldest_to_expire + self.span - now)
        return delay

    def daily_exhausted(self) -> bool:
        return (
            self.daily_remaining is not None and self.daily_remaining <= self.settings.daily_reserve
        )

    def take(self, now: float) -> None:
        self.sent.append(now)
        self.in_flight.append(now)
        if self.daily_remaining is not None:
            self.daily_remaining -= 1

    def learn(self, headers: RateLimitHeaders, now: float) -> None:
        """Adopt the server's limit, window and daily count; log requests others spent."""
        if headers.max_requests:
            mine = self.settings.max_requests
            self.limit = min(mine, headers.max_requests) if mine else headers.max_requests
        if headers.interval:
            self.interval = max(self.settings.interval or 0.0, headers.interval)
        if headers.daily_remaining is not None:
            self.daily_remaining = headers.daily_remaining
        if headers.daily_reset is not None:
            self.daily_reset_at = now + headers.daily_reset
        if headers.remaining is not None and headers.max_requests:
            self._count_foreign_requests(headers.max_requests - headers.remaining, now)

    def _count_foreign_requests(self, used_on_server: int, now: float) -> None:
        """Log as sent now the requests the server counted but this client did not send.

        The server counted its window when the request arrived, some time after
        the oldest request still in flight left. Every own request it can have
        counted was therefore sent after that send time minus one window, and
        all of those count as this client's. Comparing only the last window
        before the response instead took this client's own sends of one round
        trip for other programs' and cost 13 % of the rate at 100 per second.
        The price is that up to a round trip's worth of other programs'
        requests can go unnoticed, which the safety margin and 429 handling cover.
        """
        oldest = self.in_flight[0] if self.in_flight else now
        window_start = oldest - self.interval
        mine = sum(1 for sent_at in self.sent if sent_at > window_start)
        for _ in range(used_on_server - mine):
            self.sent.append(now)

    def finish(self) -> None:
        """Count one request as no longer in flight, after an exchange with or without a response.

        Which request finished is not known, so the newest send time goes. The
        oldest time kept is then never later than that of any request still in
        flight, which is what the foreign count needs.
        """
        if self.in_flight:
            self.in_flight.pop()

    def pause(self, seconds: float, now: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)


class Limiter(Protocol):
    """Interface the session uses of a rate limiter: this module's, or a shared one in Redis."""

    async def acquire(self, resource: str) -> None:
        """Wait for a slot of `resource`'s budget and count the request as sent."""
        ...

    def observe(self, resource: str, headers: Mapping[str, str]) -> None:
        """Learn from a response's headers; also ends the first request's hold."""
        ...

    def settle(self, resource: str) -> None:
        """Let queued requests go after an exchange, with or without a response."""
        ...

    def throttled(self, resource: str, retry_after: float | None) -> float:
        """Pause `resource` after a 429 and return the seconds to wait."""
        ...


class RateLimiter:
    """Budgets per resource. `acquire` waits for a slot; `observe` learns from a response."""

    def __init__(
        self,
        settings: RateLimit,
        *,
        hooks: Hooks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.hooks = hooks or Hooks()
        self._clock = clock
        self._budgets: dict[str, _Budget] = {}

    def budget(self, resource: str) -> _Budget:
        budget = self._budgets.get(resource)
        if budget is None:
            budget = self._budgets[resource] = _Budget(self.settings, self._clock)
        return budget

    async def acquire(self, resource: str) -> None:
        """Wait until `resource` may send one more request, then count it as sent.

        Raises QuotaExhaustedError when the daily reserve is reached, unless
        `wait_for_daily_reset` is set.
        """
        budget = self.budget(resource)
        async with budget.lock:
            if budget.probing:
                await budget.settled.wait()
            budget.probing = not budget.settled.is_set()
            await self._wait_for_daily_quota(resource, budget)
            while True:
                delay = budget.window_delay(self._clock())
                if delay <= 0:
                    budget.take(self._clock())
                    return
                reason = "retry-after" if budget.paused_until > self._clock() else "window"
                self.hooks.emit(
                    self.hooks.rate_limit_wait,
                    RateLimitWait(resource=resource, delay=delay, reason=reason),
                )
                await sleep(delay)

    async def _wait_for_daily_quota(self, resource: str, budget: _Budget) -> None:
        if not budget.daily_exhausted():
            return
        now = self._clock()
        reset_after = None if budget.daily_reset_at is None else budget.daily_reset_at - now
        if not self.settings.wait_for_daily_reset or reset_after is None:
            raise QuotaExhaustedError(resource, budget.daily_remaining or 0, reset_after)
        self.hooks.emit(
            self.hooks.rate_limit_wait,
            RateLimitWait(resource=resource, delay=max(0.0, reset_after), reason="daily"),
        )
        await sleep(reset_after)
        budget.daily_remaining = None

    def observe(self, resource: str, headers: Mapping[str, str]) -> None:
        """Learn the budget of `resource` from a response's headers."""
        parsed = parse_rate_limit_headers(headers)
        budget = self.budget(resource)
        if parsed is not None:
            budget.learn(parsed, self._clock())
        # The hold on the first request ends here; `settle` still follows the exchange.
        budget.settled.set()

    def settle(self, resource: str) -> None:
        """Let the requests queued behind the first one go, with what is known by now.

        Called after every exchange, failed or cancelled ones included, so a
        first request without a response does not hold the others back.
        """
        budget = self.budget(resource)
        budget.finish()
        budget.settled.set()

    def throttled(self, resource: str, retry_after: float | None) -> float:
        """Pause `resource` after a 429 and return the seconds to wait before retrying.

        Without a Retry-After header the wait is one rate-limit window.
        """
        budget = self.budget(resource)
        delay = budget.interval if retry_after is None else retry_after
        budget.pause(delay, self._clock())
        return delay
