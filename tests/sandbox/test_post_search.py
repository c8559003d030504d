"""POST /opportunities/search: 201 without meta, page and searchAfter paging,
the 10,000-row window, filters, sort, and the IAM rejection of filters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from hoop_async.sandbox import SandboxConfig

from .api import Api, open_api

SEARCH = "/opportunities/search"
NEWEST = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


async def post_search(api: Api, **body: Any) -> dict[str, Any]:
    reply = await api.post(SEARCH, json={"locationId": api.location_id, **body})
    assert reply.status == 201, reply.body
    result: dict[str, Any] = reply.body
    return result


def ids_of(body: dict[str, Any]) -> list[str]:
    return [row["id"] for row in body["opportunities"]]


async def test_answers_201_without_meta(api: Api) -> None:
    api.sandbox.add_opportunities_bulk(api.location_id, 3, newest_at=NEWEST)

    reply = await api.post(SEARCH, json={"locationId": api.location_id})

    assert reply.status == 201
    assert set(reply.body) == {"opportunities", "total", "traceId"}
    assert reply.body["total"] == 3


async def test_pages_are_one_based(api: Api) -> None:
    ids = api.sandbox.add_opportunities_bulk(api.location_id, 5, newest_at=NEWEST)

    first = await post_search(api, limit=2, page=1)
    second = await post_search(api, limit=2, page=2)

    assert ids_of(first) == ids[:2]
    assert ids_of(second) == ids[2:4]


async def test_search_after_continues(api: Api) -> None:
    ids = api.sandbox.add_opportunities_bulk(api.location_id, 5, newest_at=NEWEST)
    first = await post_search(api, limit=2)

    second = await post_search(api, limit=2, searchAfter=first["opportunities"][-1]["sort"])

    assert ids_of(second) == ids[2:4]


async def test_search_after_accepts_strings(api: Api) -> None:
    ids = api.sandbox.add_opportunities_bulk(api.location_id, 3, newest_at=NEWEST)
    created_ms, last_id = (await post_search(api, limit=1))["opportunities"][0]["sort"]

    second = await post_search(api, limit=1, searchAfter=[str(created_ms), last_id])

    assert ids_of(second) == ids[1:2]


async def test_window_past_10000_is_422(api: Api) -> None:
    reply = await api.post(SEARCH, json={"locationId": api.location_id, "limit": 500, "page": 21})

    assert reply.status == 422
    message = reply.body["message"][0]
    assert message.startswith("page * limit must not be greater than 10000")
    assert "searchAfter" in message


async def test_window_of_exactly_10000_allowed(api: Api) -> None:
    body = await post_search(api, limit=500, page=20)

    assert body["opportunities"] == []


@pytest.mark.parametrize(
    ("limit", "message"),
    [(0, "limit must not be less than 1"), (501, "limit must not be greater than 500")],
)
async def test_limit_out_of_range(api: Api, limit: int, message: str) -> None:
    reply = await api.post(SEARCH, json={"locationId": api.location_id, "limit": limit})

    assert reply.status == 422
    assert reply.body["message"] == [message]


async def test_location_required(api: Api) -> None:
    reply = await api.post(SEARCH, json={"query": "x"})

    assert reply.status == 422
    assert reply.body["message"] == [
        "locationId should not be empty",
        "locationId must be a string",
    ]


async def test_query_matches_name(api: Api) -> None:
    target = await api.create(name="Garden makeover")
    await api.create(name="Kitchen")

    body = await post_search(api, query="garden")

    assert ids_of(body) == [target["id"]]


async def test_bare_filter_items_are_anded(api: Api) -> None:
    target = await api.create(status="won", monetaryValue=900)
    await api.create(status="won", monetaryValue=10)
    await api.create(status="open", monetaryValue=900)
    filters = [
        {"field": "status", "operator": "eq", "value": "won"},
        {"field": "monetary_value", "operator": "range", "value": {"gte": 500}},
    ]

    body = await post_search(api, filters=filters)

    assert ids_of(body) == [target["id"]]
    assert body["total"] == 1


async def test_grouped_or_filters(api: Api) -> None:
    won = await api.create(status="won")
    lost = await api.create(status="lost")
    await api.create(status="open")
    filters = [
        {
            "group": "OR",
            "filters": [
                {"field": "status", "operator": "eq", "value": "won"},
                {"field": "status", "operator": "eq", "value": "lost"},
            ],
        }
    ]

    body = await post_search(api, filters=filters)

    assert sorted(ids_of(body)) == sorted([won["id"], lost["id"]])


async def test_in_and_not_eq_operators(api: Api) -> None:
    users = api.sandbox.users()
    first = await api.create(assignedTo=users[0])
    second = await api.create(assignedTo=users[1])
    await api.create(assignedTo=users[2])
    filters = [
        {"field": "assigned_to", "operator": "in", "value": users[:2]},
        {"field": "contact_id", "operator": "not_eq", "value": second["contactId"]},
    ]

    body = await post_search(api, filters=filters)

    assert ids_of(body) == [first["id"]]


async def test_filters_on_pipeline_and_stage(api: Api) -> None:
    stage = api.pipeline()["stages"][2]["id"]
    target = await api.create(pipelineStageId=stage)
    await api.create()
    filters = [
        {
            "group": "AND",
            "filters": [
                {"field": "pipeline_id", "operator": "eq", "value": api.pipeline()["id"]},
                {"field": "pipeline_stage_id", "operator": "eq", "value": stage},
            ],
        }
    ]

    assert ids_of(await post_search(api, filters=filters)) == [target["id"]]


async def test_unknown_field_and_operator_422(api: Api) -> None:
    filters = [
        {"field": "colour", "operator": "eq", "value": "red"},
        {"field": "status", "operator": "like", "value": "w"},
    ]

    reply = await api.post(SEARCH, json={"locationId": api.location_id, "filters": filters})

    assert reply.status == 422
    assert reply.body["message"] == [
        "filters.0.field must be one of the following values: assigned_to, contact_id, "
        "monetary_value, pipeline_id, pipeline_stage_id, status",
        "filters.1.operator must be one of the following values: eq, not_eq, in, range",
    ]


async def test_range_only_on_monetary_value(api: Api) -> None:
    filters = [{"field": "status", "operator": "range", "value": {"gte": 1}}]

    reply = await api.post(SEARCH, json={"locationId": api.location_id, "filters": filters})

    assert reply.status == 422
    assert reply.body["message"] == ["filters.0.operator range applies only to monetary_value"]


async def test_sort_by_monetary_value(api: Api) -> None:
    small = await api.create(monetaryValue=10)
    large = await api.create(monetaryValue=1000)
    middle = await api.create(monetaryValue=100)
    sort = [{"field": "monetary_value", "direction": "desc"}]

    first = await post_search(api, sort=sort, limit=2)
    rest = await post_search(
        api, sort=sort, limit=2, searchAfter=first["opportunities"][-1]["sort"]
    )

    assert ids_of(first) == [large["id"], middle["id"]]
    assert first["opportunities"][0]["sort"] == [1000, large["id"]]
    assert ids_of(rest) == [small["id"]]


async def test_sort_date_added_ascending(api: Api) -> None:
    ids = api.sandbox.add_opportunities_bulk(api.location_id, 3, newest_at=NEWEST)

    body = await post_search(api, sort=[{"field": "date_added", "direction": "asc"}])

    assert ids_of(body) == list(reversed(ids))


async def test_sort_unknown_field_422(api: Api) -> None:
    sort = [{"field": "colour", "direction": "up"}]

    reply = await api.post(SEARCH, json={"locationId": api.location_id, "sort": sort})

    assert reply.status == 422
    assert reply.body["message"] == [
        "sort.0.field must be one of the following values: "
        "date_added, date_updated, monetary_value, name",
        "sort.0.direction must be one of the following values: asc, desc",
    ]


async def test_additional_details_accepted(api: Api) -> None:
    await api.create()
    details = {"notes": True, "tasks": False, "calendarEvents": True, "unReadConversations": True}

    row = (await post_search(api, additionalDetails=details))["opportunities"][0]

    assert row["notes"] == []
    assert row["calendarEvents"] == []
    assert "tasks" not in row


async def test_unknown_body_key_422(api: Api) -> None:
    reply = await api.post(SEARCH, json={"locationId": api.location_id, "offset": 5})

    assert reply.status == 422
    assert reply.body["message"] == ["property offset should not exist"]


async def test_iam_rejects_filters_when_enabled() -> None:
    filters = [{"field": "status", "operator": "eq", "value": "won"}]
    async with open_api(SandboxConfig(iam_rejects_filters=True, seed_contacts=0)) as api:
        rejected = await api.post(SEARCH, json={"locationId": api.location_id, "filters": filters})
        plain = await api.post(SEARCH, json={"locationId": api.location_id, "filters": []})

    assert rejected.status == 401
    assert rejected.body["message"].startswith("This route is not yet supported by the IAM Service")
    assert plain.status == 201
