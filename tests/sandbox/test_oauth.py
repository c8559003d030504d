"""POST /oauth/token: authorization_code and refresh_token grants, rotation of
refresh tokens, invalid_grant on reuse, and form-only bodies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from hoop_async.sandbox import SandboxConfig

from .api import Api, open_api

TOKEN = "/oauth/token"
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "oauth-token-response-location.json"
TOKEN_KEYS = [
    "access_token", "refresh_token", "expires_in", "token_type", "scope", "userType",
    "companyId", "locationId", "userId", "refreshTokenId", "isBulkInstallation",
]  # fmt: skip


def form(api: Api, **fields: str) -> dict[str, str]:
    return {
        "client_id": api.sandbox.client_id,
        "client_secret": api.sandbox.client_secret,
        **fields,
    }


async def exchange_code(api: Api) -> dict[str, Any]:
    code = api.sandbox.issue_auth_code(api.location_id)
    reply = await api.post(
        TOKEN, token=None, version=None, data=form(api, grant_type="authorization_code", code=code)
    )
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


async def refresh(api: Api, refresh_token: str) -> Any:
    data = form(api, grant_type="refresh_token", refresh_token=refresh_token)
    return await api.post(TOKEN, token=None, version=None, data=data)


async def test_code_grant_keys_as_sample(api: Api) -> None:
    body = await exchange_code(api)

    assert list(body) == TOKEN_KEYS
    assert body["expires_in"] == 86399
    assert body["token_type"] == "Bearer"
    assert body["userType"] == "Location"
    assert body["locationId"] == api.location_id
    assert body["companyId"] == api.sandbox.company_id
    assert body["scope"] == (
        "opportunities.readonly opportunities.write locations/customFields.readonly"
    )
    assert body["isBulkInstallation"] is False
    assert set(body) == set(json.loads(SAMPLE.read_text()))


async def test_code_grant_token_works(api: Api) -> None:
    body = await exchange_code(api)

    reply = await api.get(
        "/opportunities/pipelines",
        token=body["access_token"],
        params={"locationId": api.location_id},
    )

    assert reply.status == 200


async def test_code_is_single_use(api: Api) -> None:
    code = api.sandbox.issue_auth_code(api.location_id)
    data = form(api, grant_type="authorization_code", code=code)
    await api.post(TOKEN, token=None, version=None, data=data)

    reply = await api.post(TOKEN, token=None, version=None, data=data)

    assert reply.status == 400
    assert reply.body["error"] == "invalid_grant"


async def test_refresh_rotates_tokens(api: Api) -> None:
    first = await exchange_code(api)

    reply = await refresh(api, first["refresh_token"])

    assert reply.status == 200
    assert reply.body["refresh_token"] != first["refresh_token"]
    assert reply.body["access_token"] != first["access_token"]
    assert list(reply.body) == TOKEN_KEYS


async def test_refresh_reuse_is_invalid_grant(api: Api) -> None:
    first = await exchange_code(api)
    await refresh(api, first["refresh_token"])

    reply = await refresh(api, first["refresh_token"])

    assert reply.status == 400
    assert set(reply.body) == {"error", "error_description"}
    assert reply.body["error"] == "invalid_grant"


async def test_concurrent_refresh_one_wins(api: Api) -> None:
    first = await exchange_code(api)

    replies = await asyncio.gather(
        refresh(api, first["refresh_token"]), refresh(api, first["refresh_token"])
    )

    assert sorted(reply.status for reply in replies) == [200, 400]


async def test_rotated_refresh_token_works(api: Api) -> None:
    first = await exchange_code(api)
    second = (await refresh(api, first["refresh_token"])).body

    third = await refresh(api, second["refresh_token"])

    assert third.status == 200


async def test_invalid_grant_status_configurable() -> None:
    async with open_api(SandboxConfig(invalid_grant_status=401, seed_contacts=0)) as api:
        reply = await refresh(api, "never-issued")

    assert reply.status == 401
    assert reply.body["error"] == "invalid_grant"


async def test_json_body_rejected(api: Api) -> None:
    code = api.sandbox.issue_auth_code(api.location_id)
    body = form(api, grant_type="authorization_code", code=code)

    reply = await api.post(TOKEN, token=None, version=None, json=body)

    assert reply.status == 400
    assert reply.body["error"] == "invalid_request"


async def test_wrong_client_secret_is_401(api: Api) -> None:
    data = {"client_id": api.sandbox.client_id, "client_secret": "wrong"}
    data |= {"grant_type": "refresh_token", "refresh_token": "x"}

    reply = await api.post(TOKEN, token=None, version=None, data=data)

    assert reply.status == 401
    assert reply.body["error"] == "invalid_client"


async def test_missing_fields_are_422(api: Api) -> None:
    reply = await api.post(TOKEN, token=None, version=None, data={"grant_type": "password"})

    assert reply.status == 422
    assert reply.body["message"] == [
        "client_id should not be empty",
        "client_id must be a string",
        "client_secret should not be empty",
        "client_secret must be a string",
        "grant_type must be one of the following values: "
        "authorization_code, refresh_token, client_credentials",
    ]


async def test_client_credentials_unsupported(api: Api) -> None:
    reply = await api.post(
        TOKEN, token=None, version=None, data=form(api, grant_type="client_credentials")
    )

    assert reply.status == 400
    assert reply.body["error"] == "unsupported_grant_type"


async def test_company_code_has_no_location(api: Api) -> None:
    code = api.sandbox.issue_auth_code(user_type="Company")
    data = form(api, grant_type="authorization_code", code=code)

    reply = await api.post(TOKEN, token=None, version=None, data=data)

    assert reply.body["userType"] == "Company"
    assert "locationId" not in reply.body


async def test_token_requests_counted(api: Api) -> None:
    first = await exchange_code(api)
    await refresh(api, first["refresh_token"])

    assert api.sandbox.token_requests == 2
    assert api.sandbox.requests[("POST", TOKEN)] == 2


async def test_configured_ttl_in_response() -> None:
    async with open_api(SandboxConfig(access_token_ttl=3600, seed_contacts=0)) as api:
        body = await exchange_code(api)

    assert body["expires_in"] == 3600


async def test_grants_counted_by_type(api: Api) -> None:
    first = await exchange_code(api)
    await refresh(api, first["refresh_token"])
    await refresh(api, first["refresh_token"])

    counters = api.sandbox.state.tokens.counters
    assert counters.grants == {"authorization_code": 1, "refresh_token": 2}
    assert counters.invalid_grants == 1


async def test_refresh_lead_time_recorded(api: Api) -> None:
    first = await exchange_code(api)

    await refresh(api, first["refresh_token"])

    [lead_time] = api.sandbox.state.tokens.counters.refresh_lead_times
    assert 0 < lead_time <= 86399


async def test_expire_access_tokens_keeps_refresh(api: Api) -> None:
    first = await exchange_code(api)

    expired = api.sandbox.state.tokens.expire_access_tokens()
    old = await api.get(
        "/opportunities/pipelines",
        token=first["access_token"],
        params={"locationId": api.location_id},
    )
    renewed = await refresh(api, first["refresh_token"])

    assert expired >= 1
    assert old.status == 401
    assert old.body["message"] == "Invalid JWT"
    assert renewed.status == 200


async def test_fractional_ttl_kept_in_response() -> None:
    async with open_api(SandboxConfig(access_token_ttl=0.5, seed_contacts=0)) as api:
        body = await exchange_code(api)

    assert body["expires_in"] == 0.5
