"""Token requests are sent again only when they provably had no effect: 429 and
503 responses and refused connections. Timeouts, dropped connections after the
request was sent and other errors are raised at once, because a refresh that
reached the server has already rotated the refresh token."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hoop_async import TokenError
from hoop_async.auth import (
    MemoryTokenStore,
    OAuthCredentials,
    TokenEndpointError,
    TokenRetryPolicy,
    TokenSet,
)

KEY = "LOCATION1"
STALE = TokenSet(
    access_token="old-access",
    refresh_token="old-refresh",
    expires_at=0.0,
    obtained_at=0.0,
    user_type="Location",
    location_id=KEY,
)
NEW_TOKENS = {
    "access_token": "new-access",
    "refresh_token": "new-refresh",
    "expires_in": 86399,
    "userType": "Location",
    "locationId": KEY,
}
NO_WAIT = TokenRetryPolicy(attempts=4, base_delay=0.0)


@attrs.define
class ScriptedTokenServer:
    """Responds to POST /oauth/token with queued actions and counts the requests."""

    url: str = ""
    actions: list[tuple[str, int, dict[str, str]]] = attrs.field(factory=list)
    requests: int = 0

    def then(self, action: str, status: int = 200, **headers: str) -> ScriptedTokenServer:
        self.actions.append((action, status, headers))
        return self

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.post()
        action, status, headers = self.actions.pop(0) if self.actions else ("tokens", 200, {})
        if action == "hang":
            await asyncio.sleep(30)
        if action == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        body: dict[str, Any] = NEW_TOKENS if status == 200 else {"message": "unavailable"}
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def token_server() -> AsyncIterator[ScriptedTokenServer]:
    scripted = ScriptedTokenServer()
    app = web.Application()
    app.router.add_post("/oauth/token", scripted.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    scripted.url = str(server.make_url("")).rstrip("/")
    try:
        yield scripted
    finally:
        await server.close()


async def refresh_through(base_url: str, **kwargs: Any) -> tuple[TokenSet, MemoryTokenStore]:
    store = MemoryTokenStore()
    await store.set(KEY, STALE)
    kwargs.setdefault("retry", NO_WAIT)
    credentials = OAuthCredentials(
        "CLIENT", "SECRET", key=KEY, store=store, base_url=base_url, **kwargs
    )
    async with credentials:
        return await credentials.tokens(), store


def retry_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "hoop_async.auth" and "sending it again" in record.getMessage()
    ]


async def test_503_retried_until_success(
    token_server: ScriptedTokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    token_server.then("status", 503).then("status", 503)

    tokens, store = await refresh_through(token_server.url)

    assert tokens.access_token == "new-access"
    assert await store.get(KEY) == tokens
    assert token_server.requests == 3
    assert len(retry_warnings(caplog)) == 2


async def test_429_retried_after_retry_after(token_server: ScriptedTokenServer) -> None:
    token_server.then("status", 429, **{"Retry-After": "0"})

    tokens, _ = await refresh_through(token_server.url)

    assert tokens.refresh_token == "new-refresh"
    assert token_server.requests == 2


async def test_503_gives_up_after_attempts(token_server: ScriptedTokenServer) -> None:
    for _ in range(4):
        token_server.then("status", 503)

    with pytest.raises(TokenEndpointError) as caught:
        await refresh_through(token_server.url)

    assert caught.value.status == 503
    assert token_server.requests == 4


async def test_500_not_retried(token_server: ScriptedTokenServer) -> None:
    token_server.then("status", 500)

    with pytest.raises(TokenEndpointError) as caught:
        await refresh_through(token_server.url)

    assert caught.value.status == 500
    assert token_server.requests == 1


async def test_timeout_not_retried(token_server: ScriptedTokenServer) -> None:
    token_server.then("hang")

    with pytest.raises(TokenError, match="may have processed it") as caught:
        await refresh_through(token_server.url, timeout=0.3)

    assert not isinstance(caught.value, TokenEndpointError)
    assert token_server.requests == 1


async def test_lost_answer_not_retried(token_server: ScriptedTokenServer) -> None:
    token_server.then("drop")

    with pytest.raises(TokenError, match="failed after it was sent"):
        await refresh_through(token_server.url)

    assert token_server.requests == 1


async def test_lost_answer_keeps_stored_tokens(token_server: ScriptedTokenServer) -> None:
    token_server.then("drop")
    store = MemoryTokenStore()
    await store.set(KEY, STALE)
    credentials = OAuthCredentials(
        "CLIENT", "SECRET", key=KEY, store=store, base_url=token_server.url, retry=NO_WAIT
    )

    async with credentials:
        with pytest.raises(TokenError):
            await credentials.tokens()

    assert await store.get(KEY) == STALE


async def test_refused_connection_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hoop_async.auth")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with pytest.raises(TokenError, match="could not connect"):
        await refresh_through(f"http://127.0.0.1:{closed_port}")

    assert len(retry_warnings(caplog)) == NO_WAIT.attempts - 1


@pytest.mark.parametrize(
    ("attempt", "retry_after", "ceiling"),
    [(1, None, 0.5), (2, None, 1.0), (3, None, 2.0), (10, None, 30.0), (1, 4.0, 4.0)],
)
def test_retry_delay_bounds(attempt: int, retry_after: float | None, ceiling: float) -> None:
    policy = TokenRetryPolicy()

    delays = [policy.delay(attempt, retry_after) for _ in range(50)]

    assert all(0 <= delay <= ceiling for delay in delays)


def test_retry_after_capped() -> None:
    assert TokenRetryPolicy(max_delay=10).delay(1, retry_after=120) == 10


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False)])
def test_retried_statuses(status: int, retried: bool) -> None:
    assert TokenRetryPolicy().retries_status(status) is retried
