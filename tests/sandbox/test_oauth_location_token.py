"""POST /oauth/locationToken: agency tokens obtain location tokens; Version header,
form body, Company token with oauth.write, and the location's company are required."""

from __future__ import annotations

from typing import Any

from hoop_async.sandbox.auth import DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE

from .api import Api

LOCATION_TOKEN = "/oauth/locationToken"
AGENCY_SCOPES = (*DEFAULT_SCOPES, LOCATION_TOKEN_SCOPE)


def agency_token(api: Api, scopes: tuple[str, ...] = AGENCY_SCOPES) -> str:
    return api.sandbox.issue_token(location_ids=[], scopes=scopes, user_type="Company")


def location_form(api: Api, location_id: str | None = None) -> dict[str, str]:
    return {"companyId": api.sandbox.company_id, "locationId": location_id or api.location_id}


async def request_location_token(api: Api, **kwargs: Any) -> Any:
    kwargs.setdefault("token", agency_token(api))
    kwargs.setdefault("data", location_form(api))
    return await api.post(LOCATION_TOKEN, **kwargs)


async def test_location_token_keys(api: Api) -> None:
    reply = await request_location_token(api)

    assert reply.status == 200, reply.body
    assert list(reply.body) == [
        "access_token", "token_type", "expires_in", "scope", "locationId", "userId"
    ]  # fmt: skip
    assert reply.body["locationId"] == api.location_id
    assert reply.body["expires_in"] == 86399
    assert "refresh_token" not in reply.body


async def test_location_token_works_for_location(api: Api) -> None:
    reply = await request_location_token(api)
    token = reply.body["access_token"]

    pipelines = await api.get(
        "/opportunities/pipelines", token=token, params={"locationId": api.location_id}
    )

    assert pipelines.status == 200


async def test_location_token_forbidden_elsewhere(api: Api) -> None:
    other = api.sandbox.add_location("Second office")
    token = (await request_location_token(api)).body["access_token"]

    pipelines = await api.get("/opportunities/pipelines", token=token, params={"locationId": other})

    assert pipelines.status == 403


async def test_location_token_needs_version(api: Api) -> None:
    reply = await request_location_token(api, version=None)

    assert reply.status == 401
    assert reply.body["message"] == "version header was not found."


async def test_location_token_needs_valid_token(api: Api) -> None:
    reply = await request_location_token(api, token="not-a-token")

    assert reply.status == 401
    assert reply.body["message"] == "Invalid JWT"


async def test_location_token_rejects_location_token(api: Api) -> None:
    reply = await request_location_token(api, token=api.sandbox.token)

    assert reply.status == 401
    assert reply.body["message"] == "The token is not authorized for this scope."


async def test_location_token_needs_oauth_write(api: Api) -> None:
    reply = await request_location_token(api, token=agency_token(api, DEFAULT_SCOPES))

    assert reply.status == 401
    assert reply.body["message"] == "The token is not authorized for this scope."


async def test_location_token_rejects_json_body(api: Api) -> None:
    reply = await request_location_token(api, data=None, json=location_form(api))

    assert reply.status == 400
    assert reply.body["error"] == "invalid_request"


async def test_location_token_missing_fields_422(api: Api) -> None:
    reply = await request_location_token(api, data={"locationId": api.location_id})

    assert reply.status == 422
    assert reply.body["message"] == [
        "companyId should not be empty",
        "companyId must be a string",
    ]


async def test_location_token_foreign_company_403(api: Api) -> None:
    data = {"companyId": "SomeOtherCompany0001", "locationId": api.location_id}

    reply = await request_location_token(api, data=data)

    assert reply.status == 403


async def test_location_token_unknown_location_400(api: Api) -> None:
    reply = await request_location_token(api, data=location_form(api, "UnknownLocation00001"))

    assert reply.status == 400
    assert reply.body["message"] == "Location UnknownLocation00001 not found."


async def test_location_token_requests_counted(api: Api) -> None:
    await request_location_token(api)
    await request_location_token(api, version=None)

    assert api.sandbox.state.tokens.counters.location_token_requests == 2
    assert api.sandbox.token_requests == 0
    assert api.sandbox.requests[("POST", LOCATION_TOKEN)] == 2
