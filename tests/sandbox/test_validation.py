"""Parameter spelling and 422 bodies: unknown keys, missing fields, wrong types,
bad enums and limits, worded as class-validator words them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from .api import Api

SEARCH = "/opportunities/search"
UNPROCESSABLE = "Unprocessable Entity"


async def test_search_two_unknown_keys_listed(api: Api) -> None:
    params = {"location_id": api.location_id, "start_date": "01-01-2026", "skip": "20"}

    reply = await api.get(SEARCH, params=params)

    assert reply.status == 422
    assert reply.body["message"] == [
        "property start_date should not exist",
        "property skip should not exist",
    ]
    assert reply.body["error"] == UNPROCESSABLE
    assert reply.body["statusCode"] == 422
    assert "traceId" in reply.body


async def test_search_camel_location_id_rejected(api: Api) -> None:
    reply = await api.get(SEARCH, params={"locationId": api.location_id})

    assert reply.status == 422
    assert "property locationId should not exist" in reply.body["message"]
    assert "location_id should not be empty" in reply.body["message"]


async def test_search_accepts_every_spec_key(api: Api) -> None:
    params = {
        "q": "x", "location_id": api.location_id, "pipeline_id": "p", "pipeline_stage_id": "s",
        "contact_id": "c", "status": "all", "assigned_to": "u", "campaignId": "k", "id": "i",
        "order": "added_desc", "endDate": "01-31-2026", "startAfter": "1", "startAfterId": "a",
        "date": "01-01-2026", "country": "US", "page": "1", "limit": "5", "getTasks": "false",
        "getNotes": "false", "getCalendarEvents": "false",
    }  # fmt: skip

    reply = await api.get(SEARCH, params=params)

    assert reply.status == 200, reply.body


@pytest.mark.parametrize("path", ["/opportunities/pipelines", "/opportunities/lost-reason"])
async def test_catalog_snake_location_rejected(api: Api, path: str) -> None:
    reply = await api.get(path, params={"location_id": api.location_id})

    assert reply.status == 422
    assert reply.body["message"][0] == "property location_id should not exist"


async def test_search_bad_status_enum(api: Api) -> None:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, "status": "closed"})

    assert reply.status == 422
    assert reply.body["message"] == [
        "status must be one of the following values: open, won, lost, abandoned, all"
    ]


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "limit must not be less than 1"),
        ("101", "limit must not be greater than 100"),
        ("ten", "limit must be a number conforming to the specified constraints"),
        ("2.5", "limit must be an integer number"),
    ],
)
async def test_search_limit_out_of_range(api: Api, limit: str, message: str) -> None:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, "limit": limit})

    assert reply.status == 422
    assert reply.body["message"] == [message]


async def test_create_unknown_body_keys(api: Api) -> None:
    body = api.create_body(location_id="x", followers=[])

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 422
    assert reply.body["message"] == [
        "property location_id should not exist",
        "property followers should not exist",
    ]


async def test_create_missing_required_fields(api: Api) -> None:
    reply = await api.post("/opportunities/", json={"locationId": api.location_id})

    assert reply.status == 422
    assert reply.body["message"] == [
        "pipelineId should not be empty",
        "pipelineId must be a string",
        "name should not be empty",
        "name must be a string",
        "status must be one of the following values: open, won, lost, abandoned",
        "contactId should not be empty",
        "contactId must be a string",
    ]


async def test_create_wrong_types(api: Api) -> None:
    body = api.create_body(name=5, monetaryValue="100", customFields={"a": 1})

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 422
    assert reply.body["message"] == [
        "name must be a string",
        "monetaryValue must be a number conforming to the specified constraints",
        "customFields must be an array",
    ]


async def test_create_status_all_rejected(api: Api) -> None:
    reply = await api.post("/opportunities/", json=api.create_body(status="all"))

    assert reply.status == 422
    assert reply.body["message"] == [
        "status must be one of the following values: open, won, lost, abandoned"
    ]


async def test_create_custom_field_item_checks(api: Api) -> None:
    body = api.create_body(customFields=[{"field_value": "x"}, {"id": "f1", "value": "y"}])

    reply = await api.post("/opportunities/", json=body)

    assert reply.status == 422
    assert reply.body["message"] == [
        "customFields.0 must have a string id or key",
        "customFields.1.property value should not exist",
    ]


async def test_update_unknown_key(api: Api) -> None:
    opportunity = await api.create()

    reply = await api.put(f"/opportunities/{opportunity['id']}", json={"contactId": "x"})

    assert reply.status == 422
    assert reply.body["message"] == ["property contactId should not exist"]


async def _create_at(api: Api, moment: datetime) -> str:
    pipeline = api.pipeline()
    opportunity = api.sandbox.add_opportunity(
        api.location_id,
        name=f"At {moment.isoformat()}",
        pipeline_id=pipeline["id"],
        contact_id=api.new_contact(),
        created_at=moment,
    )
    return str(opportunity["id"])


async def _search_ids(api: Api, **params: str) -> list[str]:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, **params})
    assert reply.status == 200, reply.body
    return [row["id"] for row in reply.body["opportunities"]]


async def test_date_filter_whole_days_inclusive(api: Api) -> None:
    before = await _create_at(api, datetime(2026, 3, 4, 23, 59, 59, tzinfo=timezone.utc))
    first = await _create_at(api, datetime(2026, 3, 5, 0, 0, 0, tzinfo=timezone.utc))
    last = await _create_at(api, datetime(2026, 3, 6, 23, 59, 59, 999000, tzinfo=timezone.utc))
    after = await _create_at(api, datetime(2026, 3, 7, 0, 0, 0, tzinfo=timezone.utc))

    found = await _search_ids(api, date="03-05-2026", endDate="03-06-2026")

    assert found == [last, first]
    assert before not in found
    assert after not in found


async def test_date_filter_start_only(api: Api) -> None:
    old = await _create_at(api, datetime(2025, 1, 1, tzinfo=timezone.utc))
    new = await _create_at(api, datetime(2026, 1, 2, tzinfo=timezone.utc))

    found = await _search_ids(api, date="01-02-2026")

    assert found == [new]
    assert old not in found


@pytest.mark.parametrize("bad", ["2026-03-05", "3-5-2026", "03/05/2026", "13-40-2026", "soon"])
async def test_date_filter_bad_format_ignored(api: Api, bad: str) -> None:
    old = await _create_at(api, datetime(2020, 1, 1, tzinfo=timezone.utc))

    found = await _search_ids(api, date=bad, endDate=bad)

    assert old in found
