"""RedisTokenStore: tokens in Redis, shared by workers on any number of machines.

The refresh lock expires after a lease, and the save is fenced. So a worker
that stalls past its lease cannot overwrite the tokens a newer refresh saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import attrs

from hoop_async._redis import RedisUnavailableError, open_redis, ping, redis_call
from hoop_async.auth.errors import TokenStoreError
from hoop_async.auth.redis_lock import RedisLease
from hoop_async.auth.tokens import TokenSet

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisTokenStore", "TokenStoreUnavailableError"]

logger = logging.getLogger("hoop_async.auth")

DEFAULT_PREFIX = "hoop_async"
DEFAULT_LEASE = 15.0
DEFAULT_LOCK_TIMEOUT = 120.0


class TokenStoreUnavailableError(RedisUnavailableError, TokenStoreError):
    """The Redis server of a RedisTokenStore could not be reached."""


@attrs.define
class _Hold:
    """This task's hold of one key's lock, and the refresh token it read under it."""

    lease: RedisLease
    read: bool = False
    refresh_token: str | None = None


# Locks this task holds, by store and lock name, so `get` and `set` inside `lock`
# know their hold. Another store on the same Redis is not inside this store's hold.
_holds: ContextVar[dict[tuple[int, str], _Hold] | None] = ContextVar(
    "hoop_async_redis_holds", default=None
)

# Saves only when the tokens are still those the refresh started from. ARGV[3] is
# "read" to compare the stored refresh token with ARGV[4] ("" for none), or "lock"
# when nothing was read under the lock, to check that the lock is still held.
_FENCED_SET = """
if ARGV[3] == 'read' then
    local stored = redis.call('GET', KEYS[1])
    local current = ''
    if stored then
        local ok, entry = pcall(cjson.decode, stored)
        if ok and type(entry) == 'table' and type(entry['refresh_token']) == 'string' then
            current = entry['refresh_token']
        end
    end
    if current ~= ARGV[4] then
        return 0
    end
elseif redis.call('GET', KEYS[2]) ~= ARGV[2] then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


class RedisTokenStore:
    """Tokens saved as JSON at `<prefix>:tokens:<key>`, refresh locks at `<prefix>:lock:<key>`.

    `redis` is a redis:// URL or a `redis.asyncio.Redis` client. The lock is
    held for `lease` seconds and renewed while its holder runs. A holder that
    stops (crash, SIGSTOP) loses it once the lease runs out. A `set` inside
    `lock` saves only if the stored refresh token is still the one read under
    that lock (or, if nothing was read, only while the lock is still held).
    Otherwise it leaves the newer tokens in place and logs a warning.
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = DEFAULT_LEASE,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        poll_interval: float = 0.02,
        max_poll_interval: float = 0.25,
    ) -> None:
        if lease <= 0 or lock_timeout <= 0 or poll_interval <= 0:
            raise ValueError("lease, lock_timeout and poll_interval must be > 0 seconds")
        self.client, self._owns_client = open_redis(redis)
        self.prefix = prefix
        self.lease = lease
        self.lock_timeout = lock_timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max(poll_interval, max_poll_interval)
        # Tasks of this process queue here, so only one per key polls Redis for the lock.
        self._process_locks: dict[str, asyncio.Lock] = {}

    async def ping(self) -> None:
        """Raise TokenStoreUnavailableError when Redis does not respond. Call it at start-up."""
        await ping(self.client, repr(self), TokenStoreUnavailableError)

    async def aclose(self) -> None:
        """Close the Redis client if this store opened it from a URL."""
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> RedisTokenStore:
        await self.ping()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get(self, key: str) -> TokenSet | None:
        command: Any = self.client.get(self._tokens_name(key))
        raw = await self._call(command, f"reading the tokens of {key!r}")
        tokens = None if raw is None else self._decode(key, raw)
        hold = _current_hold(self, self._lock_name(key))
        if hold is not None:
            hold.read = True
            hold.refresh_token = None if tokens is None else tokens.refresh_token
        return tokens

    async def set(self, key: str, tokens: TokenSet) -> None:
        text = json.dumps(tokens.to_json(), sort_keys=True)
        hold = _current_hold(self, self._lock_name(key))
        if hold is None:
            command: Any = self.client.set(self._tokens_name(key), text)
            await self._call(command, f"saving the tokens of {key!r}")
            return
        if await self._fenced_set(key, text, hold):
            hold.refresh_token = tokens.refresh_token
            return
        logger.warning(
            "did not save the refreshed tokens of %s: the lock's lease ran out and another "
            "worker saved newer tokens, which stay in place",
            key,
        )

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """Hold the refresh lock of `key` against every task and process using this Redis."""
        name = self._lock_name(key)
        async with self._process_lock(key):
            lease = RedisLease(
                self.client, name, lease=self.lease, error_type=TokenStoreUnavailableError
            )
            await lease.acquire(
                timeout=self.lock_timeout,
                poll_interval=self.poll_interval,
                max_poll=self.max_poll_interval,
            )
            holds = {**(_holds.get() or {}), (id(self), name): _Hold(lease)}
            previous = _holds.set(holds)
            try:
                yield
            finally:
                _holds.reset(previous)
                await lease.release()

    async def _fenced_set(self, key: str, text: str, hold: _Hold) -> bool:
        mode = "read" if hold.read else "lock"
        names = (self._tokens_name(key), self._lock_name(key))
        arguments = (text, hold.lease.value, mode, hold.refresh_token or "")
        script: Any = self.client.eval(_FENCED_SET, 2, *names, *arguments)
        saved = await self._call(script, f"saving the tokens of {key!r}")
        return bool(saved)

    async def _call(self, command: Any, action: str) -> Any:
        return await redis_call(self.client, command, action, TokenStoreUnavailableError)

    def _process_lock(self, key: str) -> asyncio.Lock:
        lock = self._process_locks.get(key)
        if lock is None:
            lock = self._process_locks[key] = asyncio.Lock()
        return lock

    def _decode(self, key: str, raw: bytes | str) -> TokenSet:
        try:
            return TokenSet.from_json(json.loads(raw))
        except ValueError as error:
            raise TokenStoreError(
                f"the entry {self._tokens_name(key)!r} in Redis is invalid: {error}"
            ) from None

    def _tokens_name(self, key: str) -> str:
        return f"{self.prefix}:tokens:{key}"

    def _lock_name(self, key: str) -> str:
        return f"{self.prefix}:lock:{key}"

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self.prefix!r})"


def _current_hold(store: RedisTokenStore, lock_name: str) -> _Hold | None:
    return (_holds.get() or {}).get((id(store), lock_name))
