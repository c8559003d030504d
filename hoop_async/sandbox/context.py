"""Request accessors for route handlers: the sandbox state, the caller's
installation, the JSON body, and the location or record the request may act on.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from aiohttp import web

from hoop_async.sandbox import responses
from hoop_async.sandbox.auth import Installation, require_location_access
from hoop_async.sandbox.operations import Origin
from hoop_async.sandbox.records import OpportunityRecord
from hoop_async.sandbox.store import Location, SandboxState

STATE_KEY = web.AppKey("hoop_sandbox_state", SandboxState)
# The auth middleware sets this for the request's task. A context variable works on every
# aiohttp version the project allows, where web.RequestKey needs a recent one.
current_installation: ContextVar[Installation] = ContextVar("hoop_sandbox_installation")


def state_of(request: web.Request) -> SandboxState:
    """Return the state that the application serves."""
    return request.app[STATE_KEY]


def installation_of(request: web.Request) -> Installation:
    """Return the installation of the request's token, which the auth middleware stored."""
    return current_installation.get()


def origin_of(request: web.Request) -> Origin:
    """Return who writes through this request, for `internalSource`."""
    version = request.headers.get("Version", "2021-07-28")
    return Origin(client_id=installation_of(request).client_id, api_version=version)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Return the JSON object body. An empty body reads as `{}`, anything else raises 400."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise responses.bad_request(f"Request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise responses.bad_request("Request body must be a JSON object.")
    return body


def authorize_location(request: web.Request, location_id: object) -> Location | None:
    """Check the token's access to a location named by the request.

    Returns None when `location_id` is not a non-empty string (validation
    reports that later). Raises 403 for a location the token lacks and 400 for
    one that does not exist.
    """
    if not isinstance(location_id, str) or not location_id:
        return None
    require_location_access(installation_of(request), location_id)
    return state_of(request).api_location(location_id)


def find_record(request: web.Request) -> tuple[Location, OpportunityRecord] | None:
    """Return the location and record of the path's `{id}`, or None if unknown.

    Raises 403 when the record belongs to a location the token lacks.
    """
    state = state_of(request)
    record = state.find_opportunity(request.match_info["id"])
    if record is None:
        return None
    require_location_access(installation_of(request), record.location_id)
    return state.locations[record.location_id], record


def require_record(
    found: tuple[Location, OpportunityRecord] | None,
) -> tuple[Location, OpportunityRecord]:
    """Return `found`, or raise the live API's 404 for an unknown opportunity id."""
    if found is None:
        raise responses.opportunity_not_found()
    return found
