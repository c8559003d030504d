"""Request checks that produce the live API's 422 messages.

The live API validates with class-validator, so the messages follow its
wording ("property X should not exist", "X must be a string", ...). Every check
adds to one Issues list, and the request fails once with all of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hoop_async.sandbox import responses


class Issues:
    """The validation messages of one request, in the order they were found."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        """Record one message."""
        self.messages.append(message)

    def raise_if_any(self) -> None:
        """Raise a 422 with every message found so far, if there is one."""
        if self.messages:
            raise responses.unprocessable(self.messages)


def reject_unknown_keys(
    issues: Issues, keys: Iterable[str], allowed: Iterable[str], prefix: str = ""
) -> None:
    """Add "property X should not exist" for each key outside `allowed`."""
    allowed_keys = set(allowed)
    for key in keys:
        if key not in allowed_keys:
            issues.add(f"{prefix}property {key} should not exist")


def read_string(
    issues: Issues, data: Mapping[str, Any], key: str, *, required: bool = False
) -> str | None:
    """Return `data[key]` if it is a string, or None for a missing optional key or null."""
    value = data.get(key)
    if value is None:
        if required:
            issues.add(f"{key} should not be empty")
            issues.add(f"{key} must be a string")
        return None
    if not isinstance(value, str):
        issues.add(f"{key} must be a string")
        return None
    if required and not value:
        issues.add(f"{key} should not be empty")
        return None
    return value


def check_choice(issues: Issues, value: Any, key: str, choices: Sequence[str]) -> str | None:
    """Return `value` if it is one of `choices`, else add the class-validator enum message."""
    if isinstance(value, str) and value in choices:
        return value
    issues.add(f"{key} must be one of the following values: {', '.join(choices)}")
    return None


def check_number_range(
    issues: Issues,
    value: float,
    key: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float | None:
    """Return `value` if it respects the bounds and integer rule, else add a message."""
    if integer and value != int(value):
        issues.add(f"{key} must be an integer number")
        return None
    if minimum is not None and value < minimum:
        issues.add(f"{key} must not be less than {_plain(minimum)}")
        return None
    if maximum is not None and value > maximum:
        issues.add(f"{key} must not be greater than {_plain(maximum)}")
        return None
    return value


def read_number(
    issues: Issues,
    data: Mapping[str, Any],
    key: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float | None:
    """Return the JSON number `data[key]` (None if absent or null), checking its bounds."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        issues.add(f"{key} must be a number conforming to the specified constraints")
        return None
    return check_number_range(issues, value, key, minimum=minimum, maximum=maximum, integer=integer)


def parse_query_number(
    issues: Issues,
    raw: str | None,
    key: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float | None:
    """Return a query parameter as a number (None if absent), checking its bounds."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        issues.add(f"{key} must be a number conforming to the specified constraints")
        return None
    return check_number_range(issues, value, key, minimum=minimum, maximum=maximum, integer=integer)


def parse_query_bool(issues: Issues, raw: str | None, key: str) -> bool | None:
    """Return a query parameter "true" or "false" as a bool (None if absent)."""
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    issues.add(f"{key} must be a boolean value")
    return None


def read_bool(issues: Issues, data: Mapping[str, Any], key: str) -> bool | None:
    """Return the JSON boolean `data[key]` (None if absent or null)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        issues.add(f"{key} must be a boolean value")
        return None
    return value


def read_string_list(
    issues: Issues, data: Mapping[str, Any], key: str, *, required: bool = False
) -> list[str] | None:
    """Return `data[key]` if it is a list of strings (None if absent and optional)."""
    value = data.get(key)
    if value is None:
        if required:
            issues.add(f"{key} must be an array")
        return None
    if not isinstance(value, list):
        issues.add(f"{key} must be an array")
        return None
    if not all(isinstance(item, str) for item in value):
        issues.add(f"each value in {key} must be a string")
        return None
    return list(value)


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)
