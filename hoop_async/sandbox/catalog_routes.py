"""Handlers of the location's catalogues: GET /opportunities/pipelines and
GET /opportunities/lost-reason, which take camelCase `locationId`, and
GET /locations/{locationId}/customFields.
"""

from __future__ import annotations

from aiohttp import web

from hoop_async.sandbox import responses
from hoop_async.sandbox.context import authorize_location, state_of
from hoop_async.sandbox.records import LostReason
from hoop_async.sandbox.render import custom_field_json, lost_reason_json, pipeline_json
from hoop_async.sandbox.validation import (
    Issues,
    parse_query_bool,
    parse_query_number,
    read_string,
    reject_unknown_keys,
)

PIPELINES_KEYS = ("locationId",)
LOST_REASON_KEYS = ("locationId", "name", "deleted", "query", "skip", "limit", "getCount")
LOST_REASON_DEFAULT_LIMIT = 100
CUSTOM_FIELD_KEYS = ("model",)
CUSTOM_FIELD_MODELS = ("opportunity", "contact", "all")


async def get_pipelines(request: web.Request) -> web.Response:
    """GET /opportunities/pipelines?locationId=..."""
    authorize_location(request, request.query.get("locationId"))
    issues = Issues()
    reject_unknown_keys(issues, dict.fromkeys(request.query), PIPELINES_KEYS)
    location_id = read_string(issues, request.query, "locationId", required=True)
    issues.raise_if_any()

    assert location_id is not None
    location = state_of(request).api_location(location_id)
    pipelines = [pipeline_json(pipeline) for pipeline in location.pipelines.values()]
    return responses.ok({"pipelines": pipelines})


async def get_custom_fields(request: web.Request) -> web.Response:
    """GET /locations/{locationId}/customFields?model=opportunity

    The sandbox keeps opportunity fields only, so model=contact lists none.
    """
    location_id = request.match_info["locationId"]
    authorize_location(request, location_id)
    issues = Issues()
    reject_unknown_keys(issues, dict.fromkeys(request.query), CUSTOM_FIELD_KEYS)
    model = request.query.get("model", "all")
    if model not in CUSTOM_FIELD_MODELS:
        issues.add(f"model must be one of the following values: {', '.join(CUSTOM_FIELD_MODELS)}")
    issues.raise_if_any()

    location = state_of(request).api_location(location_id)
    fields = [] if model == "contact" else list(location.custom_fields.values())
    return responses.ok({"customFields": [custom_field_json(field) for field in fields]})


async def get_lost_reasons(request: web.Request) -> web.Response:
    """GET /opportunities/lost-reason?locationId=...

    `name` matches a whole name and `query` a part of one, both ignoring case.
    `deleted=true` lists only deleted reasons. `total` counts every match before
    skip and limit, and is sent whether or not getCount is set.
    """
    query = request.query
    authorize_location(request, query.get("locationId"))
    issues = Issues()
    reject_unknown_keys(issues, dict.fromkeys(query), LOST_REASON_KEYS)
    location_id = read_string(issues, query, "locationId", required=True)
    deleted = parse_query_bool(issues, query.get("deleted"), "deleted")
    parse_query_bool(issues, query.get("getCount"), "getCount")
    skip = parse_query_number(issues, query.get("skip"), "skip", minimum=0, integer=True)
    limit = parse_query_number(issues, query.get("limit"), "limit", minimum=1, integer=True)
    issues.raise_if_any()

    assert location_id is not None
    location = state_of(request).api_location(location_id)
    matches = [
        reason
        for reason in location.lost_reasons.values()
        if _lost_reason_matches(reason, query.get("name"), query.get("query"), bool(deleted))
    ]
    start = int(skip or 0)
    end = start + int(limit or LOST_REASON_DEFAULT_LIMIT)
    reasons = [lost_reason_json(reason) for reason in matches[start:end]]
    return responses.ok({"lostReasons": reasons, "total": len(matches)})


def _lost_reason_matches(
    reason: LostReason, name: str | None, text: str | None, deleted: bool
) -> bool:
    if reason.deleted != deleted:
        return False
    if name and reason.name.lower() != name.lower():
        return False
    return not text or text.lower() in reason.name.lower()
