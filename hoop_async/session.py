"""The session layer: one aiohttp.ClientSession and the chain every request passes.

retry (backoff) -> 429 waits -> rate limit -> auth (401 renews once) -> one HTTP exchange

`Session.request` returns the decoded JSON body of a 2xx response or raises
the matching HoopError. Logs name the method, path and status, never a query
string, a body or a header, so no secret reaches them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Generator, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import aiohttp
import attrs

from hoop_async._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_CONNECTION_LIMIT, USER_AGENT
from hoop_async._http import decode_body, parse_retry_after, transport_error
from hoop_async.auth.credentials import Credentials, fixed_token
from hoop_async.errors import (
    AuthenticationError,
    ClientClosedError,
    HoopError,
    InvalidRequestError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    error_from_response,
)
from hoop_async.hooks import Hooks, RequestFinished, RetryScheduled
from hoop_async.ratelimit import (
    DEFAULT_INTERVAL,
    Limiter,
    RateLimit,
    RateLimiter,
    parse_rate_limit_headers,
)
from hoop_async.retry import RetryPolicy, retry_reason
from hoop_async.testing import sleep, waits_disabled

__all__ = [
    "CallOptions",
    "RequestStats",
    "Session",
    "client_timeout",
    "decode_body",
    "parse_retry_after",
]

logger = logging.getLogger("hoop_async")

Params = Mapping[str, str]

# Sent with every request that has a JSON body. Read-only because every call shares it.
_JSON_HEADERS: Mapping[str, str] = MappingProxyType({"Content-Type": "application/json"})


@attrs.define
class RequestStats:
    """Counts of what a client sent: HTTP exchanges, responses per status, retries, seconds."""

    requests: int = 0
    transport_errors: int = 0
    retries: int = 0
    statuses: Counter[int] = attrs.field(factory=Counter)
    seconds: float = 0.0


@attrs.frozen(kw_only=True)
class CallOptions:
    """Per-call overrides of the client's timeout and retry policy (None: the client's)."""

    timeout: aiohttp.ClientTimeout | None = None
    retry: RetryPolicy | None = None


class _Call:
    """One logical API call, which may take several HTTP exchanges.

    A plain slotted class rather than an attrs one, because it is built for
    every call and direct attribute stores cost less than a frozen class's.
    """

    __slots__ = (
        "data",
        "idempotent",
        "location_id",
        "method",
        "params",
        "path",
        "resource",
        "retry",
        "timeout",
    )

    def __init__(
        self,
        method: str,
        path: str,
        params: Params | None,
        data: str | None,
        location_id: str | None,
        idempotent: bool,
        timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.data = data
        self.resource = location_id or ""
        self.location_id = location_id
        self.idempotent = idempotent
        self.timeout = timeout
        self.retry = retry


class Session:
    """Owns the aiohttp.ClientSession of one HoopClient and sends its requests."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        credentials: Credentials,
        timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        rate_limiter: Limiter | None = None,
        hooks: Hooks | None = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.hooks = hooks or Hooks()
        self.limiter: Limiter | None = rate_limiter
        if rate_limiter is None and rate_limit is not None:
            self.limiter = RateLimiter(rate_limit, hooks=self.hooks)
        self.stats = RequestStats()
        self.credentials = credentials
        # A fixed token goes into the aiohttp session's default headers once, and its
        # requests skip the credentials, because a StaticToken neither changes nor renews.
        self._fixed_token = fixed_token(credentials)
        self._connection_limit = connection_limit
        self._http: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def opened(self) -> bool:
        """Whether the aiohttp session exists and is not yet closed."""
        return self._http is not None and not self._closed

    def open(self) -> aiohttp.ClientSession:
        """Return the aiohttp session, creating it in the running loop on first use."""
        if self._closed:
            raise ClientClosedError(
                "this HoopClient is closed; create a new one (async with HoopClient(...))"
            )
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connection_limit),
                timeout=self.timeout,
                headers=self._default_headers(),
                raise_for_status=False,
            )
        return self._http

    async def close(self) -> None:
        """Close the aiohttp session and its connections; later calls raise ClientClosedError."""
        self._closed = True
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        location_id: str | None = None,
        idempotent: bool = True,
        options: CallOptions | None = None,
    ) -> Any:
        """Send one API call, with retries, and return the decoded JSON body of its 2xx response.

        `location_id` selects the rate budget and the credentials' token.
        `idempotent=False` (a create) forbids resending after the request may
        have reached the server; such a failure raises OutcomeUnknownError.
        """
        self.open()
        call = _Call(
            method,
            path,
            params,
            None if json_body is None else json.dumps(json_body, separators=(",", ":")),
            location_id,
            idempotent,
            (options and options.timeout) or self.timeout,
            (options and options.retry) or self.retry,
        )
        # The first attempt runs without the retry machinery, which costs more
        # than the rest of a request's client-side work when nothing fails.
        started = time.monotonic()
        deadline = started + call.retry.max_time
        try:
            return await self._through_rate_limits(call, 1, deadline)
        except HoopError as error:
            if call.retry.max_tries <= 1 or _final(error, call):
                raise
            first_error = error
        return await self._retry(call, first_error, started, deadline)

    # -- retries --------------------------------------------------------------

    async def _retry(
        self, call: _Call, first_error: HoopError, started: float, deadline: float
    ) -> Any:
        """Run attempts 2 to max_tries with the backoff library, after the first delay."""
        import backoff  # imported on the first retry, so that importing hoop_async skips it

        attempts = 1
        delays = _retry_delays(call.retry)
        first_delay = backoff.full_jitter(next(delays))
        self._note_retry(call, 1, _reason(first_error, call) or "", first_delay)
        await sleep(first_delay)

        async def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            return await self._through_rate_limits(call, attempts, deadline)

        def give_up(error: Exception) -> bool:
            return not isinstance(error, HoopError) or _final(error, call)

        def on_backoff(details: Any) -> None:
            error: HoopError = details["exception"]
            reason = _reason(error, call) or type(error).__name__
            self._note_retry(call, attempts, reason, details["wait"])

        retrying = backoff.on_exception(
            lambda: _as_wait_generator(delays),
            HoopError,
            max_tries=call.retry.max_tries - 1,
            max_time=max(0.0, call.retry.max_time - (time.monotonic() - started)),
            jitter=backoff.full_jitter,
            giveup=give_up,
            on_backoff=on_backoff,
            logger=None,
        )(attempt)
        try:
            return await retrying()
        except HoopError as error:
            error.attempts = attempts
            raise

    async def _through_rate_limits(self, call: _Call, attempt: int, deadline: float) -> Any:
        """Send the call within the rate budget, waiting out 429s until the deadline.

        Waits after a 429 do not count as tries.
        """
        while True:
            try:
                if self.limiter is None:
                    return await self._authorized(call, attempt)
                await self.limiter.acquire(call.resource)
                try:
                    return await self._authorized(call, attempt)
                finally:
                    self.limiter.settle(call.resource)
            except RateLimitError as error:
                delay = self._rate_limit_delay(call, error)
                if time.monotonic() + delay > deadline:
                    raise
                self._note_retry(call, attempt, "429 Too Many Requests", delay)
                if self.limiter is None:
                    await sleep(delay)

    def _rate_limit_delay(self, call: _Call, error: RateLimitError) -> float:
        """Seconds to wait after a 429: Retry-After, else the rate-limit window."""
        if self.limiter is not None:
            return self.limiter.throttled(call.resource, error.retry_after)
        if error.retry_after is not None:
            return error.retry_after
        reported = parse_rate_limit_headers(error.headers)
        return reported.interval if reported and reported.interval else DEFAULT_INTERVAL

    def _note_retry(self, call: _Call, attempt: int, reason: str, delay: float) -> None:
        self.stats.retries += 1
        logger.warning(
            "retrying %s %s after attempt %d in %.2f s: %s",
            call.method,
            call.path,
            attempt,
            delay,
            reason,
        )
        event = RetryScheduled(
            method=call.method, path=call.path, attempt=attempt, reason=reason, delay=delay
        )
        self.hooks.emit(self.hooks.retry_scheduled, event)

    # -- auth -----------------------------------------------------------------

    async def _authorized(self, call: _Call, attempt: int) -> Any:
        """Send with the credentials' token; after an invalid-token 401, renew it, resend once."""
        if self._fixed_token is not None:
            return await self._exchange(call, attempt, None if call.data is None else _JSON_HEADERS)
        token = await self.credentials.access_token(call.location_id)
        try:
            return await self._exchange(call, attempt, _token_headers(call, token))
        except AuthenticationError:
            if not await self.credentials.token_rejected(call.location_id, token):
                raise
        token = await self.credentials.access_token(call.location_id)
        return await self._exchange(call, attempt, _token_headers(call, token))

    # -- one exchange ---------------------------------------------------------

    async def _exchange(self, call: _Call, attempt: int, headers: Mapping[str, str] | None) -> Any:
        """Send the request once; return the body of a 2xx or raise the mapped error.

        `headers` are sent on top of the session's default headers. aiohttp's
        failures become TransportError.
        """
        http = self._http if self._http is not None else self.open()
        self.stats.requests += 1
        started = time.perf_counter()
        try:
            async with http.request(
                call.method,
                self.base_url + call.path,
                params=call.params,
                data=call.data,
                headers=headers,
                timeout=call.timeout,
            ) as response:
                body = decode_body(await response.read())
                status = response.status
                response_headers = response.headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.stats.transport_errors += 1
            failure = transport_error(call.method, call.path, error, call.timeout)
            self._finish(call, attempt, None, time.perf_counter() - started, None)
            if not call.idempotent and failure.maybe_sent:
                failure.__cause__ = error
                raise _unknown_outcome(failure) from failure
            raise failure from error
        self._finish(call, attempt, status, time.perf_counter() - started, body)
        if self.limiter is not None:
            self.limiter.observe(call.resource, response_headers)

        if 200 <= status < 300:
            return body
        raise error_from_response(
            method=call.method,
            path=call.path,
            status=status,
            body=body,
            retry_after=parse_retry_after(response_headers.get("Retry-After")),
            headers=response_headers,
        )

    def _finish(
        self, call: _Call, attempt: int, status: int | None, elapsed: float, body: Any
    ) -> None:
        if status is not None:
            self.stats.statuses[status] += 1
        self.stats.seconds += elapsed
        debug = logger.isEnabledFor(logging.DEBUG)
        if not debug and not self.hooks.request_finished:
            return

        trace_id = body.get("traceId") if isinstance(body, dict) else None
        if debug:
            logger.debug(
                "%s %s -> %s in %.1f ms (traceId %s)",
                call.method,
                call.path,
                status if status is not None else "no response",
                elapsed * 1000,
                trace_id,
            )
        if self.hooks.request_finished:
            event = RequestFinished(
                method=call.method,
                path=call.path,
                status=status,
                duration=elapsed,
                attempt=attempt,
                trace_id=trace_id if isinstance(trace_id, str) else None,
            )
            self.hooks.emit(self.hooks.request_finished, event)

    def _default_headers(self) -> dict[str, str]:
        headers = {
            "Version": self.version,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self._fixed_token is not None:
            headers["Authorization"] = f"Bearer {self._fixed_token}"
        return headers


def _token_headers(call: _Call, token: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if call.data is not None:
        headers.update(_JSON_HEADERS)
    return headers


def _retry_delays(policy: RetryPolicy) -> Iterator[float]:
    """Yield exponential delays from `policy` (before jitter); zeros under `no_waits()`."""
    import backoff

    steps = backoff.expo(base=2, factor=policy.base_delay, max_value=policy.max_delay)
    next(steps)  # backoff's wait generators yield None first, for their send() protocol
    for delay in steps:
        yield 0.0 if waits_disabled() else delay


def _as_wait_generator(delays: Iterator[float]) -> Generator[float, None, None]:
    """Wrap delays already in progress in the protocol backoff expects: None first."""
    yield None  # type: ignore[misc]
    yield from delays


def _final(error: HoopError, call: _Call) -> bool:
    # A 429 that reached this point already exhausted the call's max_time.
    return isinstance(error, RateLimitError) or _reason(error, call) is None


def _reason(error: HoopError, call: _Call) -> str | None:
    return retry_reason(error, idempotent=call.idempotent)


def _unknown_outcome(error: TransportError) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        error.method,
        error.path,
        f"{error.reason}; the request may have been processed, so it was not sent again "
        "(search for the record before creating it once more)",
    )


def client_timeout(timeout: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """Return an aiohttp.ClientTimeout for `timeout` seconds in total, or `timeout` itself."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidRequestError("timeout", timeout, "expected seconds greater than 0")
    return aiohttp.ClientTimeout(total=timeout, connect=min(DEFAULT_CONNECT_TIMEOUT, timeout))
