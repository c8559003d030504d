"""The retry policy: which failures are retried, and how long to wait before each retry.

Every decision is a small pure function, so the rules read (and test) as a table:
429 is always retried after the wait the server requests; 500, 502, 503, 504
and network failures are retried for idempotent requests; a create is retried only
when it provably never reached the server. Everything else reaches the caller.
"""

from __future__ import annotations

from typing import Any

import attrs

from hoop_async.errors import (
    HoopError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)

__all__ = ["RETRIED_STATUSES", "RetryPolicy", "retry_reason"]

# 500 is included: for an idempotent request a resend is harmless, and the
# retry limit bounds the cost when the error is not transient.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})


def _check_tries(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(
            f"RetryPolicy.{attribute.name}", value, "expected an integer >= 1"
        )


def _check_seconds(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidRequestError(f"RetryPolicy.{attribute.name}", value, "expected seconds >= 0")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how long a call is retried.

    Delays grow exponentially from `base_delay` (doubling, capped at `max_delay`)
    with full jitter: each wait is a random share of the current step. Waits for
    a 429 follow Retry-After instead and do not count as tries.
    """

    max_tries: int = attrs.field(default=5, validator=_check_tries)
    """Attempts per call that failed with a retryable error, the first included."""

    max_time: float = attrs.field(default=120.0, validator=_check_seconds)
    """Seconds after which no further retry starts, counted from the first attempt."""

    base_delay: float = attrs.field(default=0.5, validator=_check_seconds)
    max_delay: float = attrs.field(default=30.0, validator=_check_seconds)


NO_RETRIES = RetryPolicy(max_tries=1, max_time=0)


def retry_reason(error: HoopError, *, idempotent: bool) -> str | None:
    """Return why `error` may be retried (for the log), or None when it must not be.

    `idempotent` is False for a create: sending it twice could create two cards.
    """
    if isinstance(error, RateLimitError):
        return "429 Too Many Requests"
    if isinstance(error, ServerError) and error.status in RETRIED_STATUSES:
        return f"{error.status} from the server" if idempotent else None
    if isinstance(error, TransportError):
        if not error.maybe_sent:
            return f"not sent: {error.reason}"
        if idempotent:
            kind = "timeout" if isinstance(error, RequestTimeoutError) else "connection failure"
            return f"{kind}: {error.reason}"
    return None
