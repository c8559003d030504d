"""The search page hook: when it runs, what it sees, and the store changes it makes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from hoop_async.sandbox.search_hooks import SearchPageServed

from .api import Api

SEARCH = "/opportunities/search"
# In the past, so records created or updated during a test sort after the seeded ones.
NEWEST = datetime(2024, 2, 1, 12, 0, tzinfo=timezone.utc)


def seed_records(api: Api, count: int) -> list[str]:
    """Bulk-add `count` records one minute apart; return their ids, newest first."""
    return api.sandbox.add_opportunities_bulk(api.location_id, count, newest_at=NEWEST)


async def get_ids(api: Api, **params: str) -> list[str]:
    reply = await api.get(SEARCH, params={"location_id": api.location_id, **params})
    assert reply.status == 200, reply.body
    return [row["id"] for row in reply.body["opportunities"]]


async def test_hook_sees_each_page(api: Api) -> None:
    ids = seed_records(api, 5)
    served: list[SearchPageServed] = []
    api.sandbox.on_search_page(served.append)

    await get_ids(api, limit="2")
    reply = await api.post(SEARCH, json={"locationId": api.location_id, "limit": 3, "page": 2})

    assert reply.status == 201
    assert [page.method for page in served] == ["GET", "POST"]
    assert [page.number for page in served] == [1, 2]
    assert served[0].ids == tuple(ids[:2])
    assert served[1].ids == tuple(ids[3:5])
    assert served[0].request == {"location_id": api.location_id, "limit": "2"}
    assert served[1].request == {"locationId": api.location_id, "limit": 3, "page": 2}
    assert served[1].location_id == api.location_id


async def test_changes_land_before_response(api: Api) -> None:
    ids = seed_records(api, 6)

    def change_store(page: SearchPageServed) -> None:
        page.delete(ids[2])
        page.insert(1, created_at=NEWEST - timedelta(minutes=3, seconds=30))

    remove = api.sandbox.on_search_page(change_store)
    first = await get_ids(api, limit="2")
    remove()
    everything = await get_ids(api)

    assert first == ids[:2]
    assert ids[2] not in everything
    assert len(everything) == 6
    assert everything[:2] == ids[:2]
    assert everything[2] == ids[3]
    assert everything[3] not in ids
    assert everything[4:] == ids[4:]


async def test_update_moves_record_in_updated_order(api: Api) -> None:
    ids = seed_records(api, 4)
    sort = [{"field": "date_updated", "direction": "asc"}]
    body: dict[str, Any] = {"locationId": api.location_id, "limit": 2, "sort": sort}

    remove = api.sandbox.on_search_page(lambda page: page.update(page.ids[0], name="Moved"))
    first = await api.post(SEARCH, json={**body, "page": 1})
    remove()
    rest = await api.post(SEARCH, json={**body, "page": 2})

    oldest_first = ids[::-1]
    assert [row["id"] for row in first.body["opportunities"]] == oldest_first[:2]
    assert [row["id"] for row in rest.body["opportunities"]] == [oldest_first[3], oldest_first[0]]


async def test_removed_hook_stops(api: Api) -> None:
    seed_records(api, 3)
    served: list[SearchPageServed] = []
    remove = api.sandbox.on_search_page(served.append)

    await get_ids(api)
    remove()
    remove()
    await get_ids(api)

    assert len(served) == 1


async def test_failing_hook_fails_request(api: Api) -> None:
    seed_records(api, 3)

    def fail(page: SearchPageServed) -> None:
        raise RuntimeError("hook failed")

    api.sandbox.on_search_page(fail)
    reply = await api.get(SEARCH, params={"location_id": api.location_id})

    assert reply.status == 500


async def test_unknown_record_raises(api: Api) -> None:
    seed_records(api, 3)
    errors: list[Exception] = []

    def change_unknown(page: SearchPageServed) -> None:
        for change in (lambda: page.delete("missing"), lambda: page.update("missing", name="x")):
            with pytest.raises(ValueError, match="missing") as caught:
                change()
            errors.append(caught.value)

    api.sandbox.on_search_page(change_unknown)
    await get_ids(api)

    assert len(errors) == 2
