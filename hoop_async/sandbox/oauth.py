"""Handler of POST /oauth/token: form-encoded grants authorization_code and
refresh_token. A refresh returns a new refresh token and retires the old one
at once, so reusing the old one fails with invalid_grant. The handler also
routes POST /oauth/locationToken to its own module.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from hoop_async.sandbox import responses
from hoop_async.sandbox.auth import Installation, TokenPair, read_form
from hoop_async.sandbox.context import state_of
from hoop_async.sandbox.location_token import LOCATION_TOKEN_PATH, location_token_endpoint
from hoop_async.sandbox.store import SandboxState
from hoop_async.sandbox.validation import Issues, check_choice, read_string

logger = logging.getLogger("hoop_async.sandbox")

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SUPPORTED_GRANT_TYPES = ("authorization_code", "refresh_token")


async def token_endpoint(request: web.Request) -> web.Response:
    """POST /oauth/token: 200 with the token pair, keys as the live API sends them.

    The same handler serves POST /oauth/locationToken, which it hands to
    `location_token_endpoint`, so one route table entry registers either path.
    """
    if request.path == LOCATION_TOKEN_PATH:
        return await location_token_endpoint(request)
    state = state_of(request)
    state.token_requests += 1
    form = await read_form(request)
    grant_type = _check_form(form)
    state.tokens.counters.grants[grant_type] += 1
    _authenticate_client(state, form["client_id"], form["client_secret"])

    if grant_type == "authorization_code":
        installation = _redeem_code(state, form)
    else:
        installation = _rotate_refresh_token(state, form)
    pair = state.tokens.issue_pair(installation, state.config.access_token_ttl)
    logger.info("issued tokens by %s grant for app %s", grant_type, installation.client_id)
    return web.json_response(token_response(pair))


def _check_form(form: dict[str, str]) -> str:
    issues = Issues()
    read_string(issues, form, "client_id", required=True)
    read_string(issues, form, "client_secret", required=True)
    grant_type = check_choice(issues, form.get("grant_type"), "grant_type", GRANT_TYPES)
    issues.raise_if_any()

    assert grant_type is not None
    if grant_type not in SUPPORTED_GRANT_TYPES:
        message = f"The sandbox supports only {' and '.join(SUPPORTED_GRANT_TYPES)}."
        raise responses.oauth_error(400, "unsupported_grant_type", message)
    return grant_type


def _authenticate_client(state: SandboxState, client_id: str, client_secret: str) -> None:
    app = state.tokens.apps.get(client_id)
    if app is None or app.client_secret != client_secret:
        description = "The client_id or client_secret is invalid."
        raise responses.oauth_error(401, "invalid_client", description)


def _redeem_code(state: SandboxState, form: dict[str, str]) -> Installation:
    code = form.get("code")
    if not code:
        raise responses.oauth_error(400, "invalid_request", "The code parameter is missing.")
    installation = state.tokens.redeem_auth_code(code, form["client_id"])
    if installation is None:
        raise _invalid_grant(state, "The authorization code is invalid, expired or already used.")
    return installation


def _rotate_refresh_token(state: SandboxState, form: dict[str, str]) -> Installation:
    refresh_token = form.get("refresh_token")
    if not refresh_token:
        message = "The refresh_token parameter is missing."
        raise responses.oauth_error(400, "invalid_request", message)
    installation = state.tokens.rotate_refresh_token(refresh_token, form["client_id"])
    if installation is None:
        raise _invalid_grant(state, "The refresh token is invalid or was already used.")
    return installation


def _invalid_grant(state: SandboxState, description: str) -> responses.ApiError:
    state.tokens.counters.invalid_grants += 1
    return responses.oauth_error(state.config.invalid_grant_status, "invalid_grant", description)


def token_response(pair: TokenPair) -> dict[str, Any]:
    """Return the token response body, which has no locationId for Company tokens."""
    installation = pair.installation
    body: dict[str, Any] = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_in": pair.expires_in,
        "token_type": "Bearer",
        "scope": " ".join(installation.scopes),
        "userType": installation.user_type,
        "companyId": installation.company_id,
    }
    if installation.user_type == "Location" and installation.location_ids:
        body["locationId"] = installation.location_ids[0]
    body["userId"] = installation.user_id
    body["refreshTokenId"] = pair.refresh_token_id
    body["isBulkInstallation"] = False
    return body
