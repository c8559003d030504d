"""The session layer: one aiohttp.ClientSession, default headers, auth, error mapping.

Every API call of hoop_async goes through `Session.request`, which sends one
request and returns the decoded JSON body of a 2xx response or raises the
matching `HoopError`. Logs name the method, path and status, never a query
string, a body or a header, so no secret reaches them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import attrs

from hoop_async._constants import DEFAULT_CONNECTION_LIMIT, USER_AGENT
from hoop_async.auth import Credentials
from hoop_async.errors import (
    AuthenticationError,
    ClientClosedError,
    RequestTimeoutError,
    TransportError,
    error_from_response,
)

__all__ = ["RequestStats", "Session"]

logger = logging.getLogger("hoop_async")

Params = Mapping[str, str]


@attrs.define
class RequestStats:
    """Counts of what a client sent: requests, responses per status, seconds spent waiting."""

    requests: int = 0
    transport_errors: int = 0
    statuses: Counter[int] = attrs.field(factory=Counter)
    seconds: float = 0.0


class Session:
    """Owns the aiohttp.ClientSession of one HoopClient and sends its requests."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        credentials: Credentials,
        timeout: aiohttp.ClientTimeout,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self.stats = RequestStats()
        self._credentials = credentials
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
    ) -> Any:
        """Send one request and return the decoded JSON body of its 2xx response.

        `location_id` selects the credentials' token. A 401 for an invalid or
        expired token is sent once more when the credentials renew the token.
        """
        http = self.open()
        data = None if json_body is None else json.dumps(json_body, separators=(",", ":"))
        token = await self._credentials.access_token(location_id)
        try:
            return await self._exchange(http, method, path, params, data, token)
        except AuthenticationError:
            if not await self._credentials.token_rejected(location_id, token):
                raise
        token = await self._credentials.access_token(location_id)
        return await self._exchange(http, method, path, params, data, token)

    async def _exchange(
        self,
        http: aiohttp.ClientSession,
        method: str,
        path: str,
        params: Params | None,
        data: str | None,
        token: str,
    ) -> Any:
        """Send the request once; return the body of a 2xx or raise the mapped error."""
        headers = {"Authorization": f"Bearer {token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"

        started = time.perf_counter()
        status, body, response_headers = await self._send(
            http, method, path, params=params, data=data, headers=headers
        )
        elapsed = time.perf_counter() - started
        self._record(method, path, status, elapsed, body)

        if 200 <= status < 300:
            return body
        raise error_from_response(
            method=method,
            path=path,
            status=status,
            body=body,
            retry_after=parse_retry_after(response_headers.get("Retry-After")),
        )

    async def _send(
        self,
        http: aiohttp.ClientSession,
        method: str,
        path: str,
        *,
        params: Params | None,
        data: str | None,
        headers: dict[str, str],
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Perform the HTTP exchange, mapping aiohttp's failures to TransportError."""
        self.stats.requests += 1
        try:
            async with http.request(
                method, self.base_url + path, params=params, data=data, headers=headers
            ) as response:
                raw = await response.read()
                return response.status, decode_body(raw), response.headers
        except asyncio.TimeoutError as exc:
            self.stats.transport_errors += 1
            raise RequestTimeoutError(
                method, path, f"no response within {self.timeout.total} s"
            ) from exc
        except aiohttp.ClientError as exc:
            self.stats.transport_errors += 1
            raise TransportError(method, path, f"{type(exc).__name__}: {exc}") from exc

    def _record(self, method: str, path: str, status: int, elapsed: float, body: Any) -> None:
        self.stats.statuses[status] += 1
        self.stats.seconds += elapsed
        if logger.isEnabledFor(logging.DEBUG):
            trace_id = body.get("traceId") if isinstance(body, dict) else None
            logger.debug(
                "%s %s -> %d in %.1f ms (traceId %s)",
                method,
                path,
                status,
                elapsed * 1000,
                trace_id,
            )

    def _default_headers(self) -> dict[str, str]:
        return {
            "Version": self.version,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }


def decode_body(raw: bytes) -> Any:
    """Decode a response body: JSON when it parses, else the text (an HTML error page)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header, in seconds or as an HTTP date, into seconds from now."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
