"""Argument checks run before a request is sent.

Each check raises InvalidRequestError (a ValueError) naming the argument, the
value and what is allowed, so a bad call never reaches the network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from hoop_async.errors import InvalidRequestError
from hoop_async.models import CustomFieldValue, Status, to_wire

__all__ = [
    "check_custom_fields",
    "check_date",
    "check_id",
    "check_limit",
    "check_lost_reason",
    "check_monetary_value",
    "check_search_status",
    "check_status",
    "check_text",
    "check_user_ids",
]

_STATUS_VALUES = ", ".join(status.value for status in Status)


def check_id(field: str, value: object) -> str:
    """Return an id stripped of surrounding blanks; reject empty or non-string ids."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(field, value, "expected a non-empty id string")
    text = value.strip()
    if "/" in text or "?" in text or "#" in text:
        raise InvalidRequestError(field, value, "an id cannot contain '/', '?' or '#'")
    return text


def check_text(field: str, value: object) -> str:
    """Return a required free-text value such as an opportunity name."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(field, value, "expected a non-empty string")
    return value


def check_status(value: object, field: str = "status") -> Status:
    """Return a write status; "all" and unknown words are rejected."""
    try:
        return Status(value)
    except ValueError:
        hint = " ('all' is only a search filter)" if value == "all" else ""
        raise InvalidRequestError(field, value, f"expected one of {_STATUS_VALUES}{hint}") from None


def check_search_status(value: object) -> Status | Literal["all"]:
    """Return a search status filter: a Status or "all"."""
    if value == "all":
        return "all"
    try:
        return Status(value)
    except ValueError:
        raise InvalidRequestError(
            "status", value, f"expected one of {_STATUS_VALUES}, all"
        ) from None


def check_monetary_value(value: object) -> float | int:
    """Return a finite, non-negative amount."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError("monetary_value", value, "expected a number (0 for no value)")
    if not math.isfinite(value) or value < 0:
        raise InvalidRequestError("monetary_value", value, "expected a finite amount of 0 or more")
    return value


def check_limit(field: str, value: object, maximum: int) -> int:
    """Return a page size between 1 and `maximum`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidRequestError(field, value, f"expected an integer from 1 to {maximum}")
    return value


def check_lost_reason(status: Status | None, lost_reason_id: object) -> str | None:
    """Return the lost reason id, which the API takes only with status lost."""
    if lost_reason_id is None:
        return None
    if status is not Status.LOST:
        raise InvalidRequestError(
            "lost_reason_id",
            lost_reason_id,
            f"a lost reason goes only with status='lost', not status={status!s}",
        )
    return check_id("lost_reason_id", lost_reason_id)


def check_date(field: str, value: object) -> str:
    """Format a date filter as the API's mm-dd-yyyy.

    The API ignores a date in any other format and returns unfiltered results,
    so free text is rejected here instead of being passed through.
    """
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise InvalidRequestError(field, value, "expected a datetime.date")
    return value.strftime("%m-%d-%Y")


def check_user_ids(
    field: str, values: object, *, allow_empty: bool = False, when_empty: str = ""
) -> list[str]:
    """Return a list of user ids from any iterable of id strings (not a bare string).

    `when_empty` is appended to the error for an empty list, to name the alternative.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidRequestError(field, values, "expected a list of user id strings")
    ids = [check_id(field, value) for value in values]
    if not ids and not allow_empty:
        raise InvalidRequestError(field, values, "expected at least one user id" + when_empty)
    return ids


def check_custom_fields(values: object) -> list[dict[str, Any]]:
    """Return custom field values in the wire shape `{id or key, field_value}`."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidRequestError(
            "custom_fields", values, "expected a list of CustomFieldValue or mappings"
        )
    return [_custom_field(item) for item in values]


def _custom_field(item: object) -> dict[str, Any]:
    if isinstance(item, Mapping):
        allowed = {"id", "key", "value", "field_value"}
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise InvalidRequestError(
                "custom_fields", dict(item), f"unknown keys {unknown}; use id or key, and value"
            )
        value = item.get("value", item.get("field_value"))
        item = CustomFieldValue(id=item.get("id"), key=item.get("key"), value=value)
    if not isinstance(item, CustomFieldValue):
        raise InvalidRequestError("custom_fields", item, "expected a CustomFieldValue or a mapping")
    if not item.id and not item.key:
        raise InvalidRequestError("custom_fields", item, "each value needs a field id or key")
    wire: dict[str, Any] = to_wire(item)
    # None clears the field, so it is sent as null instead of being left out.
    wire.setdefault("field_value", None)
    return wire
