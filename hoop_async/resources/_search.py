"""The two opportunity searches as page iterators: the query of GET search, the
body of POST search, and the coroutine that fetches one page of each for a
cursor. Pages carry raw rows, which the iterator converts to Opportunity as the
caller reads them. `Opportunities.search` and `search_advanced` delegate here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hoop_async._constants import GET_SEARCH_MAX_LIMIT, POST_SEARCH_MAX_LIMIT
from hoop_async.errors import InvalidRequestError
from hoop_async.models import Opportunity, SearchMeta, from_wire
from hoop_async.pagination import (
    GetSearchCursor,
    Page,
    PageIterator,
    PostSearchCursor,
    next_get_cursor,
    next_post_cursor,
)
from hoop_async.resources._checks import check_date, check_limit, check_search_status
from hoop_async.resources._wire import field_or_empty, list_field, query_value

__all__ = ["GET_SEARCH_QUERY_KEYS", "GetSearch", "PostSearch", "get_search", "post_search"]

GetSearch = PageIterator[Opportunity, GetSearchCursor]
PostSearch = PageIterator[Opportunity, PostSearchCursor]
Request = Callable[..., Awaitable[Any]]
"""`Opportunities._request`: sends one call through the session (rate limit, retries)."""

SEARCH_PATH = "/opportunities/search"
# POST search sorts on this field by default. Records never change their
# creation time, so in this order a record cannot move past the read position.
CREATION_SORT_FIELD = "date_added"

# Python keyword -> query key of GET /opportunities/search. The API spells these
# differently (snake_case filters, camelCase dates and flags) and rejects any
# other key with 422 "property X should not exist".
GET_SEARCH_QUERY_KEYS: Mapping[str, str] = {
    "location_id": "location_id",
    "q": "q",
    "pipeline_id": "pipeline_id",
    "pipeline_stage_id": "pipeline_stage_id",
    "contact_id": "contact_id",
    "status": "status",
    "assigned_to": "assigned_to",
    "campaign_id": "campaignId",
    "opportunity_id": "id",
    "order": "order",
    "date": "date",
    "end_date": "endDate",
    "country": "country",
    "get_tasks": "getTasks",
    "get_notes": "getNotes",
    "get_calendar_events": "getCalendarEvents",
}


def get_search(
    request: Request,
    filters: Mapping[str, Any],
    *,
    page_size: int,
    start: GetSearchCursor | None,
    max_items: int | None,
    prefetch: int,
) -> GetSearch:
    """Check the arguments of GET search and return its iterator.

    `filters` maps the keywords of GET_SEARCH_QUERY_KEYS to values; None
    leaves a filter out, and `location_id` is required.
    """
    params = _get_query(filters)
    _check_start(start, GetSearchCursor)
    limit = check_limit("page_size", page_size, GET_SEARCH_MAX_LIMIT)
    params["limit"] = str(limit)
    _check_iteration(max_items, prefetch)

    async def fetch(cursor: GetSearchCursor | None) -> Page[Any, GetSearchCursor]:
        page_params = dict(params)
        if cursor is not None:
            page_params["startAfter"] = str(cursor.start_after)
            page_params["startAfterId"] = cursor.start_after_id
        data = await request(
            "GET", SEARCH_PATH, params=page_params, location_id=params["location_id"]
        )
        rows = list_field(data, "opportunities")
        meta = from_wire(field_or_empty(data, "meta"), SearchMeta)
        return Page(
            items=tuple(rows),
            total=meta.total,
            cursor=cursor,
            next_cursor=next_get_cursor(cursor, meta, len(rows), limit),
            meta=meta,
        )

    return PageIterator(
        fetch,
        record_id=_opportunity_id,
        convert=_opportunity,
        start=start,
        max_items=max_items,
        prefetch=prefetch,
    )


def post_search(
    request: Request,
    body: Mapping[str, Any],
    *,
    page_size: int,
    start: PostSearchCursor | None,
    max_items: int | None,
    prefetch: int,
) -> PostSearch:
    """Check the arguments of POST search and return its iterator.

    `body` is sent on every page as given, plus `limit` and either `page` or
    `searchAfter`. A `sort` on any field but creation time makes the iterator
    remember every id it yields, because an edited record can move past the
    read position and come back pages later.
    """
    limit = check_limit("page_size", page_size, POST_SEARCH_MAX_LIMIT)
    _check_start(start, PostSearchCursor)
    _check_iteration(max_items, prefetch)
    fixed_body = {**body, "limit": limit}

    async def fetch(cursor: PostSearchCursor | None) -> Page[Any, PostSearchCursor]:
        page_body = dict(fixed_body)
        if cursor is not None and cursor.search_after is not None:
            page_body["searchAfter"] = list(cursor.search_after)
        else:
            page_body["page"] = cursor.page if cursor and cursor.page else 1
        data = await request(
            "POST", SEARCH_PATH, json_body=page_body, location_id=body["locationId"]
        )
        rows = list_field(data, "opportunities")
        total = field_or_empty(data, "total")
        return Page(
            items=tuple(rows),
            total=int(total) if isinstance(total, (int, float)) else None,
            cursor=cursor,
            next_cursor=next_post_cursor(cursor, rows, limit),
        )

    return PageIterator(
        fetch,
        record_id=_opportunity_id,
        convert=_opportunity,
        start=start,
        max_items=max_items,
        prefetch=prefetch,
        remember_all_ids=not _sorts_by_creation(body.get("sort")),
    )


def _get_query(filters: Mapping[str, Any]) -> dict[str, str]:
    """Return the GET search query of the given filters, checking status and dates."""
    checked = dict(filters)
    if checked.get("status") is not None:
        checked["status"] = str(check_search_status(checked["status"]))
    start, end = checked.get("date"), checked.get("end_date")
    for key in ("date", "end_date"):
        if checked.get(key) is not None:
            checked[key] = check_date(key, checked[key])
    if start is not None and end is not None and _day(start) > _day(end):
        raise InvalidRequestError(
            "date", start, f"the range starts after end_date={end!r}; swap the two dates"
        )
    return {
        GET_SEARCH_QUERY_KEYS[key]: query_value(value)
        for key, value in checked.items()
        if value is not None
    }


def _check_start(start: object, cursor_type: type) -> None:
    if start is not None and not isinstance(start, cursor_type):
        name = cursor_type.__name__
        raise InvalidRequestError(
            "start",
            start,
            f"expected a {name} from page.next_cursor; rebuild a saved one "
            f"with {name}(**attrs.asdict(cursor))",
        )


def _day(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def _sorts_by_creation(sort: Sequence[Mapping[str, Any]] | None) -> bool:
    if not sort:
        return True
    return all(item.get("field") == CREATION_SORT_FIELD for item in sort)


def _check_iteration(max_items: object, prefetch: object) -> None:
    if max_items is not None and (
        isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0
    ):
        raise InvalidRequestError("max_items", max_items, "expected an integer of 0 or more")
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
        raise InvalidRequestError(
            "prefetch", prefetch, "expected an integer of 0 or more (0 turns prefetching off)"
        )


def _opportunity(row: Any) -> Opportunity:
    return from_wire(row, Opportunity)


def _opportunity_id(record: Opportunity) -> str:
    return record.id
