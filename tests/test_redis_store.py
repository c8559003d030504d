"""RedisTokenStore against a real redis-server: round trips, the refresh lock across
clients, the fenced save, and the typed error when Redis cannot be reached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
from oauth_support import credentials_for, install, oauth_client, oauth_config
from redis_support import RedisServer, free_port, unique_prefix

from hoop_async._redis import RedisUnavailableError
from hoop_async.auth import TokenSet, TokenStore
from hoop_async.auth.redis_store import RedisTokenStore, TokenStoreUnavailableError
from hoop_async.sandbox import Sandbox, SandboxConfig

KEY = "LOC1"


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return oauth_config(access_token_ttl=2.0)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisTokenStore]:
    async with RedisTokenStore(redis_url, prefix=unique_prefix(), lease=1.0) as opened:
        yield opened


def token_set(refresh_token: str, access_token: str = "access") -> TokenSet:
    now = time.time()
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=now + 3600,
        obtained_at=now,
        user_type="Location",
        location_id=KEY,
    )


async def test_store_round_trip(store: RedisTokenStore) -> None:
    tokens = token_set("refresh-1")

    assert isinstance(store, TokenStore)
    assert await store.get(KEY) is None
    await store.set(KEY, tokens)
    assert await store.get(KEY) == tokens
    assert "refresh-1" not in repr(store)


async def test_lock_excludes_other_clients(redis_url: str, store: RedisTokenStore) -> None:
    order: list[str] = []
    async with RedisTokenStore(redis_url, prefix=store.prefix, lease=1.0) as other:
        async with store.lock(KEY):
            waiting = asyncio.ensure_future(_hold_then_note(other, order))
            await asyncio.sleep(0.3)
            order.append("first released")
        await waiting

    assert order == ["first released", "second held"]


async def _hold_then_note(store: RedisTokenStore, order: list[str]) -> None:
    async with store.lock(KEY):
        order.append("second held")


async def test_lock_outlives_its_lease_while_held(store: RedisTokenStore) -> None:
    async with store.lock(KEY):
        # Three leases long: the holder's renewals keep the lock alive.
        await asyncio.sleep(3 * store.lease)
        lock_value = await store.client.get(f"{store.prefix}:lock:{KEY}")
        assert lock_value is not None

    assert await store.client.get(f"{store.prefix}:lock:{KEY}") is None


async def test_fenced_set_keeps_newer_tokens(redis_url: str, store: RedisTokenStore) -> None:
    await store.set(KEY, token_set("refresh-1"))
    newer = token_set("refresh-from-new-authorization")
    async with RedisTokenStore(redis_url, prefix=store.prefix) as other, store.lock(KEY):
        started_from = await store.get(KEY)
        await other.set(KEY, newer)
        await store.set(KEY, token_set("refresh-2"))

    assert started_from is not None
    assert started_from.refresh_token == "refresh-1"
    assert await store.get(KEY) == newer


async def test_fenced_set_saves_successor(store: RedisTokenStore) -> None:
    await store.set(KEY, token_set("refresh-1"))
    async with store.lock(KEY):
        await store.get(KEY)
        await store.set(KEY, token_set("refresh-2"))
        await store.set(KEY, token_set("refresh-3"))

    saved = await store.get(KEY)
    assert saved is not None
    assert saved.refresh_token == "refresh-3"


async def test_set_without_read_needs_lock(store: RedisTokenStore) -> None:
    await store.set(KEY, token_set("refresh-1"))
    async with store.lock(KEY):
        # Another worker took the lock after this one's lease ran out.
        await store.client.set(f"{store.prefix}:lock:{KEY}", "another worker")
        await store.set(KEY, token_set("refresh-stale"))

    saved = await store.get(KEY)
    assert saved is not None
    assert saved.refresh_token == "refresh-1"


async def test_concurrent_refreshes_share_one_request(
    hoop_sandbox: Sandbox, redis_url: str, store: RedisTokenStore
) -> None:
    installed = await install(hoop_sandbox, store)
    await store.set(hoop_sandbox.location_id, attrs.evolve(installed, expires_at=time.time()))
    stores = [RedisTokenStore(redis_url, prefix=store.prefix) for _ in range(4)]
    clients = [credentials_for(hoop_sandbox, each) for each in stores]

    try:
        tokens = await asyncio.gather(*(each.tokens() for each in clients for _ in range(10)))
    finally:
        for credentials, each in zip(clients, stores, strict=True):
            await credentials.aclose()
            await each.aclose()

    counters = hoop_sandbox.state.tokens.counters
    assert counters.grants["refresh_token"] == 1
    assert counters.invalid_grants == 0
    assert len({each.access_token for each in tokens}) == 1


async def test_unreachable_redis_raises_typed_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    store = RedisTokenStore(url)
    try:
        with pytest.raises(TokenStoreUnavailableError, match="unreachable"):
            await store.ping()
        with pytest.raises(RedisUnavailableError):
            await store.get(KEY)
    finally:
        await store.aclose()


async def test_calls_fail_when_redis_stops(hoop_sandbox: Sandbox, tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    store = RedisTokenStore(server.url, prefix=unique_prefix(), lease=1.0)
    try:
        await install(hoop_sandbox, store)
        async with oauth_client(hoop_sandbox, credentials_for(hoop_sandbox, store)) as client:
            assert await client.opportunities.pipelines()
        server.stop()

        async with credentials_for(hoop_sandbox, store) as credentials:
            with pytest.raises(RedisUnavailableError, match="unreachable"):
                await credentials.tokens()
    finally:
        server.stop()
        await store.aclose()
