"""The no-duplicate rule: one card per contact per pipeline (or per location),
whatever the existing card's status, unless the location allows duplicates."""

from __future__ import annotations

import pytest

from hoop_async.sandbox import SandboxConfig

from .api import Api, open_api


async def test_duplicate_body_matches_sample(api: Api) -> None:
    first = await api.create()
    body = api.create_body(contactId=first["contactId"])

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 400
    assert set(reply.body) == {"statusCode", "message", "code", "meta", "error", "traceId"}
    assert reply.body["statusCode"] == 400
    assert reply.body["message"] == "Can not create duplicate opportunity for the contact."
    assert reply.body["code"] == "OPPORTUNITY_NO_DUPLICATE"
    assert reply.body["meta"] == {"existingId": first["id"]}
    assert reply.body["error"] == "Bad Request"


@pytest.mark.parametrize("status", ["won", "lost", "abandoned"])
async def test_duplicate_whatever_existing_status(api: Api, status: str) -> None:
    first = await api.create(status=status)

    reply = await api.post("/opportunities/", json=api.create_body(contactId=first["contactId"]))

    assert reply.status == 400
    assert reply.body["meta"]["existingId"] == first["id"]


async def test_other_pipeline_allowed_by_default(api: Api) -> None:
    first = await api.create()
    body = api.create_body(contactId=first["contactId"], pipelineId=api.pipeline(1)["id"])

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 201


async def test_location_scope_blocks_other_pipeline() -> None:
    config = SandboxConfig(duplicate_scope="location", seed_contacts=0)
    async with open_api(config) as api:
        first = await api.create()
        body = api.create_body(contactId=first["contactId"], pipelineId=api.pipeline(1)["id"])

        reply = await api.post("/opportunities/", json=body)

    assert reply.status == 400
    assert reply.body["meta"]["existingId"] == first["id"]


async def test_location_setting_allows_duplicates(api: Api) -> None:
    api.sandbox.set_location_setting(api.location_id, allow_duplicate_opportunity=True)
    first = await api.create()

    reply = await api.post("/opportunities/", json=api.create_body(contactId=first["contactId"]))

    assert reply.status == 201
    assert reply.body["opportunity"]["id"] != first["id"]
