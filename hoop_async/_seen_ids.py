"""Memory of the record ids one search iteration has yielded, so that a record
the server sends twice is yielded once. It keeps a bounded window of recent ids,
or every id when the search order lets records move far ahead.
"""

from __future__ import annotations

from collections import deque

__all__ = ["WINDOW_IDS", "SeenIds"]

# Minimum number of recent ids kept in window mode (at least two whole pages are
# kept too). A 20-character id costs about 110 bytes in a set (measured on
# CPython 3.11), so the window stays near 150 kB however long the iteration runs.
WINDOW_IDS = 1_000


class SeenIds:
    """Ids already yielded, checked page by page.

    Window mode keeps the ids of the last pages while they number at least
    `WINDOW_IDS`, and always the last two pages. That catches the repeats that
    a creation-ordered search produces. A cursor search serves rows strictly
    after a position that never moves, because createdAt does not change, so a
    repeat sits at a page boundary. An offset page (POST `page`) repeats the
    last rows of the previous pages when records are inserted ahead of the read
    position, and the window covers up to `WINDOW_IDS` such inserts between two
    page requests.

    `remember_all=True` keeps every id, for orders on fields that change (such
    as date_updated), where an edited record can come back any number of pages
    later. Memory then grows by about 110 bytes per record (22 MB for 200,000).
    """

    def __init__(self, *, remember_all: bool = False) -> None:
        self._remember_all = remember_all
        self._all: set[str] = set()
        self._window: set[str] = set()
        self._pages: deque[list[str]] = deque()
        self._current: list[str] = []

    def add(self, record_id: str) -> bool:
        """Remember `record_id` and return True, or return False if it was seen before."""
        if self._remember_all:
            if record_id in self._all:
                return False
            self._all.add(record_id)
            return True
        if record_id in self._window:
            return False
        self._window.add(record_id)
        self._current.append(record_id)
        return True

    def end_page(self) -> None:
        """Close the current page, forgetting the oldest pages beyond the window."""
        if self._remember_all:
            return
        self._pages.append(self._current)
        self._current = []
        while len(self._pages) > 2 and len(self._window) - len(self._pages[0]) >= WINDOW_IDS:
            self._window.difference_update(self._pages.popleft())

    def __len__(self) -> int:
        """Return how many ids are remembered now."""
        return len(self._all) if self._remember_all else len(self._window)
