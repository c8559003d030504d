"""Checks of the two search requests: the GET query (snake_case filters,
camelCase dates and cursor, limit 1..100) and the POST body (limit 1..500,
page or searchAfter, filters, sort), turned into typed parameters or a 422.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from hoop_async.sandbox.filters import parse_filters
from hoop_async.sandbox.records import SEARCH_STATUSES
from hoop_async.sandbox.search import (
    DIRECTIONS,
    NEWEST_FIRST,
    NUMERIC_SORT_FIELDS,
    SORT_FIELDS,
    Criteria,
    SortField,
)
from hoop_async.sandbox.times import DAY_MS, parse_day
from hoop_async.sandbox.validation import (
    Issues,
    check_choice,
    parse_query_bool,
    parse_query_number,
    read_number,
    read_string,
    reject_unknown_keys,
)

GET_SEARCH_KEYS = (
    "q", "location_id", "pipeline_id", "pipeline_stage_id", "contact_id", "status",
    "assigned_to", "campaignId", "id", "order", "endDate", "startAfter", "startAfterId",
    "date", "country", "page", "limit", "getTasks", "getNotes", "getCalendarEvents",
)  # fmt: skip
GET_DETAIL_FLAGS = {"getTasks": "tasks", "getNotes": "notes", "getCalendarEvents": "calendarEvents"}
POST_SEARCH_KEYS = (
    "locationId", "query", "limit", "page", "searchAfter", "filters", "sort", "additionalDetails",
)  # fmt: skip
# unReadConversations is accepted, but the sandbox stores no conversations to show.
POST_DETAIL_FLAGS = ("notes", "tasks", "calendarEvents", "unReadConversations")
ROW_DETAILS = ("notes", "tasks", "calendarEvents")
SORT_KEYS = ("field", "direction")
GET_DEFAULT_LIMIT = 20
GET_MAX_LIMIT = 100
POST_DEFAULT_LIMIT = 20
POST_MAX_LIMIT = 500
POST_MAX_WINDOW = 10_000
ASCENDING_ORDER = "added_asc"


@attrs.define(kw_only=True, frozen=True)
class GetSearchParams:
    """A checked GET /opportunities/search query."""

    location_id: str
    criteria: Criteria
    limit: int
    page: int
    skip: int
    cursor: tuple[int, str] | None
    ascending: bool
    details: tuple[str, ...]
    """Keys of empty detail lists to add to each row (tasks, notes, calendarEvents)."""


@attrs.define(kw_only=True, frozen=True)
class PostSearchParams:
    """A checked POST /opportunities/search body."""

    location_id: str
    criteria: Criteria
    limit: int
    skip: int
    search_after: list[Any] | None
    sort: tuple[SortField, ...]
    details: tuple[str, ...]


def parse_get_search(query: Mapping[str, str]) -> GetSearchParams:
    """Check a GET search query.

    Only the spec's keys are allowed. The cursor needs both startAfter and
    startAfterId: with only one of them the first page is served again, as the
    live API does. A date or endDate that is not mm-dd-yyyy is ignored.
    """
    issues = Issues()
    reject_unknown_keys(issues, dict.fromkeys(query), GET_SEARCH_KEYS)
    location_id = read_string(issues, query, "location_id", required=True)
    status = query.get("status")
    if status is not None:
        check_choice(issues, status, "status", SEARCH_STATUSES)
    limit = parse_query_number(
        issues, query.get("limit"), "limit", minimum=1, maximum=GET_MAX_LIMIT, integer=True
    )
    page = parse_query_number(issues, query.get("page"), "page", minimum=1, integer=True)
    start_after = parse_query_number(issues, query.get("startAfter"), "startAfter")
    details = _get_details(issues, query)
    issues.raise_if_any()

    assert location_id is not None
    page_number = int(page or 1)
    page_size = int(limit or GET_DEFAULT_LIMIT)
    start_after_id = query.get("startAfterId")
    cursor = None
    if start_after is not None and start_after_id:
        cursor = (int(start_after), start_after_id)
    half_cursor = cursor is None and (start_after is not None or bool(start_after_id))
    skip = 0 if cursor is not None or half_cursor else (page_number - 1) * page_size
    return GetSearchParams(
        location_id=location_id,
        criteria=_get_criteria(query),
        limit=page_size,
        page=page_number,
        skip=skip,
        cursor=cursor,
        ascending=query.get("order") == ASCENDING_ORDER,
        details=details,
    )


def _get_details(issues: Issues, query: Mapping[str, str]) -> tuple[str, ...]:
    details = []
    for key, detail in GET_DETAIL_FLAGS.items():
        if parse_query_bool(issues, query.get(key), key):
            details.append(detail)
    return tuple(details)


def _get_criteria(query: Mapping[str, str]) -> Criteria:
    status = query.get("status")
    start_day = parse_day(query.get("date", ""))
    end_day = parse_day(query.get("endDate", ""))
    text = query.get("q")
    return Criteria(
        text=text.lower() if text else None,
        pipeline_id=query.get("pipeline_id") or None,
        pipeline_stage_id=query.get("pipeline_stage_id") or None,
        contact_id=query.get("contact_id") or None,
        status=None if status in (None, "", "all") else status,
        assigned_to=query.get("assigned_to") or None,
        campaign_id=query.get("campaignId") or None,
        opportunity_id=query.get("id") or None,
        country=query.get("country") or None,
        created_from_ms=start_day,
        created_before_ms=None if end_day is None else end_day + DAY_MS,
    )


def parse_post_search(body: Mapping[str, Any]) -> PostSearchParams:
    """Check a POST search body.

    page * limit may not pass 10,000 rows. Past that a client sends searchAfter
    (the last row's `sort` value) and no page. With searchAfter, page is ignored.
    """
    issues = Issues()
    reject_unknown_keys(issues, body, POST_SEARCH_KEYS)
    location_id = read_string(issues, body, "locationId", required=True)
    query = read_string(issues, body, "query")
    limit = read_number(issues, body, "limit", minimum=1, maximum=POST_MAX_LIMIT, integer=True)
    page = read_number(issues, body, "page", minimum=1, integer=True)
    page_size = int(limit or POST_DEFAULT_LIMIT)
    _check_window(issues, page, page_size)
    filters = parse_filters(issues, body.get("filters"))
    sort = _parse_sort(issues, body.get("sort"))
    search_after = _parse_search_after(issues, body.get("searchAfter"), sort)
    details = _post_details(issues, body.get("additionalDetails"))
    issues.raise_if_any()

    assert location_id is not None
    criteria = Criteria(
        text=query.lower() if query else None,
        filters=filters,
        filters_signature=repr(body.get("filters")) if filters is not None else "",
    )
    skip = 0 if search_after is not None else (int(page or 1) - 1) * page_size
    return PostSearchParams(
        location_id=location_id,
        criteria=criteria,
        limit=page_size,
        skip=skip,
        search_after=search_after,
        sort=sort,
        details=details,
    )


def _check_window(issues: Issues, page: float | None, page_size: int) -> None:
    if page is not None and page * page_size > POST_MAX_WINDOW:
        issues.add(
            f"page * limit must not be greater than {POST_MAX_WINDOW}; to read further, "
            "send searchAfter with the sort value of the last row and no page"
        )


def _parse_sort(issues: Issues, raw: Any) -> tuple[SortField, ...]:
    if raw is None or raw == []:
        return NEWEST_FIRST
    if not isinstance(raw, list):
        issues.add("sort must be an array")
        return NEWEST_FIRST
    fields = []
    for position, item in enumerate(raw):
        prefix = f"sort.{position}."
        if not isinstance(item, dict):
            issues.add(f"sort.{position} must be an object")
            continue
        reject_unknown_keys(issues, item, SORT_KEYS, prefix=prefix)
        field = check_choice(issues, item.get("field"), f"{prefix}field", SORT_FIELDS)
        direction = item.get("direction", "desc")
        direction = check_choice(issues, direction, f"{prefix}direction", DIRECTIONS)
        if field is not None and direction is not None:
            fields.append(SortField(field=field, descending=direction == "desc"))
    return tuple(fields) or NEWEST_FIRST


def _parse_search_after(issues: Issues, raw: Any, sort: Sequence[SortField]) -> list[Any] | None:
    """Check searchAfter against the sort: one value per sort field, then the row id.

    Numbers may arrive as strings (the spec types the items as strings).
    """
    if raw is None:
        return None
    expected = len(sort) + 1
    if not isinstance(raw, list) or len(raw) != expected:
        issues.add(
            f"searchAfter must be an array of {expected} values: the sort value of the "
            "last row, as in its sort field"
        )
        return None
    converted: list[Any] = []
    for field, value in zip([*(item.field for item in sort), "id"], raw, strict=True):
        converted_value = _sort_value(field, value)
        if converted_value is None:
            issues.add(f"searchAfter value {value!r} does not fit sort field {field}")
            return None
        converted.append(converted_value)
    return converted


def _sort_value(field: str, value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if field in NUMERIC_SORT_FIELDS:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if number.is_integer() else number
    return value if isinstance(value, str) else None


def _post_details(issues: Issues, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        issues.add("additionalDetails must be an object")
        return ()
    reject_unknown_keys(issues, raw, POST_DETAIL_FLAGS, prefix="additionalDetails.")
    details = []
    for key in POST_DETAIL_FLAGS:
        value = raw.get(key)
        if value is not None and not isinstance(value, bool):
            issues.add(f"additionalDetails.{key} must be a boolean value")
        elif value and key in ROW_DETAILS:
            details.append(key)
    return tuple(details)
