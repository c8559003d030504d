"""Handlers of the opportunity record routes: create, get, update, delete,
status and followers. Each checks location access, then the body, then
whether the record exists.

Handlers that read a body look the record up again after the read, because
another request may have deleted it while the body arrived.
"""

from __future__ import annotations

from aiohttp import web

from hoop_async.sandbox import bodies, operations, responses
from hoop_async.sandbox.context import (
    authorize_location,
    find_record,
    origin_of,
    read_json_object,
    require_record,
    state_of,
)
from hoop_async.sandbox.records import OpportunityRecord
from hoop_async.sandbox.render import opportunity_json
from hoop_async.sandbox.store import Location
from hoop_async.sandbox.validation import Issues, parse_query_bool, reject_unknown_keys

REMOVE_FOLLOWERS_QUERY_KEYS = ("isRemoveAllFollowers",)


def _opportunity_body(record: OpportunityRecord, location: Location) -> dict[str, object]:
    return {"opportunity": opportunity_json(record, location)}


async def create_opportunity(request: web.Request) -> web.Response:
    """POST /opportunities/: 201 with the new record, or 400 for a duplicate."""
    body = await read_json_object(request)
    authorize_location(request, body.get("locationId"))
    fields = bodies.validate_create(body)
    state = state_of(request)
    location = state.api_location(str(body["locationId"]))

    record = operations.create_opportunity(
        state, location, fields, origin_of(request), check_duplicates=True
    )
    return responses.ok(_opportunity_body(record, location), status=201)


async def get_opportunity(request: web.Request) -> web.Response:
    """GET /opportunities/{id}, which returns records that searches do not show yet."""
    location, record = require_record(find_record(request))
    return responses.ok(_opportunity_body(record, location))


async def update_opportunity(request: web.Request) -> web.Response:
    """PUT /opportunities/{id}: change the given fields."""
    find_record(request)
    changes = bodies.validate_update(await read_json_object(request))
    location, record = require_record(find_record(request))

    operations.update_opportunity(state_of(request), location, record, changes)
    return responses.ok(_opportunity_body(record, location))


async def delete_opportunity(request: web.Request) -> web.Response:
    """DELETE /opportunities/{id}."""
    location, record = require_record(find_record(request))
    operations.delete_opportunity(state_of(request), location, record)
    return responses.ok({"succeded": True})


async def update_status(request: web.Request) -> web.Response:
    """PUT /opportunities/{id}/status: `{status, lostReasonId?}`.

    lostReasonId with a status other than lost is a 422, and so is an id that
    is not a lost reason of the record's location.
    """
    find_record(request)
    status, lost_reason_id = bodies.validate_status(await read_json_object(request))
    location, record = require_record(find_record(request))

    operations.set_status(state_of(request), location, record, status, lost_reason_id)
    return responses.ok({"succeded": True})


async def add_followers(request: web.Request) -> web.Response:
    """POST /opportunities/{id}/followers: 201 with all followers and the ones added."""
    find_record(request)
    followers = bodies.validate_followers(await read_json_object(request))
    location, record = require_record(find_record(request))

    added = operations.add_followers(record, followers)
    operations.touch(state_of(request), location, record)
    body = {"followers": list(record.followers), "followersAdded": added}
    return responses.ok(body, status=201)


async def remove_followers(request: web.Request) -> web.Response:
    """DELETE /opportunities/{id}/followers, with `?isRemoveAllFollowers=true` to remove all.

    The body's followers list is required unless isRemoveAllFollowers is true.
    """
    find_record(request)
    issues = Issues()
    reject_unknown_keys(issues, dict.fromkeys(request.query), REMOVE_FOLLOWERS_QUERY_KEYS)
    remove_all = parse_query_bool(
        issues, request.query.get("isRemoveAllFollowers"), "isRemoveAllFollowers"
    )
    issues.raise_if_any()
    body = await read_json_object(request)
    followers = bodies.validate_followers(body, required=not remove_all)
    location, record = require_record(find_record(request))

    removed = operations.remove_followers(record, followers, remove_all=bool(remove_all))
    operations.touch(state_of(request), location, record)
    return responses.ok({"followers": list(record.followers), "followersRemoved": removed})
