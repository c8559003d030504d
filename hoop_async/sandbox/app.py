"""The aiohttp application: routes, request counting, and the checks every
request passes in the live API's order: Version header, bearer token, rate
limit, scope, then (in the handlers) location access, validation and the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs
from aiohttp import web

from hoop_async.sandbox import catalog_routes, opportunity_routes, responses, search_routes
from hoop_async.sandbox.auth import (
    CUSTOM_FIELDS_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
    bearer_token,
    check_version,
    require_scope,
)
from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.context import (
    STATE_KEY,
    current_installation,
    installation_of,
    state_of,
)
from hoop_async.sandbox.faults import apply_fault, pick_fault
from hoop_async.sandbox.oauth import token_endpoint
from hoop_async.sandbox.ratelimit import too_many_requests
from hoop_async.sandbox.seed import build_state
from hoop_async.sandbox.store import SandboxState
from hoop_async.sandbox.upsert import upsert_opportunity

if TYPE_CHECKING:
    from hoop_async.sandbox.server import Sandbox

logger = logging.getLogger("hoop_async.sandbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OAUTH_PREFIX = "/oauth/"
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
"""Event set when the server shuts down; hanging fault-injected requests end on it."""


@attrs.define(frozen=True)
class Route:
    """One route: method, path, handler, and the scope it needs (None: no token)."""

    method: str
    path: str
    handler: Handler
    scope: str | None


# Static paths come before /opportunities/{id}, which would otherwise match them.
ROUTES = (
    Route("GET", "/opportunities/search", search_routes.get_search, READ_SCOPE),
    Route("POST", "/opportunities/search", search_routes.post_search, READ_SCOPE),
    Route("GET", "/opportunities/pipelines", catalog_routes.get_pipelines, READ_SCOPE),
    Route("GET", "/opportunities/lost-reason", catalog_routes.get_lost_reasons, READ_SCOPE),
    Route(
        "GET",
        "/locations/{locationId}/customFields",
        catalog_routes.get_custom_fields,
        CUSTOM_FIELDS_SCOPE,
    ),
    Route("POST", "/opportunities/upsert", upsert_opportunity, WRITE_SCOPE),
    Route("POST", "/opportunities/", opportunity_routes.create_opportunity, WRITE_SCOPE),
    Route("POST", "/opportunities", opportunity_routes.create_opportunity, WRITE_SCOPE),
    Route("GET", "/opportunities/{id}", opportunity_routes.get_opportunity, READ_SCOPE),
    Route("PUT", "/opportunities/{id}", opportunity_routes.update_opportunity, WRITE_SCOPE),
    Route("DELETE", "/opportunities/{id}", opportunity_routes.delete_opportunity, WRITE_SCOPE),
    Route("PUT", "/opportunities/{id}/status", opportunity_routes.update_status, WRITE_SCOPE),
    Route("POST", "/opportunities/{id}/followers", opportunity_routes.add_followers, WRITE_SCOPE),
    Route(
        "DELETE", "/opportunities/{id}/followers", opportunity_routes.remove_followers, WRITE_SCOPE
    ),
    Route("POST", "/oauth/token", token_endpoint, None),
    Route("POST", "/oauth/locationToken", token_endpoint, None),
)
ROUTE_ALIASES = {"/opportunities": "/opportunities/"}


def create_app(
    source: Sandbox | SandboxState | None = None, *, config: SandboxConfig | None = None
) -> web.Application:
    """Build the application that serves a sandbox, for hosting it yourself.

    `source` is a Sandbox (started or not) or its `state`, so the seeding API
    and the served data stay the same. Without a source, a new seeded state is
    built from `config` (default settings when None), and `app[STATE_KEY]`
    returns it.
    """
    state = _state_of(source, config)
    app = web.Application(
        middlewares=[
            _outer_middleware,
            _fault_middleware,
            _version_middleware,
            _auth_middleware,
            _rate_limit_middleware,
        ]
    )
    app[STATE_KEY] = state
    app[STOPPING_KEY] = asyncio.Event()
    app.on_shutdown.append(_release_hanging_requests)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, _with_scope(route.handler, route.scope))
    return app


async def _release_hanging_requests(app: web.Application) -> None:
    app[STOPPING_KEY].set()


def _state_of(source: Sandbox | SandboxState | None, config: SandboxConfig | None) -> SandboxState:
    if source is None:
        return build_state(config or SandboxConfig())
    if isinstance(source, SandboxState):
        return source
    return source.state


def _with_scope(handler: Handler, scope: str | None) -> Handler:
    if scope is None:
        return handler

    async def scoped(request: web.Request) -> web.StreamResponse:
        require_scope(installation_of(request), scope)
        return await handler(request)

    return scoped


def _route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return ROUTE_ALIASES.get(template, template)


def _error_response(request: web.Request, error: responses.ApiError) -> web.Response:
    """Log an API error at DEBUG (route and message, never headers) and build its response."""
    logger.debug(
        "%s %s failed with %d: %s",
        request.method,
        request.path,
        error.status,
        error.message_text or error.body.get("error"),
    )
    return error.to_response()


def _is_oauth(request: web.Request) -> bool:
    return request.path.startswith(OAUTH_PREFIX)


@web.middleware
async def _outer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request, turn unknown paths and errors into JSON responses."""
    route_error = request.match_info.http_exception
    if route_error is not None:
        return _error_response(request, responses.route_not_found(request.method, request.path))
    state_of(request).requests[(request.method, _route_template(request))] += 1
    try:
        return await handler(request)
    except responses.ApiError as error:
        return _error_response(request, error)
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("unexpected error on %s %s", request.method, _route_template(request))
        return responses.internal_error().to_response()


@web.middleware
async def _fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the configured latency and faults, as a proxy in front of the API would."""
    state = state_of(request)
    if not state.config.faults:
        return await handler(request)
    route = f"{request.method} {_route_template(request)}"
    picked = pick_fault(state.config.faults, route, state.fault_random)
    if picked is None:
        return await handler(request)
    rule, kind = picked
    if kind != "none":
        state.faults[(kind, route)] += 1
        logger.debug("injecting %s on %s", kind, route)
    stopping = request.app[STOPPING_KEY]
    return await apply_fault(request, handler, rule, kind, state.fault_random, stopping)


@web.middleware
async def _version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require a known Version header on every route but the OAuth ones."""
    if not _is_oauth(request):
        check_version(request.headers.get("Version"), state_of(request).config.accepted_versions)
    return await handler(request)


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the bearer token and reject a missing, unknown or expired one (401)."""
    if _is_oauth(request):
        return await handler(request)
    token = bearer_token(request.headers.get("Authorization"))
    installation = state_of(request).tokens.resolve(token) if token else None
    if installation is None:
        raise responses.invalid_jwt()
    reset_token = current_installation.set(installation)
    try:
        return await handler(request)
    finally:
        current_installation.reset(reset_token)


@web.middleware
async def _rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request in its bucket and add the X-RateLimit-* headers to any response.

    Requests without a valid token belong to no bucket and carry no such headers.
    """
    if _is_oauth(request):
        return await handler(request)
    state = state_of(request)
    decision = state.rate_limiter.acquire(installation_of(request).rate_limit_bucket)
    if not decision.allowed:
        logger.debug("rate limit reached on %s %s", request.method, _route_template(request))
        return too_many_requests(state.config, decision).to_response()
    try:
        response = await handler(request)
    except responses.ApiError as error:
        response = _error_response(request, error)
    response.headers.update(decision.headers)
    return response
