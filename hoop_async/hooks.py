"""Hooks: callbacks users attach metrics to. The library itself never prints.

Each hook receives a small frozen event. Events carry method, path, status,
resource ids and timings, never a token, a query string or a body.
Callbacks run inline on the event loop, so they must be quick and must not block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

__all__ = [
    "Hooks",
    "RateLimitWait",
    "RequestFinished",
    "RetryScheduled",
    "TokenRefreshed",
]

logger = logging.getLogger("hoop_async")

E = TypeVar("E")


@attrs.frozen(kw_only=True)
class RequestFinished:
    """One HTTP exchange ended: `status` is None when no response arrived."""

    method: str
    path: str
    status: int | None
    duration: float
    """Seconds from sending to the end of the response body."""
    attempt: int
    """1 for the first try of a call, 2 for its first retry, and so on."""
    trace_id: str | None = None


@attrs.frozen(kw_only=True)
class RetryScheduled:
    """A call will be sent again after `delay` seconds."""

    method: str
    path: str
    attempt: int
    """The attempt that failed."""
    reason: str
    delay: float


@attrs.frozen(kw_only=True)
class RateLimitWait:
    """A request waits for the rate budget of `resource` (a location or company id)."""

    resource: str
    delay: float
    reason: str
    """"window" (the client-side budget is spent), "retry-after" (the server returned 429)
    or "daily" (waiting for the daily quota to reset)."""


@attrs.frozen(kw_only=True)
class TokenRefreshed:
    """An OAuth access token was renewed for `key` (a location or company id)."""

    key: str
    expires_in: float | None = None


@attrs.define(kw_only=True)
class Hooks:
    """Callbacks per event; each list is called in order. A callback that raises is
    logged at WARNING and skipped, so metrics code cannot break API calls."""

    request_finished: list[Callable[[RequestFinished], object]] = attrs.field(factory=list)
    retry_scheduled: list[Callable[[RetryScheduled], object]] = attrs.field(factory=list)
    rate_limit_wait: list[Callable[[RateLimitWait], object]] = attrs.field(factory=list)
    token_refreshed: list[Callable[[TokenRefreshed], object]] = attrs.field(factory=list)

    def emit(self, callbacks: Sequence[Callable[[E], object]], event: E) -> None:
        """Call every callback with `event`, logging and skipping any that raises."""
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                logger.warning("hook %r failed on %r", callback, event, exc_info=True)
