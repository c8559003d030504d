"""HoopClient: the one object a user creates; it opens and closes everything else."""

from __future__ import annotations

import warnings
from types import TracebackType

import aiohttp

from hoop_async._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
)
from hoop_async.auth.credentials import Credentials, StaticToken
from hoop_async.errors import InvalidRequestError
from hoop_async.hooks import Hooks
from hoop_async.ratelimit import Limiter, RateLimit
from hoop_async.resources import Opportunities
from hoop_async.retry import RetryPolicy
from hoop_async.session import RequestStats, Session, client_timeout

__all__ = ["HoopClient"]

_DEFAULT_RATE_LIMIT = RateLimit()


class HoopClient:
    """Async client of the HoopAI / HighLevel Opportunities API v2.

    Use it as an async context manager; it owns one aiohttp session, created
    in the running event loop on entry (or on the first call) and closed on exit:

        async with HoopClient(token="...", location_id="...") as client:
            opportunity = await client.opportunities.get("opportunity-id")

    `client.opportunities` has one method per Opportunities endpoint.

    `base_url` may point at any server, such as `hoop_async.sandbox.Sandbox`.
    `timeout` is the total seconds one request may take, or an aiohttp.ClientTimeout.
    `location_id` is the default location of calls that need one.
    `retry` sets how failed calls are retried (RetryPolicy()), `rate_limit` the
    client-side budget per location (RateLimit(); None turns it off), and
    `hooks` the callbacks that receive request, retry and wait events.
    `rate_limiter` replaces the client's own limiter, for a budget shared by
    several processes such as `RedisRateLimiter`.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        credentials: Credentials | None = None,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        location_id: str | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = _DEFAULT_RATE_LIMIT,
        rate_limiter: Limiter | None = None,
        hooks: Hooks | None = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self._session = Session(
            base_url=_check_base_url(base_url),
            version=_check_version(version),
            credentials=_credentials(token, credentials),
            timeout=client_timeout(timeout),
            retry=retry,
            rate_limit=rate_limit,
            rate_limiter=rate_limiter,
            hooks=hooks,
            connection_limit=connection_limit,
        )
        self.opportunities = Opportunities(self._session, default_location_id=location_id)

    @property
    def base_url(self) -> str:
        return self._session.base_url

    @property
    def closed(self) -> bool:
        return self._session.closed

    @property
    def stats(self) -> RequestStats:
        """Counts of requests sent and responses received by status."""
        return self._session.stats

    async def __aenter__(self) -> HoopClient:
        self._session.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session and the credentials' own session, if they have one.

        Any later call raises ClientClosedError.
        """
        await self._session.close()
        close_credentials = getattr(self._session.credentials, "aclose", None)
        if close_credentials is not None:
            await close_credentials()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<HoopClient {self.base_url} version={self._session.version} {state}>"

    def __del__(self, _warn: object = warnings.warn) -> None:
        # Mirrors aiohttp.ClientSession: a client dropped while open leaks its sockets.
        session = getattr(self, "_session", None)
        if session is not None and session.opened:
            warnings.warn(
                f"unclosed {self!r}; use 'async with HoopClient(...)' or await client.close()",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )


def _credentials(token: str | None, credentials: Credentials | None) -> Credentials:
    if (token is None) == (credentials is None):
        raise InvalidRequestError(
            "token", "<redacted>" if token else token, "pass exactly one of token= or credentials="
        )
    if credentials is not None:
        return credentials
    return StaticToken(token or "")


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise InvalidRequestError(
            "base_url", base_url, "expected an http:// or https:// URL such as " + DEFAULT_BASE_URL
        )
    return base_url


def _check_version(version: str) -> str:
    if not isinstance(version, str) or not version.strip():
        raise InvalidRequestError(
            "version", version, f"expected a version such as {DEFAULT_VERSION}"
        )
    return version.strip()
