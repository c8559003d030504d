"""Handler of POST /oauth/locationToken: an agency (Company) access token with the
oauth.write scope obtains an access token for one location of its company.
The body is form-encoded and, unlike POST /oauth/token, the Version header is required.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from hoop_async.sandbox import responses
from hoop_async.sandbox.auth import (
    LOCATION_TOKEN_SCOPE,
    Installation,
    bearer_token,
    check_version,
    read_form,
    require_scope,
    token_lifetime,
)
from hoop_async.sandbox.context import state_of
from hoop_async.sandbox.store import SandboxState
from hoop_async.sandbox.validation import Issues, read_string

logger = logging.getLogger("hoop_async.sandbox")

LOCATION_TOKEN_PATH = "/oauth/locationToken"


async def location_token_endpoint(request: web.Request) -> web.Response:
    """POST /oauth/locationToken: 200 with a location access token and no refresh token."""
    state = state_of(request)
    state.tokens.counters.location_token_requests += 1
    check_version(request.headers.get("Version"), state.config.accepted_versions)
    company = _company_installation(state, request)
    form = await read_form(request)
    company_id, location_id = _check_form(form)

    if company_id != company.company_id:
        raise responses.location_forbidden()
    location = state.api_location(location_id)
    if location.company_id != company.company_id:
        raise responses.location_forbidden()

    installation = Installation(
        client_id=company.client_id,
        user_type="Location",
        company_id=company.company_id,
        location_ids=(location_id,),
        scopes=company.scopes,
        user_id=company.user_id,
    )
    ttl = state.config.access_token_ttl
    access_token = state.tokens.issue_access_token(installation, ttl)
    logger.info("issued a location token for %s to app %s", location_id, company.client_id)
    return web.json_response(_response_body(access_token, token_lifetime(ttl), installation))


def _company_installation(state: SandboxState, request: web.Request) -> Installation:
    """Return the installation of the request's agency token, or raise 401.

    NOTE: the live API's response to a Location token on this agency-only route is
    unrecorded, so the sandbox sends the scope 401.
    """
    token = bearer_token(request.headers.get("Authorization"))
    installation = state.tokens.resolve(token) if token else None
    if installation is None:
        raise responses.invalid_jwt()
    if installation.user_type != "Company":
        raise responses.scope_not_authorized()
    require_scope(installation, LOCATION_TOKEN_SCOPE)
    return installation


def _check_form(form: dict[str, str]) -> tuple[str, str]:
    issues = Issues()
    company_id = read_string(issues, form, "companyId", required=True)
    location_id = read_string(issues, form, "locationId", required=True)
    issues.raise_if_any()

    assert company_id is not None
    assert location_id is not None
    return company_id, location_id


def _response_body(
    access_token: str, expires_in: float, installation: Installation
) -> dict[str, Any]:
    """Return the keys of the spec's location token response that the sandbox can fill."""
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": " ".join(installation.scopes),
        "locationId": installation.location_ids[0],
        "userId": installation.user_id,
    }
