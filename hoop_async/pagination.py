"""Paging through search results: cursors, the rules that advance them, and the iterator.

The iterator knows no endpoint: a resource hands it a coroutine that fetches one
page for a cursor. The cursor rules of the two search endpoints live here:
GET search continues with the `startAfter` + `startAfterId` pair, POST search
with `page` up to the 10,000-record window and `searchAfter` beyond it.
Each iteration requests the next page ahead (`prefetch`), stops on a cursor
loop and drops records it has already yielded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from hoop_async._constants import POST_SEARCH_PAGE_WINDOW
from hoop_async._prefetch import ReadAhead
from hoop_async._seen_ids import SeenIds
from hoop_async.errors import HoopError
from hoop_async.models.results import CursorValue, SearchMeta

__all__ = [
    "GetSearchCursor",
    "Page",
    "PageIterator",
    "PageStream",
    "PaginationError",
    "PostSearchCursor",
    "RecordStream",
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

    NOTE: paging by number is offset paging, so a record deleted from pages
    already read shifts the rows behind it and one unread record is skipped.
    `searchAfter` pages do not have this gap.
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


class _LoopGuard:
    """A check for cursors that lead back to an earlier one, in constant memory.

    This is Brent's cycle detection: each new cursor is compared with a
    checkpoint, which moves to the newest cursor after 1, 2, 4, 8, ... steps.
    A loop of L cursors whose first cursor comes with page P is caught by page
    2 * max(P, L) + L.
    """

    def __init__(self, start: object) -> None:
        self._checkpoint = start
        self._steps = 0
        self._window = 1

    def check(self, cursor: object) -> None:
        """Raise PaginationError if `cursor` is the checkpoint, else count one step."""
        if cursor == self._checkpoint:
            raise PaginationError(
                f"search cursor {cursor!r} came back after it had been followed; "
                "the server is paging in a loop, so the search stops here",
                cursor,
            )
        self._steps += 1
        if self._steps == self._window:
            self._checkpoint = cursor
            self._window *= 2
            self._steps = 0


class _PageChain(Generic[T, C]):
    """The pages of one iteration, fetched in order, each with the previous page's cursor."""

    def __init__(
        self, fetch_page: Callable[[C | None], Awaitable[Page[T, C]]], start: C | None
    ) -> None:
        self._fetch_page = fetch_page
        self._cursor = start
        self._guard = _LoopGuard(start)
        self._error: PaginationError | None = None
        self._done = False

    async def next_page(self) -> Page[T, C] | None:
        """Return the next page, None after the last one, or raise a loop found earlier.

        A page whose next cursor repeats an earlier one is still returned, and
        the error is raised in place of the page after it.
        """
        if self._error is not None:
            raise self._error
        if self._done:
            return None
        page = await self._fetch_page(self._cursor)
        if page.next_cursor is None:
            self._done = True
            return page
        try:
            self._guard.check(page.next_cursor)
        except PaginationError as error:
            self._error = error
        self._cursor = page.next_cursor
        return page


class _Stream(Generic[T, C]):
    """Base of RecordStream and PageStream: the read-ahead of pages, the record
    conversion, the ids seen so far, and the shutdown."""

    def __init__(
        self,
        pages: ReadAhead[Page[Any, C]],
        seen: SeenIds,
        convert: Callable[[Any], T],
        record_id: Callable[[T], str],
    ) -> None:
        self._pages = pages
        self._seen = seen
        self._convert = convert
        self._record_id = record_id

    async def aclose(self) -> None:
        """Stop the iteration and cancel the page request in flight, if any."""
        await self._pages.aclose()

    def __del__(self) -> None:
        # A `break` out of `async for` drops the stream without closing it.
        pages = getattr(self, "_pages", None)
        if pages is not None:
            pages.cancel()

    def _fresh(self, row: Any) -> T | _Repeat:
        """Convert a row, or return REPEAT if this iteration has yielded its id already."""
        record = self._convert(row)
        return record if self._seen.add(self._record_id(record)) else REPEAT


class _Repeat:
    """Marks a row whose record this iteration has yielded already."""


REPEAT = _Repeat()


class RecordStream(_Stream[T, C]):
    """One iteration over the records of a search; from `async for` or `aiter(search)`.

    Rows are converted to records one at a time as the caller asks for them, so
    the conversion runs while the next page is being requested.
    `async with aiter(search) as records:` closes it on exit; a `break` or an
    exception out of `async for` cancels the page request in flight too.
    """

    def __init__(
        self,
        pages: ReadAhead[Page[Any, C]],
        seen: SeenIds,
        convert: Callable[[Any], T],
        record_id: Callable[[T], str],
        max_items: int | None,
    ) -> None:
        super().__init__(pages, seen, convert, record_id)
        self._remaining = max_items
        self._rows: Sequence[Any] = ()
        self._position = 0
        self._started = False

    def __aiter__(self) -> RecordStream[T, C]:
        return self

    async def __anext__(self) -> T:
        if self._remaining == 0:
            await self.aclose()
            raise StopAsyncIteration
        record = await self._next_fresh()
        if self._remaining is not None:
            self._remaining -= 1
            if self._remaining == 0:
                await self.aclose()
        return record

    async def _next_fresh(self) -> T:
        while True:
            while self._position < len(self._rows):
                row = self._rows[self._position]
                self._position += 1
                record = self._fresh(row)
                if not isinstance(record, _Repeat):
                    return record
            await self._next_page()

    async def _next_page(self) -> None:
        page = await self._pages.next()
        if page is None:
            raise StopAsyncIteration
        if self._started:
            self._seen.end_page()
        self._started = True
        self._rows = page.items
        self._position = 0
        if self._remaining is None or self._remaining > len(page.items):
            await self._pages.prefetch()

    async def __aenter__(self) -> RecordStream[T, C]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class PageStream(_Stream[T, C]):
    """One iteration over the pages of a search, from `search.pages()`.

    Records already yielded on an earlier page of this iteration are left out of
    `items`. Close it like RecordStream, with `async with` or by leaving the loop.
    """

    def __aiter__(self) -> PageStream[T, C]:
        return self

    async def __anext__(self) -> Page[T, C]:
        page = await self._pages.next()
        if page is None:
            raise StopAsyncIteration
        await self._pages.prefetch()
        fresh = [self._fresh(row) for row in page.items]
        self._seen.end_page()
        items = tuple(record for record in fresh if not isinstance(record, _Repeat))
        return attrs.evolve(page, items=items)

    async def __aenter__(self) -> PageStream[T, C]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _as_is(row: Any) -> Any:
    return row


class PageIterator(Generic[T, C]):
    """The records of a search, fetched page by page; iterate it with `async for`.

    `fetch_page` returns a page of raw rows for a cursor, and `convert` turns a
    row into a record (by default rows are the records). Each `async for` (and
    each `pages()`, `collect()` or `first()`) is a new iteration from `start`.
    While the caller works on one page, the next `prefetch` pages are requested
    (0 turns this off). `max_items` caps the records of `async for`,
    `collect()` and `first()`, not of `pages()`. An id seen twice in one
    iteration is yielded once (see SeenIds for the memory this takes with
    `remember_all_ids`).
    """

    def __init__(
        self,
        fetch_page: Callable[[C | None], Awaitable[Page[Any, C]]],
        *,
        record_id: Callable[[T], str],
        convert: Callable[[Any], T] = _as_is,
        start: C | None = None,
        max_items: int | None = None,
        prefetch: int = 1,
        remember_all_ids: bool = False,
    ) -> None:
        if prefetch < 0:
            raise ValueError(f"prefetch must be 0 or more, not {prefetch}")
        self._fetch_page = fetch_page
        self._record_id = record_id
        self._convert = convert
        self._start = start
        self._max_items = max_items
        self._prefetch = prefetch
        self._remember_all_ids = remember_all_ids

    def __aiter__(self) -> RecordStream[T, C]:
        return self._records(self._max_items)

    def pages(self) -> PageStream[T, C]:
        """Return an async iterator of the pages, each with the cursor to resume after it."""
        return PageStream(self._read_ahead(), self._seen_ids(), self._convert, self._record_id)

    async def collect(self) -> list[T]:
        """Return every record (up to `max_items`) as a list."""
        async with self._records(self._max_items) as records:
            return [record async for record in records]

    async def first(self) -> T | None:
        """Return the first record, or None when the search matches nothing."""
        limit = 1 if self._max_items is None else min(1, self._max_items)
        async with self._records(limit) as records:
            async for record in records:
                return record
        return None

    def _records(self, max_items: int | None) -> RecordStream[T, C]:
        return RecordStream(
            self._read_ahead(), self._seen_ids(), self._convert, self._record_id, max_items
        )

    def _read_ahead(self) -> ReadAhead[Page[Any, C]]:
        chain: _PageChain[Any, C] = _PageChain(self._fetch_page, self._start)
        return ReadAhead(chain.next_page, self._prefetch)

    def _seen_ids(self) -> SeenIds:
        return SeenIds(remember_all=self._remember_all_ids)
