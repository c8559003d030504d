"""TokenEndpoint: the HTTP calls of the OAuth layer, POST /oauth/token and
POST /oauth/locationToken, over a small aiohttp session of its own, with the
retry rule of hoop_async.auth.retry and errors free of secrets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from hoop_async._constants import DEFAULT_BASE_URL, DEFAULT_VERSION, USER_AGENT
from hoop_async._http import decode_body, parse_retry_after
from hoop_async.auth.errors import InvalidGrantError, TokenEndpointError, redact
from hoop_async.auth.retry import TokenRetryPolicy
from hoop_async.errors import TokenError, error_from_response
from hoop_async.testing import sleep

__all__ = ["LOCATION_TOKEN_PATH", "TOKEN_PATH", "TokenEndpoint"]

logger = logging.getLogger("hoop_async.auth")

TOKEN_PATH = "/oauth/token"
LOCATION_TOKEN_PATH = "/oauth/locationToken"
DEFAULT_TOKEN_TIMEOUT = 30.0

# Failures before any byte of the request left, so sending it again is safe.
_NOT_SENT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class _NotSentError(Exception):
    """The connection failed before the request was sent."""


class TokenEndpoint:
    """Sends the token requests of one OAuth app (client id and secret) to one server."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        timeout: float = DEFAULT_TOKEN_TIMEOUT,
        retry: TokenRetryPolicy | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self.retry = retry or TokenRetryPolicy()
        self._http: aiohttp.ClientSession | None = None

    async def refresh(self, refresh_token: str, user_type: str | None = None) -> dict[str, Any]:
        """Send the refresh_token grant and return the response body."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if user_type:
            form["user_type"] = user_type
        return await self._grant(form, secret=refresh_token)

    async def exchange_code(
        self, code: str, *, user_type: str, redirect_uri: str | None = None
    ) -> dict[str, Any]:
        """Send the authorization_code grant and return the response body."""
        form = {"grant_type": "authorization_code", "code": code, "user_type": user_type}
        if redirect_uri is not None:
            form["redirect_uri"] = redirect_uri
        return await self._grant(form, secret=code)

    async def location_token(
        self, agency_token: str, *, company_id: str, location_id: str
    ) -> dict[str, Any]:
        """Obtain an access token for `location_id` with an agency (Company) access token.

        Errors are the API's own (ScopeError, LocationAccessError,
        AuthenticationError for a rejected agency token...), not TokenError.
        """
        headers = {"Authorization": f"Bearer {agency_token}", "Version": self.version}
        form = {"companyId": company_id, "locationId": location_id}
        status, body = await self._post(LOCATION_TOKEN_PATH, form, headers, (agency_token,))
        if 200 <= status < 300 and isinstance(body, dict):
            return body
        raise error_from_response(method="POST", path=LOCATION_TOKEN_PATH, status=status, body=body)

    async def aclose(self) -> None:
        """Close the HTTP session; a later request opens a new one."""
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    async def _grant(self, form: dict[str, str], *, secret: str) -> dict[str, Any]:
        form = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        status, body = await self._post(TOKEN_PATH, form, {}, (secret,))
        if 200 <= status < 300 and isinstance(body, dict):
            return body
        raise self._grant_error(status, body, secret)

    def _grant_error(self, status: int, body: Any, secret: str) -> TokenEndpointError:
        fields = body if isinstance(body, dict) else {}
        error = fields.get("error") if isinstance(fields.get("error"), str) else None
        description = fields.get("error_description") or fields.get("message") or body or ""
        if isinstance(description, list):
            description = "; ".join(str(item) for item in description)
        text = redact(str(description)[:500], (secret, self._client_secret))
        error_type = InvalidGrantError if error == "invalid_grant" else TokenEndpointError
        return error_type(path=TOKEN_PATH, status=status, error=error, description=text)

    async def _post(
        self,
        path: str,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        secrets: tuple[str, ...],
    ) -> tuple[int, Any]:
        """Send the form, retrying what had no effect; return the last status and body."""
        attempt = 1
        while True:
            retry_after: float | None = None
            try:
                status, body, retry_after = await self._send(path, form, headers)
            except _NotSentError as error:
                reason = redact(str(error), (*secrets, self._client_secret))
                if attempt >= self.retry.attempts:
                    raise TokenError(f"POST {path} failed: {reason}") from error.__cause__
            else:
                if attempt >= self.retry.attempts or not self.retry.retries_status(status):
                    return status, body
                reason = f"status {status}"

            self._log_retry(path, attempt, reason)
            await sleep(self.retry.delay(attempt, retry_after))
            attempt += 1

    async def _send(
        self, path: str, form: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, Any, float | None]:
        """Send the form once; return status, decoded body and Retry-After in seconds."""
        http = self._open()
        try:
            async with http.post(
                self.base_url + path, data=dict(form), headers=dict(headers)
            ) as response:
                raw = await response.read()
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                return response.status, decode_body(raw), retry_after
        except _NOT_SENT_ERRORS as error:
            raise _NotSentError(f"could not connect: {error}") from error
        except asyncio.TimeoutError as error:
            raise TokenError(
                f"POST {path} got no response within {self.timeout} s; the server may have "
                "processed it, so it is not sent again"
            ) from error
        except aiohttp.ClientError as error:
            raise TokenError(
                f"POST {path} failed after it was sent ({type(error).__name__}: {error}); the "
                "server may have processed it, so it is not sent again"
            ) from error

    def _open(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # A new connection per token request: a kept-alive connection that the server
            # closed would fail after sending, a failure that cannot be retried safely.
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            )
        return self._http

    def _log_retry(self, path: str, attempt: int, reason: str) -> None:
        logger.warning(
            "POST %s had no effect (%s); sending it again (try %d of %d)",
            path,
            reason,
            attempt + 1,
            self.retry.attempts,
        )

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.base_url!r}, client_id={self.client_id!r})"
