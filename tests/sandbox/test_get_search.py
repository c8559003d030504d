"""GET /opportunities/search: newest-first pages, the startAfter/startAfterId
cursor and its traps, meta, filters and the search index lag."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hoop_async.sandbox import SandboxConfig

from .api import Api, open_api

SEARCH = "/opportunities/search"
NEWEST = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def seed_records(api: Api, count: int) -> list[str]:
    """Bulk-add `count` records one minute apart; return their ids, newest first."""
    return api.sandbox.add_opportunities_bulk(api.location_id, count, newest_at=NEWEST)


async def search(api: Api, **params: str) -> dict[str, Any]:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, **params})
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def ids_of(body: dict[str, Any]) -> list[str]:
    return [row["id"] for row in body["opportunities"]]


async def test_default_limit_and_order(api: Api) -> None:
    ids = seed_records(api, 25)

    body = await search(api)

    assert ids_of(body) == ids[:20]
    assert body["meta"]["total"] == 25


async def test_rows_carry_sort_value(api: Api) -> None:
    seed_records(api, 1)

    row = (await search(api))["opportunities"][0]

    assert row["sort"] == [int(NEWEST.timestamp() * 1000), row["id"]]


async def test_cursor_pair_continues(api: Api) -> None:
    ids = seed_records(api, 5)
    first = await search(api, limit="2")
    meta = first["meta"]

    second = await search(
        api, limit="2", startAfter=str(meta["startAfter"]), startAfterId=meta["startAfterId"]
    )

    assert ids_of(first) == ids[:2]
    assert ids_of(second) == ids[2:4]
    assert meta["startAfterId"] == ids[1]
    assert meta["startAfter"] == int((NEWEST - timedelta(minutes=1)).timestamp() * 1000)


async def test_cursor_breaks_created_at_ties_by_id(api: Api) -> None:
    ids = api.sandbox.add_opportunities_bulk(
        api.location_id, 4, newest_at=NEWEST, spacing_seconds=0
    )
    expected = sorted(ids, reverse=True)
    first = await search(api, limit="2")
    meta = first["meta"]

    second = await search(
        api, limit="2", startAfter=str(meta["startAfter"]), startAfterId=meta["startAfterId"]
    )

    assert ids_of(first) + ids_of(second) == expected


async def test_start_after_alone_serves_first_page(api: Api) -> None:
    seed_records(api, 5)
    first = await search(api, limit="2")

    again = await search(api, limit="2", startAfter=str(first["meta"]["startAfter"]))

    assert ids_of(again) == ids_of(first)


async def test_start_after_id_alone_serves_first_page(api: Api) -> None:
    seed_records(api, 5)
    first = await search(api, limit="2")

    again = await search(api, limit="2", startAfterId=first["meta"]["startAfterId"])

    assert ids_of(again) == ids_of(first)


async def test_meta_of_first_full_page(api: Api) -> None:
    ids = seed_records(api, 5)

    meta = (await search(api, limit="2"))["meta"]

    assert meta["total"] == 5
    assert meta["currentPage"] == 1
    assert meta["nextPage"] == 2
    assert meta["prevPage"] is None
    assert meta["startAfterId"] == ids[1]


async def test_next_page_url_drops_filters(api: Api) -> None:
    seed_records(api, 6)

    meta = (await search(api, limit="2", status="all", q="opportunity"))["meta"]

    url = urlsplit(meta["nextPageUrl"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == api.sandbox.url
    assert url.path == SEARCH
    assert set(query) == {"location_id", "limit", "startAfter", "startAfterId"}
    assert query["startAfterId"] == [meta["startAfterId"]]


async def test_short_last_page_has_no_cursor(api: Api) -> None:
    seed_records(api, 3)

    meta = (await search(api, limit="5"))["meta"]

    assert meta["nextPageUrl"] is None
    assert meta["startAfter"] is None
    assert meta["startAfterId"] is None
    assert meta["nextPage"] is None


async def test_walk_all_pages_with_cursor(api: Api) -> None:
    ids = seed_records(api, 7)
    seen: list[str] = []
    params = {"limit": "3"}

    for _ in range(5):
        body = await search(api, **params)
        seen += ids_of(body)
        if body["meta"]["startAfterId"] is None:
            break
        params["startAfter"] = str(body["meta"]["startAfter"])
        params["startAfterId"] = body["meta"]["startAfterId"]

    assert seen == ids


async def test_full_last_page_then_empty(api: Api) -> None:
    seed_records(api, 4)
    first = await search(api, limit="4")
    meta = first["meta"]

    after = await search(
        api, limit="4", startAfter=str(meta["startAfter"]), startAfterId=meta["startAfterId"]
    )

    assert after["opportunities"] == []
    assert after["meta"]["startAfterId"] is None


async def test_page_without_cursor_offsets(api: Api) -> None:
    ids = seed_records(api, 5)

    body = await search(api, limit="2", page="2")

    assert ids_of(body) == ids[2:4]
    assert body["meta"]["currentPage"] == 2
    assert body["meta"]["prevPage"] == 1


async def test_order_added_asc(api: Api) -> None:
    ids = seed_records(api, 3)

    body = await search(api, order="added_asc")

    assert ids_of(body) == list(reversed(ids))


async def test_filter_by_status_and_pipeline(api: Api) -> None:
    won = await api.create(status="won")
    await api.create(status="open")
    other = await api.create(status="won", pipelineId=api.pipeline(1)["id"])

    body = await search(api, status="won", pipeline_id=api.pipeline()["id"])

    assert ids_of(body) == [won["id"]]
    assert other["id"] not in ids_of(body)
    assert body["meta"]["total"] == 1


async def test_status_all_is_no_filter(api: Api) -> None:
    await api.create(status="won")
    await api.create(status="lost")

    body = await search(api, status="all")

    assert body["meta"]["total"] == 2


async def test_filter_by_stage_contact_assignee_id(api: Api) -> None:
    user = api.sandbox.users()[2]
    stage = api.pipeline()["stages"][3]["id"]
    target = await api.create(pipelineStageId=stage, assignedTo=user)
    await api.create()

    for params in (
        {"pipeline_stage_id": stage},
        {"contact_id": target["contactId"]},
        {"assigned_to": user},
        {"id": target["id"]},
    ):
        assert ids_of(await search(api, **params)) == [target["id"]], params


async def test_q_matches_name_and_contact(api: Api) -> None:
    by_name = await api.create(name="Zebra roof repair")
    contact = api.sandbox.add_contact(
        api.location_id, name="Quincy Hart", email="qh@example.com", phone="+15555550999"
    )
    by_contact = await api.create(contactId=contact["id"])
    hidden = await api.create(customFields=[{"id": "f", "field_value": "zebra quincy"}])

    assert ids_of(await search(api, q="ZEBRA")) == [by_name["id"]]
    assert ids_of(await search(api, q="quincy")) == [by_contact["id"]]
    assert ids_of(await search(api, q="qh@example")) == [by_contact["id"]]
    assert ids_of(await search(api, q="5550999")) == [by_contact["id"]]
    assert hidden["id"] not in ids_of(await search(api, q="zebra"))


async def test_filter_by_campaign_and_country(api: Api) -> None:
    pipeline_id = api.pipeline()["id"]
    contact = api.sandbox.add_contact(api.location_id, name="Cara Canada", country="CA")
    in_campaign = api.sandbox.add_opportunity(
        api.location_id,
        name="Campaign card",
        pipeline_id=pipeline_id,
        contact_id=api.new_contact(),
        campaign_id="camp1",
    )
    canadian = api.sandbox.add_opportunity(
        api.location_id, name="Canada card", pipeline_id=pipeline_id, contact_id=contact["id"]
    )

    assert ids_of(await search(api, campaignId="camp1")) == [in_campaign["id"]]
    assert ids_of(await search(api, country="CA")) == [canadian["id"]]


async def test_detail_flags_add_lists(api: Api) -> None:
    await api.create()

    row = (await search(api, getTasks="true", getNotes="true"))["opportunities"][0]

    assert row["tasks"] == []
    assert row["notes"] == []
    assert "calendarEvents" not in row


async def test_index_lag_hides_new_records() -> None:
    async with open_api(SandboxConfig(index_lag=0.3, seed_contacts=0)) as api:
        record = await api.create()
        early = await search(api)
        by_id = await api.get(f"/opportunities/{record['id']}")
        posted = await api.post(SEARCH, json={"locationId": api.location_id})
        await asyncio.sleep(0.35)
        late = await search(api)

    assert early["opportunities"] == []
    assert early["meta"]["total"] == 0
    assert posted.body["total"] == 0
    assert by_id.status == 200
    assert ids_of(late) == [record["id"]]
    assert late["meta"]["total"] == 1


async def test_index_lag_hides_updated_records() -> None:
    async with open_api(SandboxConfig(index_lag=0.2, seed_contacts=0)) as api:
        record = await api.create()
        await asyncio.sleep(0.25)
        await api.put(f"/opportunities/{record['id']}", json={"name": "Changed"})
        during = await search(api)
        await asyncio.sleep(0.25)
        after = await search(api)

    assert during["opportunities"] == []
    assert after["opportunities"][0]["name"] == "Changed"
