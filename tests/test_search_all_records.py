"""Both search iterators over 25,000 records: every id once, in the store's order."""

from __future__ import annotations

from typing import Any

import pytest

from hoop_async import HoopClient, PostSearchCursor
from hoop_async.sandbox import Sandbox, SandboxConfig

COUNT = 25_000


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    # Above 100 requests per 10 s the client's rate limiter would pace the 250
    # GET pages; these tests measure paging, so the sandbox allows more.
    return SandboxConfig(rate_limit_max=100_000)


def stored_ids(sandbox: Sandbox) -> list[str]:
    """Return the ids of the sandbox's store, newest first, read directly."""
    return [record["id"] for record in sandbox.opportunities(sandbox.location_id)]


@pytest.mark.slow
async def test_get_search_reads_25000_records(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, COUNT)
    expected = stored_ids(hoop_sandbox)

    ids = [record.id async for record in client.opportunities.search()]

    assert len(expected) == COUNT
    assert len(ids) == COUNT
    assert len(set(ids)) == COUNT
    assert ids == expected


@pytest.mark.slow
async def test_post_search_reads_25000_records(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, COUNT)
    expected = stored_ids(hoop_sandbox)
    search = client.opportunities.search_advanced()

    pages = [page async for page in search.pages()]
    ids = [record.id for page in pages for record in page.items]

    assert len(ids) == COUNT
    assert len(set(ids)) == COUNT
    assert ids == expected
    assert [page.cursor for page in pages[:20]] == [
        None,
        *(PostSearchCursor(page=number) for number in range(2, 21)),
    ]
    later_cursors = [page.cursor for page in pages[20:]]
    assert all(cursor is not None and cursor.page is None for cursor in later_cursors)
    assert all(cursor is not None and cursor.search_after for cursor in later_cursors)
    assert pages[-1].next_cursor is None


@pytest.mark.slow
async def test_post_search_sends_same_body_on_every_page(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, COUNT)
    expected = [
        record["id"]
        for record in hoop_sandbox.opportunities(hoop_sandbox.location_id)
        if record["status"] in ("open", "won")
    ]
    bodies: list[dict[str, Any]] = []
    hoop_sandbox.on_search_page(lambda page: bodies.append(dict(page.request)))
    filters = [{"field": "status", "operator": "in", "value": ["open", "won"]}]
    sort = [{"field": "date_added", "direction": "desc"}]

    search = client.opportunities.search_advanced(query="opportunity", filters=filters, sort=sort)
    ids = [record.id async for record in search]

    assert len(expected) > 10_000
    assert ids == expected
    assert "page" in bodies[0]
    assert "searchAfter" in bodies[-1]
    assert "page" not in bodies[-1]
    for body in bodies:
        assert body["query"] == "opportunity"
        assert body["filters"] == filters
        assert body["sort"] == sort
        assert body["limit"] == 500
        assert body["locationId"] == hoop_sandbox.location_id
