"""Search iterators while records are inserted, moved and deleted between pages.

The sandbox's search hook changes the store after a page is built and before
its response leaves, so every change lands between two page requests.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from hoop_async import HoopClient
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.search_hooks import SearchPageServed

# In the past, so records created or updated during a test sort after the seeded ones.
NEWEST = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    # The client's rate limiter would pace more than 100 pages per 10 s.
    return SandboxConfig(rate_limit_max=100_000)


def seed(sandbox: Sandbox, count: int) -> list[str]:
    """Add `count` records one second apart, the newest at NEWEST; return ids, newest first."""
    return sandbox.add_opportunities_bulk(
        sandbox.location_id, count, newest_at=NEWEST, spacing_seconds=1
    )


async def test_get_search_with_inserts_and_deletes(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    initial = seed(hoop_sandbox, 3_000)
    position = {record_id: index for index, record_id in enumerate(initial)}
    on_top: list[str] = []
    backdated: list[str] = []
    deleted_unread: set[str] = set()
    deleted_read: set[str] = set()
    pages_served = 0

    def change_store(page: SearchPageServed) -> None:
        nonlocal pages_served
        pages_served += 1
        seeded = [position[record_id] for record_id in page.ids if record_id in position]
        if len(page.ids) < 100 or not seeded:
            return  # the last page: no request follows it
        last = seeded[-1]
        # Newer than everything: lands before the read position, never read.
        on_top.extend(page.insert(2))
        # Between two unread seeded records: must be read once.
        slot = NEWEST - timedelta(seconds=last + 40.5)
        backdated.extend(page.insert(3, created_at=slot, spacing_seconds=0.1))
        for offset in (1, 25):
            if last + offset < len(initial) and initial[last + offset] not in deleted_unread:
                page.delete(initial[last + offset])
                deleted_unread.add(initial[last + offset])
        if initial[last - 3] not in deleted_read:
            page.delete(initial[last - 3])
            deleted_read.add(initial[last - 3])

    hoop_sandbox.on_search_page(change_store)
    records = [record async for record in client.opportunities.search(page_size=100)]
    ids = [record.id for record in records]

    assert len(ids) == len(set(ids))
    assert set(initial) - deleted_unread <= set(ids)
    assert set(backdated) <= set(ids)
    assert not set(ids) & deleted_unread
    assert not set(ids) & set(on_top)
    assert len(ids) == len(initial) - len(deleted_unread) + len(backdated)
    created = [record.created_at for record in records]
    assert all(newer > older for newer, older in itertools.pairwise(created))
    assert pages_served <= len(ids) // 100 + 1


async def test_post_search_with_inserts_and_deletes(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    initial = seed(hoop_sandbox, 10_900)
    served_ids: list[str] = []
    inserted: list[str] = []
    deleted: set[str] = set()

    def change_store(page: SearchPageServed) -> None:
        served_ids.extend(page.ids)
        # New records on top push the rows of an offset page down, so the next
        # `page` repeats the previous page's last rows.
        inserted.extend(page.insert(12))
        for record_id in page.ids[-60:-55]:
            page.delete(record_id)
            deleted.add(record_id)

    hoop_sandbox.on_search_page(change_store)
    search = client.opportunities.search_advanced(page_size=500)
    pages = [page async for page in search.pages()]
    ids = [record.id for page in pages for record in page.items]

    assert len(served_ids) > len(set(served_ids))
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(initial) | set(inserted)
    assert any(page.cursor is not None and page.cursor.search_after for page in pages)
    assert pages[-1].next_cursor is None
    assert len(pages) <= len(initial) // 500 + 2


async def test_post_search_records_moved_to_the_end(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    initial = seed(hoop_sandbox, 1_500)
    served_ids: list[str] = []
    moved: list[str] = []

    def move_read_records(page: SearchPageServed) -> None:
        served_ids.extend(page.ids)
        # An update stamps updatedAt, which moves the record to the end of an
        # ascending date_updated order: the server sends it again pages later.
        for record_id in page.ids[:3]:
            page.update(record_id, monetary_value=12_345)
            moved.append(record_id)

    hoop_sandbox.on_search_page(move_read_records)
    sort = [{"field": "date_updated", "direction": "asc"}]
    search = client.opportunities.search_advanced(page_size=100, sort=sort)
    ids = [record.id async for record in search]

    assert len(served_ids) > len(set(served_ids))
    assert len(ids) == len(set(ids))
    assert set(moved) <= set(ids)
    assert set(ids) <= set(initial)
