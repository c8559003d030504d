"""Read-ahead of a sequence of awaitable items: a task requests the next items
while the reader works on the current one, never more than `depth` items ahead.
Pagination uses it to fetch the next search page during the caller's work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import attrs

__all__ = ["ReadAhead"]

X = TypeVar("X")


@attrs.frozen
class _Failure:
    """An exception of the producer, handed to the reader where the next item would be."""

    error: Exception


class ReadAhead(Generic[X]):
    """Items from `produce` in order, produced up to `depth` items ahead of the reader.

    `produce` returns the next item, or None after the last one. With depth 0
    every item is produced inside `next()`. With depth > 0 a task produces them:
    it takes one of `depth` slots before each item, and the reader frees the slot
    of an item when it requests the following one, or earlier with `prefetch()`.
    So the task never holds more than `depth` items that the reader has not taken.
    """

    def __init__(self, produce: Callable[[], Awaitable[X | None]], depth: int) -> None:
        if depth < 0:
            raise ValueError(f"depth must be 0 or more, not {depth}")
        self._produce = produce
        self._depth = depth
        self._task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[X | _Failure | None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._held_slot = False
        self._finished = False

    async def next(self) -> X | None:
        """Return the next item, or None after the last one; re-raise a producer error.

        Cancelling the caller while it waits here cancels the producer task too.
        """
        if self._finished:
            return None
        if self._depth == 0:
            return await self._next_inline()
        queue = self._start()
        self._release_slot()
        try:
            entry = await queue.get()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        self._held_slot = True
        if entry is None or isinstance(entry, _Failure):
            await self.aclose()
        if isinstance(entry, _Failure):
            raise entry.error
        return entry

    async def prefetch(self) -> None:
        """Let the task start on the item after the one last taken, before `next()` requests it.

        This yields to the event loop once, so the task starts (for a page: sends
        its request) before the reader goes on with work that may not yield.
        """
        if not self._release_slot():
            return
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            await self.aclose()
            raise

    def _release_slot(self) -> bool:
        if not self._held_slot or self._slots is None:
            return False
        self._held_slot = False
        self._slots.release()
        return True

    async def aclose(self) -> None:
        """Stop producing: cancel the task if it still runs and wait until it has ended."""
        self._finished = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})

    def cancel(self) -> None:
        """Stop producing without waiting, for a reader dropped without `aclose()`.

        The task ends on one of the next turns of the event loop.
        """
        self._finished = True
        task, self._task = self._task, None
        if task is not None and not task.done() and not task.get_loop().is_closed():
            task.cancel()

    async def _next_inline(self) -> X | None:
        try:
            item = await self._produce()
        except BaseException:
            self._finished = True
            raise
        if item is None:
            self._finished = True
        return item

    def _start(self) -> asyncio.Queue[X | _Failure | None]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._slots = asyncio.Semaphore(self._depth)
            self._task = asyncio.get_running_loop().create_task(
                _produce_into(self._produce, self._queue, self._slots)
            )
        return self._queue


async def _produce_into(
    produce: Callable[[], Awaitable[X | None]],
    queue: asyncio.Queue[X | _Failure | None],
    slots: asyncio.Semaphore,
) -> None:
    """Produce items into `queue`, one slot per item, until the end or an error.

    It holds no reference to the ReadAhead or its owner, so a reader dropped
    mid-iteration is freed at once and can cancel this task from `__del__`.
    """
    while True:
        await slots.acquire()
        try:
            item = await produce()
        except Exception as error:
            queue.put_nowait(_Failure(error))
            return
        queue.put_nowait(item)
        if item is None:
            return
