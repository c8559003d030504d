"""Paging rules: cursor loops end with PaginationError, repeated records are
yielded once, GET cursors travel exactly as sent, and searches resume."""

from __future__ import annotations

import pytest
from conftest import Recorder

from hoop_async import (
    GetSearchCursor,
    HoopClient,
    Page,
    PageIterator,
    PaginationError,
    PostSearchCursor,
)
from hoop_async._seen_ids import WINDOW_IDS, SeenIds
from hoop_async.sandbox import Sandbox


def get_page(ids: list[str], start_after: object, start_after_id: str | None) -> dict[str, object]:
    """Return a GET search body with these rows and this cursor in meta."""
    meta = {"startAfter": start_after, "startAfterId": start_after_id, "total": 99}
    return {"opportunities": [{"id": record_id} for record_id in ids], "meta": meta}


async def test_get_cursor_loop_of_three_raises(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    cursors = [(3, "C3"), (2, "C2"), (1, "C1")]
    for round_number in range(4):
        for position, (start_after, start_after_id) in enumerate(cursors):
            ids = [f"R{round_number}-{position}-a", f"R{round_number}-{position}-b"]
            recorder.respond(200, get_page(ids, start_after, start_after_id))

    with pytest.raises(PaginationError) as caught:
        await recorded_client.opportunities.search(page_size=2).collect()

    assert isinstance(caught.value.cursor, GetSearchCursor)
    assert caught.value.cursor.start_after_id in ("C1", "C2", "C3")
    assert caught.value.cursor.start_after_id in str(caught.value)
    assert len(recorder.requests) <= 6


async def test_loop_found_after_many_pages() -> None:
    # Page n returns cursor n up to page 12, then cursor 8 again: a loop of
    # 5 cursors (8, 9, 10, 11, 12) whose first cursor comes with page 8.
    fetched: list[int | None] = []

    async def fetch(cursor: int | None) -> Page[str, int]:
        fetched.append(cursor)
        number = cursor or 0
        following = number + 1 if number < 12 else 8
        items = (f"page-{len(fetched)}",)
        return Page(items=items, total=None, cursor=cursor, next_cursor=following)

    records: list[str] = []

    async def read_all() -> None:
        async for record in PageIterator(fetch, record_id=str):
            records.append(record)

    with pytest.raises(PaginationError) as caught:
        await read_all()

    assert caught.value.cursor in range(8, 13)
    assert len(fetched) <= 2 * max(8, 5) + 5
    assert records == [f"page-{number}" for number in range(1, len(fetched) + 1)]


async def test_repeated_search_after_raises(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    stuck = {"opportunities": [{"id": "A", "sort": [5, "A"]}, {"id": "B", "sort": [4, "B"]}]}
    for _ in range(5):
        recorder.respond(201, stuck)
    start = PostSearchCursor(search_after=(9, "Z"))

    search = recorded_client.opportunities.search_advanced(page_size=2, start=start)
    with pytest.raises(PaginationError) as caught:
        await search.collect()

    assert caught.value.cursor == PostSearchCursor(search_after=(4, "B"))
    assert len(recorder.requests) == 2
    assert recorder.requests[0].body["searchAfter"] == [9, "Z"]
    assert recorder.requests[1].body["searchAfter"] == [4, "B"]
    assert "page" not in recorder.requests[1].body


async def test_get_cursor_echoed_exactly(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, get_page(["A", "B"], "1764004064616", "B"))
    recorder.respond(200, get_page(["C", "D"], 1764004064000, "D"))
    recorder.respond(200, get_page(["E"], None, None))

    ids = [record.id async for record in recorded_client.opportunities.search(page_size=2)]

    assert ids == ["A", "B", "C", "D", "E"]
    queries = [dict(request.query) for request in recorder.requests]
    assert "startAfter" not in queries[0]
    assert queries[1]["startAfter"] == "1764004064616"
    assert queries[1]["startAfterId"] == "B"
    assert queries[2]["startAfter"] == "1764004064000"
    assert queries[2]["startAfterId"] == "D"


async def test_half_cursor_ends_search(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, get_page(["A", "B"], 1764004064616, None))

    ids = [record.id async for record in recorded_client.opportunities.search(page_size=2)]

    assert ids == ["A", "B"]
    assert len(recorder.requests) == 1


async def test_repeats_dropped_from_pages(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, get_page(["A", "B", "A"], 3, "A"))
    recorder.respond(200, get_page(["B", "C", "D"], 2, "D"))
    recorder.respond(200, get_page([], None, None))

    search = recorded_client.opportunities.search(page_size=3)
    pages = [page async for page in search.pages()]

    assert [[record.id for record in page.items] for page in pages] == [["A", "B"], ["C", "D"], []]
    assert pages[1].meta is not None
    assert pages[1].meta.start_after_id == "D"


def test_window_forgets_old_pages() -> None:
    seen = SeenIds()
    page_size = 100
    pages = WINDOW_IDS // page_size + 3
    for page in range(pages):
        assert all(seen.add(f"{page}-{index}") for index in range(page_size))
        seen.end_page()

    assert not seen.add(f"{pages - 1}-0")
    assert not seen.add(f"{pages - WINDOW_IDS // page_size}-0")
    assert seen.add("0-0")
    assert len(seen) <= WINDOW_IDS + 2 * page_size


def test_window_keeps_two_large_pages() -> None:
    seen = SeenIds()
    for page in range(4):
        assert all(seen.add(f"{page}-{index}") for index in range(WINDOW_IDS))
        seen.end_page()

    assert not seen.add("2-0")
    assert seen.add("1-0")


def test_remember_all_keeps_every_id() -> None:
    seen = SeenIds(remember_all=True)
    for page in range(30):
        assert all(seen.add(f"{page}-{index}") for index in range(100))
        seen.end_page()

    assert not seen.add("0-0")
    assert len(seen) == 3_000


@pytest.mark.slow
async def test_post_search_resumes_after_switch(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, 10_700)
    expected = [record["id"] for record in hoop_sandbox.opportunities(hoop_sandbox.location_id)]
    read: list[str] = []
    resume_from: PostSearchCursor | None = None

    async with client.opportunities.search_advanced().pages() as pages:
        async for page in pages:
            read.extend(record.id for record in page.items)
            if page.cursor is not None and page.cursor.search_after is not None:
                resume_from = page.next_cursor
                break  # the export stops here and is restarted

    assert resume_from is not None
    assert resume_from.search_after is not None
    resumed = client.opportunities.search_advanced(start=resume_from)
    read.extend([record.id async for record in resumed])
    assert read == expected
