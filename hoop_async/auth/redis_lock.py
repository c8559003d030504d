"""RedisLease: a lock in Redis that expires after a lease unless its holder renews it,
so a holder that crashes or stalls (SIGSTOP, a long GC pause) lets others in.
The holder renews the lease in the background while its event loop runs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from hoop_async._redis import RedisUnavailableError, redis_call
from hoop_async.auth.errors import TokenStoreError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisLease"]

logger = logging.getLogger("hoop_async.auth")

# Both scripts act only when the lock still contains this holder's random value,
# so a holder whose lease expired never renews or deletes the next holder's lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class RedisLease:
    """One acquisition of the lock stored at `name`; `value` identifies the holder."""

    def __init__(
        self,
        client: Redis,
        name: str,
        *,
        lease: float,
        error_type: type[RedisUnavailableError] = RedisUnavailableError,
    ) -> None:
        self.client = client
        self.error_type = error_type
        self.name = name
        self.lease = lease
        self.value = secrets.token_hex(16)
        self._renewer: asyncio.Task[None] | None = None

    async def acquire(self, *, timeout: float, poll_interval: float, max_poll: float) -> None:
        """Wait until the lock is free, then take it; raise TokenStoreError after `timeout` s.

        Waiters poll, starting every `poll_interval` s and backing off to `max_poll` s.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + timeout
        delay = poll_interval
        while not await self._try_take():
            if loop.time() + delay > give_up_at:
                raise TokenStoreError(
                    f"timed out after {timeout:.0f} s waiting for the lock {self.name!r}; "
                    "another worker holds it (it expires within the lease if that worker died)"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_poll)
        self._renewer = asyncio.ensure_future(self._renew_until_released())

    async def release(self) -> None:
        """Delete the lock if this holder still has it; log a warning if its lease ran out."""
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
        script: Any = self.client.eval(_RELEASE, 1, self.name, self.value)
        released = await redis_call(
            self.client, script, f"releasing the lock {self.name!r}", self.error_type
        )
        if not released:
            logger.warning(
                "the lease of the lock %r ran out before its release; another worker "
                "may have taken it in the meantime",
                self.name,
            )

    async def _try_take(self) -> bool:
        command: Any = self.client.set(self.name, self.value, nx=True, px=_milliseconds(self.lease))
        taken = await redis_call(
            self.client, command, f"taking the lock {self.name!r}", self.error_type
        )
        return bool(taken)

    async def _renew_until_released(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            script: Any = self.client.eval(
                _RENEW, 1, self.name, self.value, _milliseconds(self.lease)
            )
            try:
                renewed = await redis_call(self.client, script, f"renewing {self.name!r}")
            except Exception as error:
                logger.warning("could not renew the lease of %r: %s", self.name, error)
                continue
            if not renewed:
                logger.warning("the lease of the lock %r ran out; no longer renewing", self.name)
                return


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))
