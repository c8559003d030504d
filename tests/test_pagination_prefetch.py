"""Prefetch of search pages: how far ahead it requests, and how breaking out of
the loop or cancelling the caller stops it without leaving tasks behind."""

from __future__ import annotations

import asyncio

import pytest

from hoop_async import HoopClient, InvalidRequestError, Page, PageIterator
from hoop_async.sandbox import Sandbox
from hoop_async.sandbox.search_hooks import SearchPageServed

PAGES = 12
PAGE_SIZE = 10


class FakeServer:
    """Serves PAGES pages of PAGE_SIZE ids in memory and counts page requests."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self.release.set()

    async def fetch(self, cursor: int | None) -> Page[str, int]:
        self.started += 1
        number = cursor or 0
        await self.release.wait()
        items = tuple(f"id-{number}-{index}" for index in range(PAGE_SIZE))
        following = number + 1 if number + 1 < PAGES else None
        return Page(items=items, total=None, cursor=cursor, next_cursor=following)

    def search(self, prefetch: int) -> PageIterator[str, int]:
        return PageIterator(self.fetch, record_id=str, prefetch=prefetch)


async def settle(before: set[asyncio.Task[object]], turns: int = 200) -> set[asyncio.Task[object]]:
    """Run the event loop until no task beyond `before` is left, for at most `turns` turns.

    Returns the tasks that are still left over.
    """
    left: set[asyncio.Task[object]] = set()
    for _ in range(turns):
        left = asyncio.all_tasks() - before
        if not left:
            break
        await asyncio.sleep(0)
    return left


async def idle(turns: int = 50) -> None:
    """Give every runnable task `turns` turns of the event loop."""
    for _ in range(turns):
        await asyncio.sleep(0)


@pytest.mark.parametrize("prefetch", [0, 1, 2, 3])
async def test_prefetch_stays_within_depth(prefetch: int) -> None:
    server = FakeServer()
    ahead: list[int] = []
    taken = 0

    async for _page in server.search(prefetch).pages():
        taken += 1
        await idle()
        ahead.append(server.started - taken)

    assert taken == PAGES
    assert server.started == PAGES
    assert max(ahead) == prefetch
    assert ahead[: PAGES - prefetch] == [prefetch] * (PAGES - prefetch)


async def test_prefetch_starts_before_first_record() -> None:
    server = FakeServer()

    async with aiter(server.search(prefetch=1)) as records:
        first = await records.__anext__()
        # The caller has not awaited anything since it got the record.
        started_before_work = server.started

    assert first == "id-0-0"
    assert started_before_work == 2


async def test_records_keep_page_order_with_prefetch() -> None:
    server = FakeServer()

    ids = await server.search(prefetch=3).collect()

    expected = [f"id-{page}-{index}" for page in range(PAGES) for index in range(PAGE_SIZE)]
    assert ids == expected


async def test_cancel_while_waiting_for_page() -> None:
    server = FakeServer()
    server.release.clear()
    before = asyncio.all_tasks()

    async def consume() -> None:
        async for _record in server.search(prefetch=1):
            pass

    consumer = asyncio.get_running_loop().create_task(consume())
    await idle()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert server.started == 1
    assert asyncio.all_tasks() - before == set()


async def test_no_prefetch_past_max_items(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, 100)
    served: list[SearchPageServed] = []
    hoop_sandbox.on_search_page(served.append)

    limited = await client.opportunities.search(page_size=20, max_items=40).collect()
    first = await client.opportunities.search(page_size=20).first()

    assert len(limited) == 40
    assert first is not None
    assert len(served) == 3


async def test_next_page_requested_during_work(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, 50)
    second_page_served = asyncio.Event()

    def watch(page: SearchPageServed) -> None:
        if page.number == 2:
            second_page_served.set()

    hoop_sandbox.on_search_page(watch)
    async with client.opportunities.search(page_size=10).pages() as pages:
        first = await pages.__anext__()
        # The caller holds page 1 and has not asked for page 2 yet.
        await asyncio.wait_for(second_page_served.wait(), timeout=10)

    assert len(first.items) == 10


@pytest.mark.parametrize("iterate", ["records", "pages"])
async def test_break_leaves_no_tasks(
    client: HoopClient, hoop_sandbox: Sandbox, iterate: str
) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, 500)
    served: list[SearchPageServed] = []
    hoop_sandbox.on_search_page(served.append)
    await client.opportunities.pipelines()  # opens the connection and its server task
    before = asyncio.all_tasks()

    search = client.opportunities.search(page_size=100)
    if iterate == "records":
        async for _record in search:
            break
    else:
        async for _page in search.pages():
            break

    assert await settle(before) == set()
    await idle()
    assert len(served) <= 2


async def test_cancel_during_work_leaves_no_tasks(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    hoop_sandbox.add_opportunities_bulk(hoop_sandbox.location_id, 500)
    served: list[SearchPageServed] = []
    hoop_sandbox.on_search_page(served.append)
    await client.opportunities.pipelines()
    before = asyncio.all_tasks()
    working = asyncio.Event()

    async def export() -> None:
        async for _record in client.opportunities.search(page_size=100):
            working.set()
            await asyncio.Event().wait()  # work that never ends

    exporter = asyncio.get_running_loop().create_task(export())
    await working.wait()
    exporter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await exporter

    assert await settle(before) == set()
    await idle()
    assert len(served) <= 2


async def test_aclose_cancels_prefetch() -> None:
    server = FakeServer()
    before = asyncio.all_tasks()
    pages = server.search(prefetch=1).pages()

    await pages.__anext__()
    server.release.clear()
    await idle()
    await pages.aclose()

    assert server.started == 2
    assert asyncio.all_tasks() - before == set()
    with pytest.raises(StopAsyncIteration):
        await pages.__anext__()


@pytest.mark.parametrize("prefetch", [-1, True, 1.5])
async def test_prefetch_must_be_count(client: HoopClient, prefetch: object) -> None:
    with pytest.raises(InvalidRequestError, match="prefetch"):
        client.opportunities.search(prefetch=prefetch)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="prefetch"):
        client.opportunities.search_advanced(prefetch=prefetch)  # type: ignore[arg-type]
