"""Helpers shared by the OAuth tests (this module has no tests): install the sandbox's app
and build clients on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hoop_async import HoopClient
from hoop_async.auth import (
    MemoryTokenStore,
    OAuthCredentials,
    TokenSet,
    TokenStore,
    exchange_code,
)
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.auth import DEFAULT_SCOPES


def oauth_config(**overrides: Any) -> SandboxConfig:
    """Sandbox settings of the OAuth tests: no seeded contacts and a budget that never throttles."""
    settings: dict[str, Any] = {"seed_contacts": 0, "rate_limit_max": 10_000}
    settings.update(overrides)
    return SandboxConfig(**settings)


async def install(
    sandbox: Sandbox,
    store: TokenStore,
    *,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    user_type: str = "Location",
) -> TokenSet:
    """Run the authorization-code flow of the sandbox's app and save the tokens in `store`."""
    location_id = sandbox.location_id if user_type == "Location" else None
    code = sandbox.issue_auth_code(location_id, scopes=scopes, user_type=user_type)
    return await exchange_code(
        code,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        store=store,
        user_type=user_type,
        base_url=sandbox.url,
    )


def credentials_for(
    sandbox: Sandbox, store: TokenStore | None = None, **kwargs: Any
) -> OAuthCredentials:
    kwargs.setdefault("key", sandbox.location_id)
    return OAuthCredentials(
        sandbox.client_id,
        sandbox.client_secret,
        store=store if store is not None else MemoryTokenStore(),
        base_url=sandbox.url,
        **kwargs,
    )


@asynccontextmanager
async def oauth_client(
    sandbox: Sandbox, credentials: OAuthCredentials, **kwargs: Any
) -> AsyncIterator[HoopClient]:
    """Yield a HoopClient on `credentials`; close both on exit."""
    kwargs.setdefault("location_id", sandbox.location_id)
    async with (
        credentials,
        HoopClient(credentials=credentials, base_url=sandbox.url, **kwargs) as client,
    ):
        yield client


async def sleep_until_refresh_due(store: TokenStore, key: str, margin: float) -> None:
    """Sleep until the stored access token is within its refresh margin."""
    tokens = await store.get(key)
    assert tokens is not None
    lifetime = tokens.expires_at - tokens.obtained_at
    delay = tokens.expires_at - min(margin, lifetime / 2) - time.time()
    assert delay < 5, f"the stored token is due for refresh only in {delay:.0f} s"
    await asyncio.sleep(max(0.0, delay) + 0.05)


def refreshes(sandbox: Sandbox) -> int:
    """Refresh-token grants the sandbox has served."""
    return sandbox.state.tokens.counters.grants["refresh_token"]
