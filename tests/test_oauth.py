"""OAuthCredentials through HoopClient against the sandbox: the authorization-code
flow, proactive and reactive refresh with one token request per key, reload
after invalid_grant, persist before use, and errors that never refresh."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from oauth_support import (
    credentials_for,
    install,
    oauth_client,
    oauth_config,
    refreshes,
    sleep_until_refresh_due,
)

from hoop_async import (
    HoopClient,
    LocationAccessError,
    ReauthorizationRequiredError,
    ScopeError,
    TokenError,
    VersionHeaderError,
)
from hoop_async.auth import (
    DEFAULT_REFRESH_MARGIN,
    Credentials,
    MemoryTokenStore,
    OAuthCredentials,
    TokenEndpointError,
    TokenSet,
    TokenStoreError,
    authorization_url,
)
from hoop_async.hooks import Hooks, TokenRefreshed
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.auth import READ_SCOPE

CALLS = 200


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return oauth_config()


class FlakyStore(MemoryTokenStore):
    """A MemoryTokenStore whose next `set` raises after `fail_next_set()`."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def fail_next_set(self, count: int = 1) -> None:
        self.failures = count

    async def set(self, key: str, tokens: TokenSet) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError(28, f"No space left on device while saving {tokens.refresh_token}")
        await super().set(key, tokens)


async def rotate_outside(sandbox: Sandbox, tokens: TokenSet) -> TokenSet:
    """Refresh `tokens` as another program would, without touching any store of the test."""
    other = credentials_for(sandbox)
    await other.store.set(sandbox.location_id, attrs.evolve(tokens, expires_at=0.0))
    async with other:
        return await other.tokens()


async def test_credentials_satisfy_protocol(hoop_sandbox: Sandbox) -> None:
    credentials = credentials_for(hoop_sandbox)

    assert isinstance(credentials, Credentials)


def test_authorization_url_shape() -> None:
    url = authorization_url(
        "CLIENT-1",
        redirect_uri="https://app.example.com/oauth/callback",
        scopes=["opportunities.readonly", "opportunities.write"],
        state="xyz 1",
    )

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://marketplace.gohighlevel.com/oauth/chooselocation"
    )
    assert query == {
        "response_type": ["code"],
        "redirect_uri": ["https://app.example.com/oauth/callback"],
        "client_id": ["CLIENT-1"],
        "scope": ["opportunities.readonly opportunities.write"],
        "state": ["xyz 1"],
    }
    assert "+" not in parts.query


async def test_exchange_code_saves_under_location(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()

    tokens = await install(hoop_sandbox, store)

    assert await store.get(hoop_sandbox.location_id) == tokens
    assert tokens.refresh_token
    assert hoop_sandbox.state.tokens.counters.grants == {"authorization_code": 1}


async def test_credentials_exchange_code_then_call(hoop_sandbox: Sandbox) -> None:
    credentials = credentials_for(hoop_sandbox)

    async with oauth_client(hoop_sandbox, credentials) as client:
        code = hoop_sandbox.issue_auth_code(hoop_sandbox.location_id)
        tokens = await credentials.exchange_code(code)
        pipelines = await client.opportunities.pipelines()

    assert pipelines
    assert await credentials.store.get(hoop_sandbox.location_id) == tokens
    assert hoop_sandbox.token_requests == 1


async def test_exchange_spent_code_is_token_endpoint_error(hoop_sandbox: Sandbox) -> None:
    code = hoop_sandbox.issue_auth_code(hoop_sandbox.location_id)
    credentials = credentials_for(hoop_sandbox)

    async with credentials:
        await credentials.exchange_code(code)
        with pytest.raises(TokenEndpointError) as caught:
            await credentials.exchange_code(code)

    assert caught.value.status == 400
    assert caught.value.error == "invalid_grant"


async def test_no_stored_tokens_is_token_error(hoop_sandbox: Sandbox) -> None:
    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox)) as client:
        with pytest.raises(TokenError, match="no tokens are stored under"):
            await client.opportunities.pipelines()

    assert hoop_sandbox.token_requests == 0


async def test_proactive_refresh_200_calls_one_request(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    # A 2 s token is due one second after the install; later tokens live an hour.
    hoop_sandbox.config.access_token_ttl = 2.0
    await install(hoop_sandbox, store)
    hoop_sandbox.config.access_token_ttl = 3600.0
    credentials = credentials_for(hoop_sandbox, store)

    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()
        await sleep_until_refresh_due(store, hoop_sandbox.location_id, DEFAULT_REFRESH_MARGIN)
        before = refreshes(hoop_sandbox)
        results = await asyncio.gather(
            *(client.opportunities.pipelines() for _ in range(CALLS)), return_exceptions=True
        )

    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures == []
    assert refreshes(hoop_sandbox) - before == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0
    assert client.stats.statuses[401] == 0


async def test_reactive_refresh_200_calls_one_request(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    credentials = credentials_for(hoop_sandbox, store)

    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()
        hoop_sandbox.state.tokens.expire_access_tokens()
        results = await asyncio.gather(
            *(client.opportunities.pipelines() for _ in range(CALLS)), return_exceptions=True
        )

    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures == []
    assert refreshes(hoop_sandbox) == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0
    assert client.stats.statuses[401] >= 1


async def test_shared_store_one_refresh_for_two_clients(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    first, second = credentials_for(hoop_sandbox, store), credentials_for(hoop_sandbox, store)

    async with oauth_client(hoop_sandbox, first) as one, oauth_client(hoop_sandbox, second) as two:
        await asyncio.gather(one.opportunities.pipelines(), two.opportunities.pipelines())
        hoop_sandbox.state.tokens.expire_access_tokens()
        calls = [client.opportunities.pipelines() for client in (one, two) for _ in range(50)]
        results = await asyncio.gather(*calls, return_exceptions=True)

    assert [result for result in results if isinstance(result, BaseException)] == []
    assert refreshes(hoop_sandbox) == 1


async def test_stale_token_reuses_stored_one(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    first, second = credentials_for(hoop_sandbox, store), credentials_for(hoop_sandbox, store)

    async with oauth_client(hoop_sandbox, first) as one, oauth_client(hoop_sandbox, second) as two:
        await two.opportunities.pipelines()
        hoop_sandbox.state.tokens.expire_access_tokens()
        await one.opportunities.pipelines()
        await two.opportunities.pipelines()

    assert refreshes(hoop_sandbox) == 1
    assert two.stats.statuses[401] == 1


async def test_invalid_grant_reloads_newer_tokens(hoop_sandbox: Sandbox) -> None:
    class StaleOnceStore(MemoryTokenStore):
        """Serves an outdated entry once, like a replica that lags behind its primary."""

        stale: TokenSet | None = None

        async def get(self, key: str) -> TokenSet | None:
            if self.stale is not None:
                stale, self.stale = self.stale, None
                return stale
            return await super().get(key)

    store = StaleOnceStore()
    installed = await install(hoop_sandbox, store)
    rotated = await rotate_outside(hoop_sandbox, installed)
    await store.set(hoop_sandbox.location_id, rotated)
    store.stale = attrs.evolve(installed, expires_at=0.0)

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        await client.opportunities.pipelines()

    assert hoop_sandbox.state.tokens.counters.invalid_grants == 1
    assert refreshes(hoop_sandbox) == 2
    assert await store.get(hoop_sandbox.location_id) == rotated


async def test_invalid_grant_without_newer_tokens(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    installed = await install(hoop_sandbox, store)
    await rotate_outside(hoop_sandbox, installed)
    hoop_sandbox.state.tokens.expire_access_tokens()

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        for _ in range(3):
            with pytest.raises(ReauthorizationRequiredError, match="authorize the app again"):
                await client.opportunities.pipelines()

    assert hoop_sandbox.state.tokens.counters.invalid_grants == 1
    assert refreshes(hoop_sandbox) == 2
    assert await store.get(hoop_sandbox.location_id) == installed


async def test_failed_refresh_keeps_stored_tokens(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    installed = await install(hoop_sandbox, store)
    hoop_sandbox.state.tokens.expire_access_tokens()
    credentials = credentials_for(hoop_sandbox, store)
    credentials._endpoint._client_secret = "wrong-secret"

    async with oauth_client(hoop_sandbox, credentials) as client:
        with pytest.raises(TokenEndpointError) as caught:
            await client.opportunities.pipelines()

    assert caught.value.error == "invalid_client"
    assert await store.get(hoop_sandbox.location_id) == installed


async def test_new_tokens_saved_before_use(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    installed = await install(hoop_sandbox, store)
    await store.set(hoop_sandbox.location_id, attrs.evolve(installed, expires_at=0.0))
    seen: list[tuple[TokenSet | None, TokenSet, int]] = []

    async def on_refresh(key: str, tokens: TokenSet) -> None:
        served = hoop_sandbox.requests[("GET", "/opportunities/pipelines")]
        seen.append((await store.get(key), tokens, served))

    credentials = credentials_for(hoop_sandbox, store, on_refresh=on_refresh)
    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()

    [(stored_then, new_tokens, served_then)] = seen
    assert stored_then == new_tokens
    assert new_tokens.refresh_token != installed.refresh_token
    assert served_then == 0
    assert hoop_sandbox.requests[("GET", "/opportunities/pipelines")] == 1


async def test_refresh_emits_hook_event(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    events: list[TokenRefreshed] = []
    credentials = credentials_for(hoop_sandbox, store, hooks=Hooks(token_refreshed=[events.append]))

    async with oauth_client(hoop_sandbox, credentials) as client:
        await client.opportunities.pipelines()
        hoop_sandbox.state.tokens.expire_access_tokens()
        await client.opportunities.pipelines()

    [event] = events
    assert event.key == hoop_sandbox.location_id
    assert event.expires_in is not None
    assert 0 < event.expires_in <= 86399


async def test_failed_save_kept_and_saved_later(hoop_sandbox: Sandbox) -> None:
    store = FlakyStore()
    installed = await install(hoop_sandbox, store)
    hoop_sandbox.state.tokens.expire_access_tokens()
    store.fail_next_set()

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        with pytest.raises(TokenStoreError, match="could not be saved") as caught:
            await client.opportunities.pipelines()
        stored_after_failure = await store.get(hoop_sandbox.location_id)
        await client.opportunities.pipelines()

    saved = await store.get(hoop_sandbox.location_id)
    assert stored_after_failure == installed
    assert saved is not None
    assert saved.refresh_token != installed.refresh_token
    assert refreshes(hoop_sandbox) == 1
    assert client.stats.statuses[401] == 1
    assert client.stats.statuses[200] == 1
    assert saved.refresh_token not in str(caught.value)


async def test_cancelled_caller_does_not_lose_refresh(hoop_sandbox: Sandbox) -> None:
    class SlowStore(MemoryTokenStore):
        saving = asyncio.Event()

        async def set(self, key: str, tokens: TokenSet) -> None:
            self.saving.set()
            await asyncio.sleep(0.2)
            await super().set(key, tokens)

    store = SlowStore()
    installed = await install(hoop_sandbox, store)
    await MemoryTokenStore.set(
        store, hoop_sandbox.location_id, attrs.evolve(installed, expires_at=0)
    )
    store.saving.clear()

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        call = asyncio.ensure_future(client.opportunities.pipelines())
        await store.saving.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await client.opportunities.pipelines()

    saved = await store.get(hoop_sandbox.location_id)
    assert saved is not None
    assert saved.refresh_token != installed.refresh_token
    assert refreshes(hoop_sandbox) == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0


async def test_scope_401_without_token_request(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store, scopes=(READ_SCOPE,))
    contact = hoop_sandbox.add_contact(hoop_sandbox.location_id, name="Scope Test")
    pipeline_id = hoop_sandbox.pipelines()[0]["id"]

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        with pytest.raises(ScopeError):
            await client.opportunities.create(
                name="Deal", pipeline_id=pipeline_id, contact_id=contact["id"]
            )

    assert hoop_sandbox.token_requests == 1
    assert client.stats.statuses[401] == 1


async def test_location_403_without_token_request(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    other = hoop_sandbox.add_location("Second office")

    async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
        with pytest.raises(LocationAccessError):
            await client.opportunities.pipelines(other)

    assert hoop_sandbox.token_requests == 1
    assert client.stats.statuses[403] == 1


async def test_version_401_without_token_request(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    credentials = credentials_for(hoop_sandbox, store)

    async with oauth_client(hoop_sandbox, credentials, version="1999-01-01") as client:
        with pytest.raises(VersionHeaderError):
            await client.opportunities.pipelines()

    assert hoop_sandbox.token_requests == 1


async def test_refresh_after_close_reopens(hoop_sandbox: Sandbox) -> None:
    store = MemoryTokenStore()
    await install(hoop_sandbox, store)
    credentials = credentials_for(hoop_sandbox, store)
    await credentials.aclose()

    async with oauth_client(hoop_sandbox, credentials) as client:
        hoop_sandbox.state.tokens.expire_access_tokens()
        await client.opportunities.pipelines()

    assert refreshes(hoop_sandbox) == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"client_id": ""}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"key": " "}, "key"),
        ({"refresh_margin": -1}, "refresh_margin"),
    ],
)
def test_credentials_reject_bad_arguments(override: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"client_id": "CLIENT", "client_secret": "SECRET", "key": "LOC"}
    arguments.update(override)

    with pytest.raises(ValueError, match=f"invalid {field}="):
        OAuthCredentials(**arguments)


async def test_static_token_client_unchanged(hoop_sandbox: Sandbox) -> None:
    async with HoopClient(
        token=hoop_sandbox.token, base_url=hoop_sandbox.url, location_id=hoop_sandbox.location_id
    ) as client:
        pipelines = await client.opportunities.pipelines()

    assert pipelines
    assert hoop_sandbox.token_requests == 0
