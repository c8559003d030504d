"""The `filters` of POST /opportunities/search: grouped
`{"group": "AND"|"OR", "filters": [...]}` items and bare
`{"field", "operator", "value"}` items, parsed into one row predicate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hoop_async.sandbox.records import OpportunityRecord
from hoop_async.sandbox.validation import Issues, check_choice, reject_unknown_keys

RowPredicate = Callable[[OpportunityRecord], bool]

FIELD_VALUES: dict[str, Callable[[OpportunityRecord], Any]] = {
    "assigned_to": lambda record: record.assigned_to,
    "contact_id": lambda record: record.contact_id,
    "monetary_value": lambda record: record.monetary_value,
    "pipeline_id": lambda record: record.pipeline_id,
    "pipeline_stage_id": lambda record: record.pipeline_stage_id,
    "status": lambda record: record.status,
}
FIELDS = tuple(sorted(FIELD_VALUES))
NUMERIC_FIELDS = ("monetary_value",)
OPERATORS = ("eq", "not_eq", "in", "range")
GROUPS = ("AND", "OR")
GROUP_KEYS = ("group", "filters")
CONDITION_KEYS = ("field", "operator", "value")
RANGE_BOUNDS = ("gt", "gte", "lt", "lte")


def parse_filters(issues: Issues, raw: Any, path: str = "filters") -> RowPredicate | None:
    """Parse a filters list (items combined with AND), or return None when absent or invalid."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        issues.add(f"{path} must be an array")
        return None
    parsed = [_parse_item(issues, item, f"{path}.{position}") for position, item in enumerate(raw)]
    predicates = [predicate for predicate in parsed if predicate is not None]
    return _all_of(predicates)


def _parse_item(issues: Issues, item: Any, path: str) -> RowPredicate | None:
    if not isinstance(item, dict):
        issues.add(f"{path} must be an object")
        return None
    if "group" in item or "filters" in item:
        return _parse_group(issues, item, path)
    return _parse_condition(issues, item, path)


def _parse_group(issues: Issues, item: Mapping[str, Any], path: str) -> RowPredicate | None:
    reject_unknown_keys(issues, item, GROUP_KEYS, prefix=f"{path}.")
    raw_group = item.get("group", "AND")
    group = raw_group.upper() if isinstance(raw_group, str) else raw_group
    group = check_choice(issues, group, f"{path}.group", GROUPS)
    children = item.get("filters")
    if not isinstance(children, list):
        issues.add(f"{path}.filters must be an array")
        return None
    parsed = [
        _parse_item(issues, child, f"{path}.filters.{position}")
        for position, child in enumerate(children)
    ]
    predicates = [predicate for predicate in parsed if predicate is not None]
    if group == "OR":
        return _any_of(predicates)
    return _all_of(predicates)


def _parse_condition(issues: Issues, item: Mapping[str, Any], path: str) -> RowPredicate | None:
    reject_unknown_keys(issues, item, CONDITION_KEYS, prefix=f"{path}.")
    field = check_choice(issues, item.get("field"), f"{path}.field", FIELDS)
    operator = check_choice(issues, item.get("operator"), f"{path}.operator", OPERATORS)
    if field is None or operator is None:
        return None
    value = item.get("value")
    if operator == "range":
        return _range_condition(issues, field, value, path)
    if operator == "in":
        return _in_condition(issues, field, value, path)
    if not _valid_scalar(field, value):
        issues.add(f"{path}.value must be {_scalar_kind(field)}")
        return None
    return _equality_condition(field, value, negate=operator == "not_eq")


def _equality_condition(field: str, value: Any, *, negate: bool) -> RowPredicate:
    read = FIELD_VALUES[field]
    if negate:
        return lambda record: read(record) != value
    return lambda record: read(record) == value


def _in_condition(issues: Issues, field: str, value: Any, path: str) -> RowPredicate | None:
    if not isinstance(value, list) or not all(_valid_scalar(field, item) for item in value):
        kind = "numbers" if field in NUMERIC_FIELDS else "strings"
        issues.add(f"{path}.value must be an array of {kind} for operator in")
        return None
    read = FIELD_VALUES[field]
    allowed = set(value)
    return lambda record: read(record) in allowed


def _range_condition(issues: Issues, field: str, value: Any, path: str) -> RowPredicate | None:
    if field not in NUMERIC_FIELDS:
        issues.add(f"{path}.operator range applies only to {', '.join(NUMERIC_FIELDS)}")
        return None
    valid = (
        isinstance(value, dict)
        and value
        and all(key in RANGE_BOUNDS and _is_number(bound) for key, bound in value.items())
    )
    if not valid:
        issues.add(f"{path}.value must be an object with numeric {', '.join(RANGE_BOUNDS)} bounds")
        return None
    read = FIELD_VALUES[field]
    bounds = dict(value)
    return lambda record: _within(read(record), bounds)


def _within(number: float, bounds: Mapping[str, float]) -> bool:
    checks = {
        "gt": lambda bound: number > bound,
        "gte": lambda bound: number >= bound,
        "lt": lambda bound: number < bound,
        "lte": lambda bound: number <= bound,
    }
    return all(checks[key](bound) for key, bound in bounds.items())


def _valid_scalar(field: str, value: Any) -> bool:
    if field in NUMERIC_FIELDS:
        return _is_number(value)
    return value is None or isinstance(value, str)


def _scalar_kind(field: str) -> str:
    return "a number" if field in NUMERIC_FIELDS else "a string"


def _is_number(value: Any) -> bool:
    is_numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return is_numeric and math.isfinite(value)


def _all_of(predicates: Sequence[RowPredicate]) -> RowPredicate | None:
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda record: all(predicate(record) for predicate in predicates)


def _any_of(predicates: Sequence[RowPredicate]) -> RowPredicate | None:
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda record: any(predicate(record) for predicate in predicates)
