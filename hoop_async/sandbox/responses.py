"""JSON bodies of the simulated API: success responses and every error shape.

Error bodies follow the live API: statusCode and message (a string, or a list for
422), plus error, code, meta and traceId where the live API sends them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

UNPROCESSABLE = "Unprocessable Entity"


def new_trace_id() -> str:
    """Return a fresh request id (a uuid4 string), as the live API's traceId."""
    return str(uuid.uuid4())


def ok(body: dict[str, Any], status: int = 200) -> web.Response:
    """Build a success response with a traceId added to `body`."""
    return web.json_response({**body, "traceId": new_trace_id()}, status=status)


class ApiError(Exception):
    """An error response of the simulated API, raised from anywhere in a handler."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {body.get('message')}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def to_response(self) -> web.Response:
        """Build the HTTP response for this error."""
        return web.json_response(self.body, status=self.status, headers=self.headers)

    @property
    def message_text(self) -> str:
        """The message as one string, with a list of messages joined by '; '."""
        message = self.body.get("message", "")
        if isinstance(message, list):
            return "; ".join(str(item) for item in message)
        return str(message)


def _error(status: int, message: str | list[str], error: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if error is not None:
        body["error"] = error
    body["traceId"] = new_trace_id()
    return body


# NOTE: no live bodies are recorded for the Version, Invalid JWT and 403 errors. Their
# `error` key copies NestJS's default exception body, which is a guess.
def version_missing() -> ApiError:
    """401 for a request without a Version header."""
    return ApiError(401, _error(401, "version header was not found.", "Unauthorized"))


def version_invalid() -> ApiError:
    """401 for a Version header with an unknown value."""
    return ApiError(401, _error(401, "version header is invalid", "Unauthorized"))


def invalid_jwt() -> ApiError:
    """401 for a missing, unknown or expired access token."""
    return ApiError(401, _error(401, "Invalid JWT", "Unauthorized"))


def scope_not_authorized() -> ApiError:
    """401 for a token without the route's scope. The live body has no traceId."""
    body = {"statusCode": 401, "message": "The token is not authorized for this scope."}
    return ApiError(401, body)


def iam_not_supported() -> ApiError:
    """401 that the live API's IAM service sends for POST search with `filters`.

    NOTE: the live message is known only up to "IAM Service", so the rest is a guess.
    """
    message = (
        "This route is not yet supported by the IAM Service for requests with filters. "
        "Send the search without filters."
    )
    return ApiError(401, _error(401, message, "Unauthorized"))


def location_forbidden() -> ApiError:
    """403 for a token that lacks the location of the query, body or record."""
    message = "The token does not have access to this location."
    return ApiError(403, _error(403, message, "Forbidden"))


def opportunity_not_found() -> ApiError:
    """404 for an unknown opportunity id. The live body has a code and no traceId."""
    body = {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Opportunity not found",
        "code": "OPPORTUNITY_NOT_FOUND",
    }
    return ApiError(404, body)


def route_not_found(method: str, path: str) -> ApiError:
    """404 for a path that no route serves, worded like NestJS."""
    return ApiError(404, _error(404, f"Cannot {method} {path}", "Not Found"))


def duplicate_opportunity(existing_id: str) -> ApiError:
    """400 for a second opportunity of a contact where duplicates are not allowed."""
    body = {
        "statusCode": 400,
        "message": "Can not create duplicate opportunity for the contact.",
        "code": "OPPORTUNITY_NO_DUPLICATE",
        "meta": {"existingId": existing_id},
        "error": "Bad Request",
        "traceId": new_trace_id(),
    }
    return ApiError(400, body)


def bad_request(message: str) -> ApiError:
    """400 with a single message."""
    return ApiError(400, _error(400, message, "Bad Request"))


def unprocessable(messages: Sequence[str]) -> ApiError:
    """422 with the list of validation messages, as class-validator words them."""
    return ApiError(422, _error(422, list(messages), UNPROCESSABLE))


def internal_error() -> ApiError:
    """500 for a failure inside the sandbox itself."""
    return ApiError(500, _error(500, "Internal server error", "Internal Server Error"))


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """Build an OAuth token endpoint error: `{"error", "error_description"}`."""
    return ApiError(status, {"error": error, "error_description": description})
