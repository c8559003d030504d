"""Opportunity record routes: create, get, update, delete, status, followers,
and the record shape of the live API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from .api import Api

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NOT_FOUND = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "Opportunity not found",
    "code": "OPPORTUNITY_NOT_FOUND",
}
UNKNOWN_ID = "unknownOpportunity00"
RECORD_KEYS = {
    "id", "name", "monetaryValue", "pipelineId", "pipelineStageId", "pipelineStageUId",
    "assignedTo", "status", "source", "lastStatusChangeAt", "lastStageChangeAt",
    "lastActionDate", "createdAt", "updatedAt", "contactId", "locationId", "customFields",
    "lostReasonId", "followers", "isAttribute", "internalSource", "indexVersion", "relations",
    "contact", "attributions",
}  # fmt: skip


async def test_create_returns_201_with_record(api: Api) -> None:
    body = api.create_body(monetaryValue=1500, assignedTo=api.sandbox.users()[0])

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 201
    record = reply.body["opportunity"]
    assert set(record) == RECORD_KEYS
    assert re.fullmatch(r"[A-Za-z0-9]{20}", record["id"])
    assert record["monetaryValue"] == 1500
    assert record["pipelineStageId"] == api.pipeline()["stages"][0]["id"]
    assert record["pipelineStageUId"] == record["pipelineStageId"]
    assert record["indexVersion"] == 1
    assert isinstance(reply.body["traceId"], str)


async def test_create_timestamps_iso_ms(api: Api) -> None:
    record = await api.create()

    for key in ("createdAt", "updatedAt", "lastStatusChangeAt", "lastStageChangeAt"):
        assert ISO_MS.match(record[key]), key


async def test_create_contact_summary(api: Api) -> None:
    contact_id = api.new_contact("Robin Summary")

    record = await api.create(contactId=contact_id)

    contact = record["contact"]
    assert set(contact) == {"id", "name", "companyName", "email", "phone", "tags"}
    assert contact["id"] == contact_id
    assert contact["name"] == "Robin Summary"
    assert record["relations"][0]["recordId"] == contact_id
    assert record["relations"][0]["relationId"] == record["id"]


async def test_create_without_trailing_slash(api: Api) -> None:
    reply = await api.post("/opportunities", json=api.create_body())

    assert reply.status == 201


async def test_create_unknown_stage_is_400(api: Api) -> None:
    reply = await api.post("/opportunities/", json=api.create_body(pipelineStageId="nope"))

    assert reply.status == 400
    assert "nope" in reply.body["message"]


async def test_create_custom_fields_by_id_and_key(api: Api) -> None:
    fields = [{"id": "fieldA", "field_value": "blue"}, {"key": "budget", "field_value": ["x"]}]

    record = await api.create(customFields=fields)

    assert record["customFields"][0] == {"id": "fieldA", "fieldValue": "blue"}
    assert record["customFields"][1]["fieldValue"] == ["x"]
    assert re.fullmatch(r"[A-Za-z0-9]{20}", record["customFields"][1]["id"])


async def test_get_returns_record(api: Api) -> None:
    record = await api.create()

    reply = await api.get(f"/opportunities/{record['id']}")

    assert reply.status == 200
    assert reply.body["opportunity"] == record


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "x"}),
        ("DELETE", "", None),
        ("PUT", "/status", {"status": "won"}),
        ("POST", "/followers", {"followers": ["u1"]}),
        ("DELETE", "/followers", {"followers": ["u1"]}),
    ],
)
async def test_unknown_id_is_404_sample(
    api: Api, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    reply = await api.call(method, f"/opportunities/{UNKNOWN_ID}{suffix}", json=body)

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_update_changes_given_fields(api: Api) -> None:
    record = await api.create(monetaryValue=10)

    reply = await api.put(f"/opportunities/{record['id']}", json={"name": "Renamed"})

    updated = reply.body["opportunity"]
    assert reply.status == 200
    assert updated["name"] == "Renamed"
    assert updated["monetaryValue"] == 10
    assert updated["indexVersion"] == 2


async def test_update_stage_sets_last_stage_change(api: Api) -> None:
    record = await api.create()
    second_stage = api.pipeline()["stages"][1]["id"]
    await asyncio.sleep(0.01)

    reply = await api.put(f"/opportunities/{record['id']}", json={"pipelineStageId": second_stage})

    updated = reply.body["opportunity"]
    assert updated["pipelineStageId"] == second_stage
    assert updated["lastStageChangeAt"] > record["lastStageChangeAt"]
    assert updated["lastStatusChangeAt"] == record["lastStatusChangeAt"]


async def test_update_pipeline_moves_to_first_stage(api: Api) -> None:
    record = await api.create()
    onboarding = api.pipeline(1)

    reply = await api.put(f"/opportunities/{record['id']}", json={"pipelineId": onboarding["id"]})

    assert reply.body["opportunity"]["pipelineStageId"] == onboarding["stages"][0]["id"]


async def test_update_assignee_null_unassigns(api: Api) -> None:
    record = await api.create(assignedTo=api.sandbox.users()[0])

    reply = await api.put(f"/opportunities/{record['id']}", json={"assignedTo": None})

    assert reply.body["opportunity"]["assignedTo"] is None


async def test_delete_then_get_is_404(api: Api) -> None:
    record = await api.create()

    deleted = await api.delete(f"/opportunities/{record['id']}")
    reply = await api.get(f"/opportunities/{record['id']}")

    assert deleted.status == 200
    assert deleted.body["succeded"] is True
    assert reply.status == 404


async def test_status_lost_with_reason(api: Api) -> None:
    record = await api.create()
    reason = api.sandbox.lost_reasons()[0]["id"]
    await asyncio.sleep(0.01)

    reply = await api.put(
        f"/opportunities/{record['id']}/status", json={"status": "lost", "lostReasonId": reason}
    )
    stored = (await api.get(f"/opportunities/{record['id']}")).body["opportunity"]

    assert reply.status == 200
    assert reply.body["succeded"] is True
    assert stored["status"] == "lost"
    assert stored["lostReasonId"] == reason
    assert stored["lastStatusChangeAt"] > record["lastStatusChangeAt"]
    assert stored["lastStageChangeAt"] == record["lastStageChangeAt"]


async def test_status_reason_without_lost_is_422(api: Api) -> None:
    record = await api.create()
    reason = api.sandbox.lost_reasons()[0]["id"]

    reply = await api.put(
        f"/opportunities/{record['id']}/status", json={"status": "won", "lostReasonId": reason}
    )

    assert reply.status == 422
    assert reply.body["message"] == ["lostReasonId can only be set when status is lost"]


async def test_status_unknown_reason_is_422(api: Api) -> None:
    record = await api.create()

    reply = await api.put(
        f"/opportunities/{record['id']}/status", json={"status": "lost", "lostReasonId": "nope"}
    )

    assert reply.status == 422
    assert reply.body["message"] == ["lostReasonId nope is not a lost reason of this location"]


async def test_status_leaving_lost_clears_reason(api: Api) -> None:
    reason = api.sandbox.lost_reasons()[0]["id"]
    record = await api.create()
    path = f"/opportunities/{record['id']}"
    await api.put(f"{path}/status", json={"status": "lost", "lostReasonId": reason})

    await api.put(f"{path}/status", json={"status": "open"})

    assert (await api.get(path)).body["opportunity"]["lostReasonId"] is None


async def test_status_missing_is_422(api: Api) -> None:
    record = await api.create()

    reply = await api.put(f"/opportunities/{record['id']}/status", json={})

    assert reply.status == 422
    assert reply.body["message"] == [
        "status must be one of the following values: open, won, lost, abandoned"
    ]


async def test_followers_add_reports_added(api: Api) -> None:
    record = await api.create()
    first, second = api.sandbox.users()[:2]
    path = f"/opportunities/{record['id']}/followers"
    await api.post(path, json={"followers": [first]})

    reply = await api.post(path, json={"followers": [first, second]})

    assert reply.status == 201
    assert reply.body["followers"] == [first, second]
    assert reply.body["followersAdded"] == [second]


async def test_followers_remove_named(api: Api) -> None:
    record = await api.create()
    first, second = api.sandbox.users()[:2]
    path = f"/opportunities/{record['id']}/followers"
    await api.post(path, json={"followers": [first, second]})

    reply = await api.delete(path, json={"followers": [first]})

    assert reply.status == 200
    assert reply.body["followers"] == [second]
    assert reply.body["followersRemoved"] == [first]


async def test_followers_remove_all(api: Api) -> None:
    record = await api.create()
    users = api.sandbox.users()[:3]
    path = f"/opportunities/{record['id']}/followers"
    await api.post(path, json={"followers": users})

    reply = await api.call(
        "DELETE", path, params={"isRemoveAllFollowers": "true"}, json={"followers": []}
    )

    assert reply.status == 200
    assert reply.body["followers"] == []
    assert reply.body["followersRemoved"] == users


async def test_followers_body_required(api: Api) -> None:
    record = await api.create()

    reply = await api.post(f"/opportunities/{record['id']}/followers", json={})

    assert reply.status == 422
    assert reply.body["message"] == ["followers must be an array"]


async def test_followers_items_must_be_strings(api: Api) -> None:
    record = await api.create()

    reply = await api.post(f"/opportunities/{record['id']}/followers", json={"followers": [1]})

    assert reply.body["message"] == ["each value in followers must be a string"]
