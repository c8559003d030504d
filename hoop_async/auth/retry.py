"""When a token request may be sent again, and how long to wait first.

A refresh that reached the server has rotated the refresh token even if its
response was lost, so sending it again would fail with invalid_grant and
lose the installation. Token requests are therefore retried only when they
provably had no effect: the connection was never made, or the server
responded with 429 or 503. Timeouts, resets after sending and other 5xx are not retried.
"""

from __future__ import annotations

import attrs
import backoff

__all__ = ["TokenRetryPolicy"]

RETRYABLE_STATUSES = frozenset({429, 503})


@attrs.frozen(kw_only=True)
class TokenRetryPolicy:
    """Attempts and waits for token requests that had no effect on the server."""

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    """Total tries of one token request, the first included."""
    base_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    """Seconds of the first wait; each later wait doubles it (full jitter)."""
    max_delay: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    """Cap on any wait in seconds, including one that Retry-After requests."""

    def retries_status(self, status: int) -> bool:
        """Return whether a response with this status was not processed and may be sent again."""
        return status in RETRYABLE_STATUSES

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return backoff.full_jitter(ceiling)
