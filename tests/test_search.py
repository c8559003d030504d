"""Both search endpoints: paging, filters, cursors and the loop guard."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from conftest import Recorder

from hoop_async import (
    GetSearchCursor,
    HoopClient,
    PaginationError,
    PostSearchCursor,
    Status,
)
from hoop_async.sandbox import Sandbox


def seed(sandbox: Sandbox, count: int) -> list[str]:
    """Add `count` opportunities and return the store's ids, newest first."""
    sandbox.add_opportunities_bulk(sandbox.location_id, count)
    return [record["id"] for record in sandbox.opportunities(sandbox.location_id)]


async def test_get_search_yields_every_record_once(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    expected = seed(hoop_sandbox, 1234)
    search = client.opportunities.search(page_size=100)
    ids = [record.id async for record in search]
    assert ids == expected
    assert len(set(ids)) == 1234


async def test_get_search_pages_expose_cursors(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    expected = seed(hoop_sandbox, 250)
    pages = [page async for page in client.opportunities.search(page_size=100).pages()]
    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert pages[0].cursor is None
    assert pages[1].cursor == pages[0].next_cursor
    assert pages[-1].next_cursor is None
    assert pages[0].total == 250
    assert pages[0].meta is not None
    assert pages[0].next_cursor is not None
    assert pages[0].next_cursor.start_after_id == expected[99]


async def test_get_search_resumes_from_cursor(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    expected = seed(hoop_sandbox, 230)
    first = await client.opportunities.search(page_size=100).pages().__anext__()
    assert first.next_cursor is not None
    resumed = client.opportunities.search(page_size=100, start=first.next_cursor)
    assert [record.id async for record in resumed] == expected[100:]


async def test_get_search_exact_multiple_of_page(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    expected = seed(hoop_sandbox, 200)
    assert [r.id for r in await client.opportunities.search(page_size=100).collect()] == expected


async def test_max_items_and_first(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    expected = seed(hoop_sandbox, 150)
    limited = await client.opportunities.search(page_size=20, max_items=45).collect()
    assert [record.id for record in limited] == expected[:45]
    first = await client.opportunities.search().first()
    assert first is not None
    assert first.id == expected[0]
    assert await client.opportunities.search(contact_id="nobody").first() is None


async def test_get_search_filters_by_status(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    seed(hoop_sandbox, 60)
    records = hoop_sandbox.opportunities(hoop_sandbox.location_id)
    for record in records[:7]:
        await client.opportunities.update_status(record["id"], Status.WON)
    stored_won = [
        record["id"]
        for record in hoop_sandbox.opportunities(hoop_sandbox.location_id)
        if record["status"] == "won"
    ]
    won = await client.opportunities.search(status="won", page_size=5).collect()
    assert len(stored_won) >= 7
    assert sorted(record.id for record in won) == sorted(stored_won)
    everything = await client.opportunities.search(status="all").collect()
    assert len(everything) == 60


async def test_get_search_filters_by_pipeline(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipelines = await client.opportunities.pipelines()
    contacts = hoop_sandbox.contacts(hoop_sandbox.location_id)
    for index, contact in enumerate(contacts[:30]):
        pipeline = pipelines[index % 2]
        await client.opportunities.create(
            name=f"Deal {index}", pipeline_id=pipeline.id, contact_id=contact["id"]
        )
    in_first = await client.opportunities.search(pipeline_id=pipelines[0].id, page_size=4).collect()
    assert len(in_first) == 15
    assert {record.pipeline_id for record in in_first} == {pipelines[0].id}


async def test_get_search_date_range_is_inclusive(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    pipeline = hoop_sandbox.pipelines(hoop_sandbox.location_id)[0]
    contacts = hoop_sandbox.contacts(hoop_sandbox.location_id)
    start = datetime(2026, 3, 1, 0, 0, 1, tzinfo=timezone.utc)
    for day in range(6):
        hoop_sandbox.add_opportunity(
            hoop_sandbox.location_id,
            name=f"Day {day}",
            pipeline_id=pipeline["id"],
            contact_id=contacts[day]["id"],
            created_at=start + timedelta(days=day, hours=23),
        )
    found = await client.opportunities.search(
        date=date(2026, 3, 2), end_date=date(2026, 3, 4)
    ).collect()
    assert sorted(record.name or "" for record in found) == ["Day 1", "Day 2", "Day 3"]


async def test_post_search_yields_every_record_once(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    expected = seed(hoop_sandbox, 1100)
    ids = [record.id async for record in client.opportunities.search_advanced(page_size=500)]
    assert ids == expected


@pytest.mark.slow
async def test_post_search_switches_to_search_after(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    expected = seed(hoop_sandbox, 10_600)
    search = client.opportunities.search_advanced(page_size=500)
    pages = [page async for page in search.pages()]
    ids = [record.id for page in pages for record in page.items]
    assert ids == expected
    assert pages[19].cursor == PostSearchCursor(page=20)
    assert pages[20].cursor is not None
    assert pages[20].cursor.search_after is not None
    assert pages[20].cursor.page is None


async def test_repeated_get_cursor_raises(recorder: Recorder, recorded_client: HoopClient) -> None:
    stuck = {
        "opportunities": [{"id": "A"}, {"id": "B"}],
        "meta": {"startAfter": 1764004064616, "startAfterId": "B", "total": 9},
    }
    for _ in range(5):
        recorder.respond(200, stuck)
    with pytest.raises(PaginationError) as caught:
        await recorded_client.opportunities.search(page_size=2).collect()
    assert caught.value.cursor == GetSearchCursor(start_after=1764004064616, start_after_id="B")
    assert len(recorder.requests) == 2


async def test_record_seen_twice_is_yielded_once(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    recorder.respond(
        200,
        {
            "opportunities": [{"id": "A"}, {"id": "B"}],
            "meta": {"startAfter": 2, "startAfterId": "B"},
        },
    )
    recorder.respond(
        200,
        {
            "opportunities": [{"id": "B"}, {"id": "C"}],
            "meta": {"startAfter": 1, "startAfterId": "C"},
        },
    )
    recorder.respond(200, {"opportunities": [], "meta": {}})
    records = await recorded_client.opportunities.search(page_size=2).collect()
    assert [record.id for record in records] == ["A", "B", "C"]
