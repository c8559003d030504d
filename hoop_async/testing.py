"""A switch for test suites: skip every backoff, Retry-After and rate-limit wait.

    from hoop_async.testing import no_waits

    with no_waits():
        ...  # retries and rate-limit waits happen at once

Retries still happen and are still counted; only the sleeping is skipped, so
tests stay fast without mocking time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_waits", "sleep", "waits_disabled"]

_disabled = False


def waits_disabled() -> bool:
    """Return whether `no_waits()` is active."""
    return _disabled


@contextmanager
def no_waits() -> Iterator[None]:
    """Turn every hoop_async wait into a zero-second sleep inside the block."""
    global _disabled
    previous, _disabled = _disabled, True
    try:
        yield
    finally:
        _disabled = previous


async def sleep(seconds: float) -> None:
    """Sleep `seconds`, or only yield to the loop when waits are disabled."""
    await asyncio.sleep(0 if _disabled else max(0.0, seconds))
