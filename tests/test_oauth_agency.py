"""Agency (Company) installations: each location's requests use that location's
token from POST /oauth/locationToken, cached, fetched once under concurrency,
renewed after a 401, and never obtained with a token that lacks the scope."""

from __future__ import annotations

import asyncio

import pytest
from oauth_support import credentials_for, install, oauth_client, oauth_config, refreshes

from hoop_async import ScopeError
from hoop_async.auth import MemoryTokenStore, OAuthCredentials
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.auth import DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE

AGENCY_SCOPES = (*DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE)


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return oauth_config()


async def agency_credentials(
    sandbox: Sandbox, scopes: tuple[str, ...] = AGENCY_SCOPES
) -> OAuthCredentials:
    store = MemoryTokenStore()
    await install(sandbox, store, scopes=scopes, user_type="Company")
    return credentials_for(sandbox, store, key=sandbox.company_id)


def location_token_requests(sandbox: Sandbox) -> int:
    return sandbox.state.tokens.counters.location_token_requests


async def test_company_install_saved_under_company(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()

    tokens = await install(hoop_sandbox, store, scopes=AGENCY_SCOPES, user_type="Company")

    assert tokens.is_agency
    assert tokens.location_id is None
    assert await store.get(hoop_sandbox.company_id) == tokens


async def test_location_calls_use_one_location_token(hoop_sandbox: Sandbox) -> None:
    credentials = await agency_credentials(hoop_sandbox)

    async with oauth_client(hoop_sandbox, credentials) as client:
        for _ in range(5):
            await client.opportunities.pipelines()
        company_token = (await credentials.tokens()).access_token
        location_token = await credentials.access_token(hoop_sandbox.location_id)

    assert location_token_requests(hoop_sandbox) == 1
    assert location_token != company_token
    assert await credentials.access_token(None) == company_token


async def test_each_location_gets_its_token(hoop_sandbox: Sandbox) -> None:
    other = hoop_sandbox.add_location("Second office")
    credentials = await agency_credentials(hoop_sandbox)

    async with oauth_client(hoop_sandbox, credentials) as client:
        first = await client.opportunities.pipelines(hoop_sandbox.location_id)
        second = await client.opportunities.pipelines(other)
        first_token = await credentials.access_token(hoop_sandbox.location_id)
        second_token = await credentials.access_token(other)

    assert first
    assert second
    assert first_token != second_token
    assert location_token_requests(hoop_sandbox) == 2


async def test_location_token_single_flight(hoop_sandbox: Sandbox) -> None:
    credentials = await agency_credentials(hoop_sandbox)

    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()
        hoop_sandbox.state.tokens.expire_access_tokens()
        results = await asyncio.gather(
            *(client.opportunities.pipelines() for _ in range(50)), return_exceptions=True
        )

    assert [result for result in results if isinstance(result, BaseException)] == []
    # The first, the one the expired agency token got a 401 for, and its resend.
    assert location_token_requests(hoop_sandbox) == 3
    assert refreshes(hoop_sandbox) == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0


async def test_rejected_location_token_renewed_alone(hoop_sandbox: Sandbox) -> None:
    credentials = await agency_credentials(hoop_sandbox)

    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()
        stale = await credentials.access_token(hoop_sandbox.location_id)
        await credentials.token_rejected(hoop_sandbox.location_id, stale)
        await client.opportunities.pipelines()
        renewed = await credentials.access_token(hoop_sandbox.location_id)

    assert renewed != stale
    assert location_token_requests(hoop_sandbox) == 2
    assert refreshes(hoop_sandbox) == 0


async def test_agency_without_oauth_write_is_scope_error(hoop_sandbox: Sandbox) -> None:
    credentials = await agency_credentials(hoop_sandbox, scopes=DEFAULT_SCOPES)

    async with oauth_client(hoop_sandbox, credentials) as client:
        with pytest.raises(ScopeError):
            await client.opportunities.pipelines()

    assert location_token_requests(hoop_sandbox) == 1
    assert hoop_sandbox.token_requests == 1
