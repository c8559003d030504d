"""Handlers of GET and POST /opportunities/search, with the GET response's
cursor meta (startAfter, startAfterId, nextPageUrl, page numbers). Each built
page runs the test hooks of search_hooks before its response is sent.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hoop_async.sandbox import responses, search_hooks
from hoop_async.sandbox.context import authorize_location, read_json_object, state_of
from hoop_async.sandbox.render import opportunity_json
from hoop_async.sandbox.search import (
    Page,
    date_sorted_page,
    field_sorted_page,
    is_creation_order,
)
from hoop_async.sandbox.search_params import (
    GetSearchParams,
    PostSearchParams,
    parse_get_search,
    parse_post_search,
)
from hoop_async.sandbox.store import Location


async def get_search(request: web.Request) -> web.Response:
    """GET /opportunities/search: a newest-first page with cursor meta."""
    authorize_location(request, request.query.get("location_id"))
    params = parse_get_search(request.query)
    location = state_of(request).api_location(params.location_id)

    page = date_sorted_page(
        location,
        params.criteria,
        now=time.time(),
        limit=params.limit,
        skip=params.skip,
        after=params.cursor,
        ascending=params.ascending,
    )
    rows = _rows(page, location, params.details)
    meta = _get_meta(request, params, page)
    search_hooks.page_served(
        state_of(request),
        method="GET",
        location_id=params.location_id,
        request=dict(request.query),
        ids=_ids(page),
    )
    return responses.ok({"opportunities": rows, "meta": meta})


def _get_meta(request: web.Request, params: GetSearchParams, page: Page) -> dict[str, Any]:
    """Build meta. A short or empty page is the last one and carries no cursor.

    nextPageUrl keeps only location_id, limit and the cursor, dropping every
    other filter, as the live API's does.
    """
    meta: dict[str, Any] = {
        "total": page.total,
        "nextPageUrl": None,
        "startAfterId": None,
        "startAfter": None,
        "currentPage": params.page,
        "nextPage": None,
        "prevPage": params.page - 1 if params.page > 1 else None,
    }
    if len(page.rows) < params.limit:
        return meta
    last, _ = page.rows[-1]
    query = urlencode(
        {
            "location_id": params.location_id,
            "limit": params.limit,
            "startAfter": last.created_ms,
            "startAfterId": last.id,
        }
    )
    meta["nextPageUrl"] = f"{request.scheme}://{request.host}/opportunities/search?{query}"
    meta["startAfterId"] = last.id
    meta["startAfter"] = last.created_ms
    meta["nextPage"] = params.page + 1
    return meta


async def post_search(request: web.Request) -> web.Response:
    """POST /opportunities/search, which returns 201 with opportunities and total but no meta."""
    state = state_of(request)
    body = await read_json_object(request)
    authorize_location(request, body.get("locationId"))
    if state.config.iam_rejects_filters and body.get("filters"):
        raise responses.iam_not_supported()
    params = parse_post_search(body)
    location = state.api_location(params.location_id)

    page = _post_page(location, params)
    rows = _rows(page, location, params.details)
    search_hooks.page_served(
        state, method="POST", location_id=params.location_id, request=body, ids=_ids(page)
    )
    return responses.ok({"opportunities": rows, "total": page.total}, status=201)


def _post_page(location: Location, params: PostSearchParams) -> Page:
    now = time.time()
    if is_creation_order(params.sort):
        after = None
        if params.search_after is not None:
            after = (int(params.search_after[0]), str(params.search_after[1]))
        return date_sorted_page(
            location,
            params.criteria,
            now=now,
            limit=params.limit,
            skip=params.skip,
            after=after,
            ascending=not params.sort[0].descending,
        )
    return field_sorted_page(
        location,
        params.criteria,
        params.sort,
        now=now,
        limit=params.limit,
        skip=params.skip,
        after=params.search_after,
    )


def _rows(page: Page, location: Location, details: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for record, sort_value in page.rows:
        row = opportunity_json(record, location, sort=sort_value)
        for detail in details:
            row[detail] = []
        rows.append(row)
    return rows


def _ids(page: Page) -> tuple[str, ...]:
    return tuple(record.id for record, _ in page.rows)
