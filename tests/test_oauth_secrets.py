"""Access tokens, refresh tokens, authorization codes and the client secret never
appear in DEBUG logs, reprs or exception text, across every OAuth path."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import attrs
import pytest
from oauth_support import credentials_for, install, oauth_client, oauth_config

from hoop_async import HoopClient, HoopError
from hoop_async.auth import FileTokenStore, MemoryTokenStore, OAuthCredentials, TokenSet
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.auth import DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return oauth_config()


class RecordingCredentials:
    """Passes every call to OAuthCredentials and remembers each token it hands out."""

    def __init__(self, inner: OAuthCredentials, seen: set[str]) -> None:
        self.inner = inner
        self.seen = seen

    async def access_token(self, location_id: str | None) -> str:
        token = await self.inner.access_token(location_id)
        self.seen.add(token)
        return token

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        return await self.inner.token_rejected(location_id, token)


class LeakyFailingStore(MemoryTokenStore):
    """A store whose error message quotes the refresh token it failed to save."""

    fail = False

    async def set(self, key: str, tokens: TokenSet) -> None:
        if self.fail:
            self.fail = False
            raise OSError(f"cannot save refresh token {tokens.refresh_token}")
        await super().set(key, tokens)


class Evidence:
    """Secrets handed out during a test, and every text the library produced."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.texts: list[str] = []
        self.errors: list[str] = []

    def add_tokens(self, tokens: TokenSet) -> None:
        self.secrets.add(tokens.access_token)
        if tokens.refresh_token:
            self.secrets.add(tokens.refresh_token)
        self.texts.append(repr(tokens))

    def add_error(self, error: BaseException) -> None:
        self.errors.append(type(error).__name__)
        self.texts.append(str(error))
        self.texts.append(repr(error))
        self.texts.append("".join(traceback.format_exception(error)))

    async def expect_error(self, call: object) -> None:
        with pytest.raises(HoopError) as caught:
            await call  # type: ignore[misc]
        self.add_error(caught.value)


async def run_location_paths(sandbox: Sandbox, evidence: Evidence) -> None:
    store = LeakyFailingStore()
    evidence.add_tokens(await install(sandbox, store))

    async def on_refresh(key: str, tokens: TokenSet) -> None:
        evidence.add_tokens(tokens)

    credentials = credentials_for(sandbox, store, on_refresh=on_refresh)
    recording = RecordingCredentials(credentials, evidence.secrets)
    async with (
        credentials,
        HoopClient(
            credentials=recording, base_url=sandbox.url, location_id=sandbox.location_id
        ) as client,
    ):
        await client.opportunities.pipelines()
        sandbox.state.tokens.expire_access_tokens()
        await client.opportunities.pipelines()

        sandbox.state.tokens.expire_access_tokens()
        store.fail = True
        await evidence.expect_error(client.opportunities.pipelines())
        await client.opportunities.pipelines()

        stored = await store.get(sandbox.location_id)
        assert stored is not None
        await store.set(sandbox.location_id, attrs.evolve(stored, refresh_token="dead-refresh"))
        evidence.secrets.add("dead-refresh")
        sandbox.state.tokens.expire_access_tokens()
        await evidence.expect_error(client.opportunities.pipelines())

        evidence.texts += [repr(credentials), repr(store), repr(client)]


async def run_agency_paths(sandbox: Sandbox, evidence: Evidence) -> None:
    store = MemoryTokenStore()
    scopes = (*DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE)
    evidence.add_tokens(await install(sandbox, store, scopes=scopes, user_type="Company"))
    credentials = credentials_for(sandbox, store, key=sandbox.company_id)
    recording = RecordingCredentials(credentials, evidence.secrets)

    async with (
        credentials,
        HoopClient(
            credentials=recording, base_url=sandbox.url, location_id=sandbox.location_id
        ) as client,
    ):
        await client.opportunities.pipelines()
        sandbox.state.tokens.expire_access_tokens()
        await client.opportunities.pipelines()
        evidence.texts.append(repr(credentials))


async def run_failing_paths(sandbox: Sandbox, evidence: Evidence, tmp_path: Path) -> None:
    store = MemoryTokenStore()
    evidence.add_tokens(await install(sandbox, store))
    wrong = credentials_for(sandbox, store)
    wrong._endpoint._client_secret = "wrong-client-secret"
    evidence.secrets.add("wrong-client-secret")
    sandbox.state.tokens.expire_access_tokens()
    async with oauth_client(sandbox, wrong) as client:
        await evidence.expect_error(client.opportunities.pipelines())

    code = sandbox.issue_auth_code(sandbox.location_id)
    evidence.secrets.add(code)
    async with credentials_for(sandbox) as spender:
        await spender.exchange_code(code)
        await evidence.expect_error(spender.exchange_code(code))

    broken = tmp_path / "tokens.json"
    broken.write_text('{"tokens": {"L": {"access_token": "broken-file-secret", ')
    evidence.secrets.add("broken-file-secret")
    file_credentials = credentials_for(sandbox, FileTokenStore(broken), key="L")
    async with oauth_client(sandbox, file_credentials) as client:
        await evidence.expect_error(client.opportunities.pipelines())


async def test_secrets_absent_from_logs_reprs_errors(
    hoop_sandbox: Sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    evidence.secrets.add(hoop_sandbox.client_secret)

    await run_location_paths(hoop_sandbox, evidence)
    await run_agency_paths(hoop_sandbox, evidence)
    await run_failing_paths(hoop_sandbox, evidence, tmp_path)

    texts = [*evidence.texts, caplog.text, *(record.getMessage() for record in caplog.records)]
    leaks = sorted(
        {"..." + secret[-8:] for secret in evidence.secrets for text in texts if secret in text}
    )
    assert leaks == []
    assert evidence.errors == [
        "TokenStoreError",
        "ReauthorizationRequiredError",
        "TokenEndpointError",
        "InvalidGrantError",
        "TokenStoreError",
    ]
    assert len(evidence.secrets) >= 12
    assert any(record.name == "hoop_async.auth" for record in caplog.records)
    assert hoop_sandbox.state.tokens.counters.location_token_requests >= 2
