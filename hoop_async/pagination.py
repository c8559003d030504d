"""Paging through search results: cursors, the rules that advance them, and the iterator.

The iterator knows no endpoint: a resource hands it a coroutine that fetches one
page for a cursor. The cursor rules of the two search endpoints live here:
GET search continues with the `startAfter` + `startAfterId` pair, POST search
with `page` up to the 10,000-record window and `searchAfter` beyond it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any, Generic, TypeVar

import attrs

from hoop_async._constants import POST_SEARCH_PAGE_WINDOW
from hoop_async.errors import HoopError
from hoop_async.models.results import CursorValue, SearchMeta

__all__ = [
    "GetSearchCursor",
    "Page",
    "PageIterator",
    "PaginationError",
    "PostSearchCursor",
    "next_get_cursor",
    "next_post_cursor",
]

T = TypeVar("T")
C = TypeVar("C")


class PaginationError(HoopError):
    """The server sent a cursor that would make paging loop or skip records."""

    def __init__(self, message: str, cursor: object) -> None:
        self.cursor = cursor
        super().__init__(message)


@attrs.frozen(kw_only=True)
class GetSearchCursor:
    """Position in GET search results: echo both values exactly as `meta` sent them."""

    start_after: CursorValue
    start_after_id: str


@attrs.frozen(kw_only=True)
class PostSearchCursor:
    """Position in POST search results: a 1-based `page`, or the `sort` of the last row seen."""

    page: int | None = None
    search_after: tuple[Any, ...] | None = None


@attrs.frozen(kw_only=True)
class Page(Generic[T, C]):
    """One page of results, the total the server reported, and the cursor of the next page.

    `next_cursor` is None on the last page; passing it to a new search resumes
    right after this page. `total` is the server's estimate and may drift.
    """

    items: tuple[T, ...]
    total: int | None
    cursor: C | None
    next_cursor: C | None
    meta: SearchMeta | None = None


def next_get_cursor(
    current: GetSearchCursor | None, meta: SearchMeta, row_count: int, limit: int
) -> GetSearchCursor | None:
    """Return the cursor after a GET search page, or None when the page was the last.

    A short page, an empty page or a missing half of the cursor pair ends the
    search; `meta.total` is approximate and is not consulted.
    """
    if row_count < limit or meta.start_after is None or not meta.start_after_id:
        return None
    following = GetSearchCursor(start_after=meta.start_after, start_after_id=meta.start_after_id)
    if following == current:
        raise PaginationError(
            f"GET search returned the cursor it was given (startAfter={following.start_after!r}, "
            f"startAfterId={following.start_after_id!r}); stopping instead of looping",
            following,
        )
    return following


def next_post_cursor(
    current: PostSearchCursor | None, rows: Sequence[Mapping[str, Any]], limit: int
) -> PostSearchCursor | None:
    """Return the cursor after a POST search page, or None when the page was the last.

    Pages go by number while the next page still ends within the first 10,000
    records; after that the last row's `sort` value continues the search.
    """
    if len(rows) < limit:
        return None
    page = current.page if current and current.page else None
    if current is None or page is not None:
        following_page = (page or 1) + 1
        if following_page * limit <= POST_SEARCH_PAGE_WINDOW:
            return PostSearchCursor(page=following_page)

    sort = rows[-1].get("sort")
    if not isinstance(sort, list) or not sort:
        raise PaginationError(
            "POST search rows carry no `sort` value, so paging cannot continue past "
            f"{POST_SEARCH_PAGE_WINDOW} records",
            current,
        )
    following = PostSearchCursor(search_after=tuple(sort))
    if following == current:
        raise PaginationError(
            f"POST search returned the searchAfter value it was given ({list(sort)!r}); "
            "stopping instead of looping",
            following,
        )
    return following


# How many recent pages of ids are remembered to drop a record the server sends
# twice (offset paging repeats rows when records are inserted between two pages).
_DEDUPE_PAGES = 2


class PageIterator(Generic[T, C]):
    """Async iterator over every record of a search, fetching pages on demand.

    `async for opportunity in iterator` yields records; `pages()` yields whole
    pages with their cursors; `collect()` and `first()` are shortcuts.
    """

    def __init__(
        self,
        fetch_page: Callable[[C | None], Awaitable[Page[T, C]]],
        *,
        record_id: Callable[[T], str],
        start: C | None = None,
        max_items: int | None = None,
    ) -> None:
        self._fetch_page = fetch_page
        self._record_id = record_id
        self._start = start
        self._max_items = max_items

    def __aiter__(self) -> AsyncIterator[T]:
        return self._records()

    async def pages(self) -> AsyncGenerator[Page[T, C], None]:
        """Yield each page in order, ending after the last one."""
        cursor = self._start
        seen_cursors: set[C] = set()
        while True:
            page = await self._fetch_page(cursor)
            yield page
            if page.next_cursor is None:
                return
            if page.next_cursor in seen_cursors:
                raise PaginationError(
                    f"search cursor {page.next_cursor!r} came back a second time; "
                    "stopping instead of looping",
                    page.next_cursor,
                )
            seen_cursors.add(page.next_cursor)
            cursor = page.next_cursor

    async def collect(self) -> list[T]:
        """Return every record (up to `max_items`) as a list."""
        return [record async for record in self]

    async def first(self) -> T | None:
        """Return the first record, or None when the search matches nothing."""
        async with aclosing(self._records()) as records:
            async for record in records:
                return record
        return None

    async def _records(self) -> AsyncGenerator[T, None]:
        recent: deque[set[str]] = deque(maxlen=_DEDUPE_PAGES)
        yielded = 0
        if self._max_items is not None and self._max_items <= 0:
            return
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                page_ids: set[str] = set()
                for record in page.items:
                    record_id = self._record_id(record)
                    if record_id in page_ids or any(record_id in ids for ids in recent):
                        continue
                    page_ids.add(record_id)
                    yield record
                    yielded += 1
                    if self._max_items is not None and yielded >= self._max_items:
                        return
                recent.append(page_ids)
