"""Mapping API error bodies to the HoopError hierarchy."""

from __future__ import annotations

from typing import Any

import pytest
from support import load_sample

from hoop_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    DuplicateOpportunityError,
    HoopError,
    InvalidRequestError,
    LocationAccessError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotSupportedError,
    ScopeError,
    ServerError,
    UnprocessableError,
    VersionHeaderError,
)
from hoop_async.errors import error_from_response
from hoop_async.session import parse_retry_after


def build(status: int, body: Any, retry_after: float | None = None) -> APIError:
    return error_from_response(
        method="GET", path="/opportunities/x", status=status, body=body, retry_after=retry_after
    )


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (400, "Bad Request", BadRequestError),
        (401, "Invalid JWT", AuthenticationError),
        (401, "The token is not authorized for this scope.", ScopeError),
        (
            401,
            "This route is not yet supported by the IAM Service for this token.",
            RouteNotSupportedError,
        ),
        (401, "version header was not found.", VersionHeaderError),
        (401, "version header is invalid", VersionHeaderError),
        (403, "The token does not have access to this location.", LocationAccessError),
        (404, "Opportunity not found", NotFoundError),
        (422, ["property skip should not exist"], UnprocessableError),
        (500, "Internal server error", ServerError),
        (502, "Bad Gateway", ServerError),
        (409, "Conflict", APIError),
    ],
)
def test_status_and_message_pick_class(status: int, message: Any, expected: type) -> None:
    error = build(status, {"statusCode": status, "message": message})
    assert type(error) is expected
    assert isinstance(error, HoopError)


def test_scope_and_location_errors_are_permission_errors() -> None:
    assert issubclass(ScopeError, PermissionDeniedError)
    assert issubclass(LocationAccessError, PermissionDeniedError)
    assert not issubclass(ScopeError, AuthenticationError)
    assert not issubclass(VersionHeaderError, AuthenticationError)


def test_duplicate_sample_carries_existing_id() -> None:
    body = load_sample("error-400-duplicate-opportunity.json")
    error = build(400, body)
    assert isinstance(error, DuplicateOpportunityError)
    assert error.existing_id == "FAKE201aBcDeFgHiJkLm"
    assert error.code == "OPPORTUNITY_NO_DUPLICATE"
    assert error.trace_id == "00000000-0000-4000-8000-000000000201"
    assert error.body == body
    assert "Can not create duplicate opportunity" in str(error)


def test_scope_sample_maps_to_scope_error() -> None:
    error = build(401, load_sample("error-401-scope-not-authorized.json"))
    assert isinstance(error, ScopeError)
    assert error.code is None
    assert error.trace_id is None


def test_not_found_sample_keeps_code() -> None:
    error = build(404, load_sample("error-404-opportunity-not-found.json"))
    assert isinstance(error, NotFoundError)
    assert error.code == "OPPORTUNITY_NOT_FOUND"
    assert error.messages == ("Opportunity not found",)


def test_unprocessable_keeps_every_message() -> None:
    body = {
        "statusCode": 422,
        "message": ["property skip should not exist", "property locationId should not exist"],
        "error": "Unprocessable Entity",
    }
    error = build(422, body)
    assert error.messages == (
        "property skip should not exist",
        "property locationId should not exist",
    )
    assert "property locationId should not exist" in str(error)


def test_rate_limit_error_carries_delay() -> None:
    error = build(429, {"statusCode": 429, "message": "Too Many Requests"}, retry_after=7.0)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_non_json_body_becomes_message() -> None:
    error = build(502, "<html>Bad Gateway</html>")
    assert isinstance(error, ServerError)
    assert error.messages == ("<html>Bad Gateway</html>",)


def test_error_names_method_path_status() -> None:
    error = build(404, {"message": "Opportunity not found", "traceId": "t-1"})
    assert str(error) == "GET /opportunities/x -> 404: Opportunity not found (traceId t-1)"


def test_invalid_request_is_value_error() -> None:
    error = InvalidRequestError("status", "done", "expected one of open, won, lost, abandoned")
    assert isinstance(error, ValueError)
    assert isinstance(error, HoopError)
    assert str(error) == "invalid status='done': expected one of open, won, lost, abandoned"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    import time
    from email.utils import formatdate

    delay = parse_retry_after(formatdate(time.time() + 30, usegmt=True))
    assert delay is not None
    assert 28 <= delay <= 31
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
