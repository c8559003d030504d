"""Order and bodies of the checks every request passes: Version header, bearer
token, scope, location, then validation."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from hoop_async.sandbox import SandboxConfig

from .api import Api, open_api

SEARCH = "/opportunities/search"


def assert_trace_id(body: dict[str, object]) -> None:
    assert isinstance(body["traceId"], str)
    assert uuid.UUID(body["traceId"]).version == 4


async def test_version_missing_is_401(api: Api) -> None:
    reply = await api.get(SEARCH, version=None, params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "version header was not found."
    assert reply.body["statusCode"] == 401
    assert_trace_id(reply.body)


async def test_version_unknown_is_401(api: Api) -> None:
    reply = await api.get(SEARCH, version="2024-01-01", params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "version header is invalid"


@pytest.mark.parametrize("version", ["2021-07-28", "2021-04-15", "2023-02-21", "v3"])
async def test_version_accepted_values(api: Api, version: str) -> None:
    reply = await api.get(SEARCH, version=version, params={"location_id": api.location_id})

    assert reply.status == 200


async def test_version_checked_before_token(api: Api) -> None:
    reply = await api.get(SEARCH, version=None, token=None, params={"location_id": "x"})

    assert reply.body["message"] == "version header was not found."


async def test_token_missing_is_invalid_jwt(api: Api) -> None:
    reply = await api.get(SEARCH, token=None, params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "Invalid JWT"
    assert_trace_id(reply.body)
    assert "X-RateLimit-Remaining" not in reply.headers


async def test_token_unknown_is_invalid_jwt(api: Api) -> None:
    reply = await api.get(SEARCH, token="not-a-token", params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "Invalid JWT"


async def test_token_expired_is_invalid_jwt(api: Api) -> None:
    token = api.sandbox.issue_token(ttl=0.05)
    await asyncio.sleep(0.1)

    reply = await api.get(SEARCH, token=token, params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "Invalid JWT"


async def test_config_ttl_expires_sandbox_token() -> None:
    async with open_api(SandboxConfig(access_token_ttl=0.05, seed_contacts=1)) as api:
        await asyncio.sleep(0.1)
        reply = await api.get(SEARCH, params={"location_id": api.location_id})

    assert reply.body["message"] == "Invalid JWT"


async def test_scope_missing_write_body_exact(api: Api) -> None:
    token = api.sandbox.issue_token(scopes=["opportunities.readonly"])

    reply = await api.post("/opportunities/", token=token, json=api.create_body())

    assert reply.status == 401
    assert reply.body == {
        "statusCode": 401,
        "message": "The token is not authorized for this scope.",
    }


async def test_scope_missing_readonly_on_get(api: Api) -> None:
    token = api.sandbox.issue_token(scopes=["opportunities.write"])

    reply = await api.get(SEARCH, token=token, params={"location_id": api.location_id})

    assert reply.status == 401
    assert reply.body["message"] == "The token is not authorized for this scope."


async def test_scope_checked_before_location(api: Api) -> None:
    other = api.sandbox.add_location("Other")
    token = api.sandbox.issue_token(scopes=["opportunities.readonly"])

    reply = await api.post("/opportunities/", token=token, json=api.create_body(locationId=other))

    assert reply.status == 401


async def test_location_forbidden_on_query(api: Api) -> None:
    other = api.sandbox.add_location("Other")

    reply = await api.get(SEARCH, params={"location_id": other})

    assert reply.status == 403
    assert reply.body["message"] == "The token does not have access to this location."
    assert reply.body["statusCode"] == 403
    assert_trace_id(reply.body)


async def test_location_forbidden_on_body(api: Api) -> None:
    other = api.sandbox.add_location("Other")

    reply = await api.post("/opportunities/", json=api.create_body(locationId=other))

    assert reply.status == 403


async def test_location_forbidden_on_record(api: Api) -> None:
    opportunity = await api.create()
    other = api.sandbox.add_location("Other")
    token = api.sandbox.issue_token(location_ids=[other])

    reply = await api.get(f"/opportunities/{opportunity['id']}", token=token)

    assert reply.status == 403
    assert reply.body["message"] == "The token does not have access to this location."


async def test_company_token_without_locations_forbidden(api: Api) -> None:
    token = api.sandbox.issue_token(location_ids=[], user_type="Company")

    reply = await api.get(SEARCH, token=token, params={"location_id": api.location_id})

    assert reply.status == 403
    assert reply.headers["X-RateLimit-Remaining"] == "99"


async def test_location_checked_before_validation(api: Api) -> None:
    other = api.sandbox.add_location("Other")

    reply = await api.get(SEARCH, params={"location_id": other, "bogus": "1"})

    assert reply.status == 403


async def test_validation_after_location(api: Api) -> None:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, "bogus": "1"})

    assert reply.status == 422


async def test_unknown_route_is_json_404(api: Api) -> None:
    reply = await api.get("/opportunities/search/extra")

    assert reply.status == 404
    assert reply.body["message"] == "Cannot GET /opportunities/search/extra"


async def test_invalid_json_body_is_400(api: Api) -> None:
    reply = await api.post("/opportunities/", data=b"{not json")

    assert reply.status == 400
    assert reply.body["error"] == "Bad Request"
    assert_trace_id(reply.body)


async def test_requests_counted_by_route_template(api: Api) -> None:
    opportunity = await api.create()
    await api.get(f"/opportunities/{opportunity['id']}")
    await api.get("/opportunities/unknown-id-000000000")
    await api.post("/opportunities", json=api.create_body())

    assert api.sandbox.requests[("POST", "/opportunities/")] == 2
    assert api.sandbox.requests[("GET", "/opportunities/{id}")] == 2
