"""Shared plumbing of the Redis token store and the Redis rate limiter: opening
the redis.asyncio client, and RedisUnavailableError for a server that cannot be reached.
Needs the optional extra `hoop-async[redis]` (redis-py >= 5).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from hoop_async.errors import HoopError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisUnavailableError", "open_redis", "redis_call"]

T = TypeVar("T")


class RedisUnavailableError(HoopError):
    """Redis could not be reached, or did not respond in time."""


def open_redis(redis: str | Redis) -> tuple[Redis, bool]:
    """Return a client for `redis` (a redis:// URL or a client) and whether this code owns it.

    A client built from a URL is closed by its owner's `aclose`; a client
    passed in is left open for the caller to close.
    """
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise ImportError(
            "the Redis token store and rate limiter need redis-py; "
            "install it with: pip install 'hoop-async[redis]'"
        ) from None
    if isinstance(redis, str):
        return Redis.from_url(redis), True
    return redis, False


def describe(client: Redis) -> str:
    """Return host:port or the socket path of `client`, without any password."""
    options = client.connection_pool.connection_kwargs
    if "path" in options:
        return str(options["path"])
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


async def redis_call(
    client: Redis,
    call: Awaitable[T],
    action: str,
    error_type: type[RedisUnavailableError] = RedisUnavailableError,
) -> T:
    """Await one Redis command; raise `error_type` when the connection fails.

    `action` names what the command was for, in the error message.
    """
    from redis.exceptions import ConnectionError, TimeoutError

    try:
        return await call
    except (ConnectionError, TimeoutError, OSError) as error:
        raise error_type(
            f"Redis at {describe(client)} is unreachable while {action}: "
            f"{type(error).__name__}: {error}; check that redis-server runs and the URL is right"
        ) from error


async def ping(
    client: Redis, owner: str, error_type: type[RedisUnavailableError] = RedisUnavailableError
) -> None:
    """Check that Redis responds, so a wrong URL fails at start-up and not mid-run."""
    result: Any = client.ping()
    await redis_call(client, result, f"checking the connection of {owner}", error_type)
