"""The exception hierarchy of hoop_async, and the mapping from API error bodies to it.

HoopError
 +-- InvalidRequestError (also ValueError)    bad input, raised before any request is sent
 +-- ClientClosedError (also RuntimeError)    a call on a closed HoopClient
 +-- NameNotFoundError (also KeyError)        no pipeline, stage or lost reason by that name
 +-- TransportError                           the request failed on the network
 |    +-- RequestTimeoutError                 no response within the timeout
 |    +-- OutcomeUnknownError                 a create may or may not have happened
 +-- QuotaExhaustedError                      the daily request quota is (nearly) spent
 +-- TokenError                               obtaining or renewing an OAuth token failed
 |    +-- ReauthorizationRequiredError        the refresh token is dead: re-install the app
 +-- APIError                                 the server answered with an error status
      +-- BadRequestError                     400
      |    +-- DuplicateOpportunityError      400 OPPORTUNITY_NO_DUPLICATE, carries existing_id
      +-- AuthenticationError                 401 invalid or expired token
      +-- VersionHeaderError                  401 Version header missing or unknown
      +-- PermissionDeniedError
      |    +-- ScopeError                     401 token not authorized for this scope
      |    +-- RouteNotSupportedError         401 route not supported by the IAM service
      |    +-- LocationAccessError            403 token has no access to this location
      +-- NotFoundError                       404
      +-- UnprocessableError                  422, carries the full message list
      +-- RateLimitError                      429, carries retry_after
      +-- ServerError                         5xx
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "DuplicateOpportunityError",
    "HoopError",
    "InvalidRequestError",
    "LocationAccessError",
    "MigrationError",
    "NameNotFoundError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitError",
    "ReauthorizationRequiredError",
    "RequestTimeoutError",
    "RouteNotSupportedError",
    "ScopeError",
    "ServerError",
    "TokenError",
    "TransportError",
    "UnprocessableError",
    "VersionHeaderError",
    "error_from_response",
]


class HoopError(Exception):
    """Base class of every error hoop_async raises."""

    attempts: int = 1
    """Attempts the call made before this error reached the caller (retries included)."""


class InvalidRequestError(HoopError, ValueError):
    """An argument was rejected before any request was sent."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {field}={value!r}: {allowed}")


class MigrationError(HoopError, ValueError):
    """An import or export cannot start: a missing file, a bad mapping, an unknown
    pipeline, stage or custom field. Nothing was written when it is raised."""


class ClientClosedError(HoopError, RuntimeError):
    """A request was made through a HoopClient that is closed."""


class NameNotFoundError(HoopError, KeyError):
    """No pipeline, stage or lost reason has the given name; `available` lists the names.

    A KeyError, like `Pipeline.stage_named`, so one `except KeyError` catches both.
    """

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        import difflib  # only this error needs it, and it costs import time

        self.kind = kind
        self.name = name
        self.available = available
        names = ", ".join(repr(item) for item in available) or "none"
        message = f"no {kind} named {name!r}"
        close = difflib.get_close_matches(name, available, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        self.message = f"{message}; the names that exist are {names}"
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError would show the repr of the message, quotes included.
        return self.message


class TransportError(HoopError):
    """The request did not get an HTTP response: connection failure, reset or timeout.

    `maybe_sent` is False only when the request provably never left the client
    (connection refused, DNS failure, no connection within the connect timeout).
    """

    def __init__(self, method: str, path: str, reason: str, *, maybe_sent: bool = True) -> None:
        self.method = method
        self.path = path
        self.reason = reason
        self.maybe_sent = maybe_sent
        super().__init__(f"{method} {path} failed: {reason}")


class RequestTimeoutError(TransportError):
    """No complete response arrived within the configured timeout."""


class OutcomeUnknownError(TransportError):
    """A non-idempotent request failed after it may have reached the server.

    The create may or may not exist now; sending it again could duplicate it.
    Look it up (search by contact) before creating again.
    """


class QuotaExhaustedError(HoopError):
    """The daily request quota of a location is spent or below the configured reserve."""

    def __init__(self, resource: str, remaining: int, reset_after: float | None) -> None:
        self.resource = resource
        self.remaining = remaining
        self.reset_after = reset_after
        when = f" in {reset_after:.0f} s" if reset_after is not None else ""
        super().__init__(
            f"daily request quota of {resource} nearly spent ({remaining} left, resets{when}); "
            "wait for the reset, or lower the daily reserve of the rate limiter"
        )


class TokenError(HoopError):
    """Obtaining or renewing an OAuth token failed."""


class ReauthorizationRequiredError(TokenError):
    """The stored refresh token was rejected (invalid_grant) and no newer one exists.

    Only a new authorization of the app (the user installs it again) fixes this.
    """


class APIError(HoopError):
    """The API returned an error status; every part of its body is kept."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        body: object,
        messages: tuple[str, ...],
        code: str | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        self.messages = messages
        self.code = code
        self.trace_id = trace_id
        self.headers: Mapping[str, str] = headers or {}
        """Response headers, such as X-RateLimit-* and Retry-After."""
        super().__init__(self._describe())

    @property
    def message(self) -> str:
        """All messages of the body joined into one line."""
        return "; ".join(self.messages)

    def _describe(self) -> str:
        text = f"{self.method} {self.path} -> {self.status}: {self.message or '(no message)'}"
        if self.code:
            text += f" [code {self.code}]"
        if self.trace_id:
            text += f" (traceId {self.trace_id})"
        return text


class BadRequestError(APIError):
    """400: the API rejected the request."""


class DuplicateOpportunityError(BadRequestError):
    """400 OPPORTUNITY_NO_DUPLICATE: the contact already has an opportunity.

    The location disallows a second card for the same contact, whatever the
    status of the existing one; `existing_id` names that card.
    """

    @property
    def existing_id(self) -> str | None:
        """Id of the opportunity that already exists for the contact."""
        meta = _field(self.body, "meta")
        existing = _field(meta, "existingId")
        return existing if isinstance(existing, str) else None


class AuthenticationError(APIError):
    """401: the access token is invalid or expired."""


class VersionHeaderError(APIError):
    """401: the Version header is missing or not a version the API accepts.

    A configuration problem, not a token problem: a new token would not help.
    """


class PermissionDeniedError(APIError):
    """The token is valid but may not do this."""


class ScopeError(PermissionDeniedError):
    """401: the token lacks the OAuth scope this route needs."""


class RouteNotSupportedError(PermissionDeniedError):
    """401: the IAM service does not support this route or option for the token."""


class LocationAccessError(PermissionDeniedError):
    """403: the token has no access to the location of the request."""


class NotFoundError(APIError):
    """404: no record with that id."""


class UnprocessableError(APIError):
    """422: validation failed; `messages` lists every complaint of the server."""


class RateLimitError(APIError):
    """429: the rate limit was exceeded; `retry_after` is the wait the server asked for."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class ServerError(APIError):
    """5xx: the server failed."""


_SCOPE_MESSAGE = "not authorized for this scope"
_IAM_MESSAGE = "not yet supported by the iam service"
_VERSION_MESSAGE = "version header"
_DUPLICATE_CODE = "OPPORTUNITY_NO_DUPLICATE"


def error_from_response(
    *,
    method: str,
    path: str,
    status: int,
    body: object,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> APIError:
    """Build the most specific APIError for an error response."""
    messages = _messages(body)
    code = _text(_field(body, "code"))
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "body": body,
        "messages": messages,
        "code": code,
        "trace_id": _text(_field(body, "traceId")),
        "headers": headers,
    }
    if status == 429:
        return RateLimitError(retry_after=retry_after, **fields)

    error_class = _classify(status, code, " ".join(messages).lower())
    return error_class(**fields)


def _classify(status: int, code: str | None, message: str) -> type[APIError]:
    if status == 400:
        return DuplicateOpportunityError if code == _DUPLICATE_CODE else BadRequestError
    if status == 401:
        if _SCOPE_MESSAGE in message:
            return ScopeError
        if _IAM_MESSAGE in message:
            return RouteNotSupportedError
        if _VERSION_MESSAGE in message:
            return VersionHeaderError
        return AuthenticationError
    if status == 403:
        return LocationAccessError
    if status == 404:
        return NotFoundError
    if status == 422:
        return UnprocessableError
    if status >= 500:
        return ServerError
    return APIError


def _messages(body: object) -> tuple[str, ...]:
    """Collect `message` whether the API sent a string or a list of strings."""
    message = _field(body, "message")
    if isinstance(message, str):
        return (message,)
    if isinstance(message, list):
        return tuple(str(item) for item in message)
    if isinstance(body, str) and body:
        return (body[:500],)
    error = _text(_field(body, "error"))
    return (error,) if error else ()


def _field(body: object, key: str) -> object:
    return body.get(key) if isinstance(body, Mapping) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
