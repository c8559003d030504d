"""The bulk runner: many single calls at bounded concurrency, one result per input, in order.

A fixed pool of workers pulls inputs from any iterable or async iterable, so
no coroutine is created per input up front and memory does not grow with the
input. Results come out in input order; a window bounds how far the workers
may run ahead of the slowest unfinished input. The report keeps counts and
the failures, which it writes as JSON Lines that a rerun takes as input.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Sequence,
)
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from hoop_async.errors import APIError, HoopError, InvalidRequestError

__all__ = ["BulkReport", "BulkResult", "BulkRun", "Progress", "read_failures"]

T = TypeVar("T")

# Outcome names of a result; operations add their own success names
# ("created", "updated", "unchanged").
FAILED = "failed"


@attrs.frozen(kw_only=True)
class BulkResult(Generic[T]):
    """Outcome of one input: its position, the input, the outcome name, and the value or error."""

    index: int
    input: Any
    outcome: str
    value: T | None = None
    error: HoopError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen(kw_only=True)
class Progress:
    """Counts for a progress display: results delivered, failures among them, calls in flight."""

    done: int
    failed: int
    in_flight: int


@attrs.define
class BulkReport:
    """Counts per outcome and every failure of a bulk run.

    `stopped` is True when the run stopped at a failure (`stop_on_failure`),
    `cancelled` when it was cancelled; the counts then cover what finished.
    """

    counts: Counter[str] = attrs.field(factory=Counter)
    failures: list[BulkResult[Any]] = attrs.field(factory=list)
    stopped: bool = False
    cancelled: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts[FAILED]

    @property
    def succeeded(self) -> int:
        return self.total - self.failed

    def add(self, result: BulkResult[Any]) -> None:
        self.counts[result.outcome] += 1
        if result.error is not None:
            self.failures.append(result)

    def failed_inputs(self) -> list[Any]:
        """Return the inputs that failed, in input order, to run them again."""
        return [failure.input for failure in self.failures]

    def write_failures(self, path: str | Path) -> int:
        """Write each failure as one JSON line (`index`, `input`, `error`); return the count."""
        with Path(path).open("w", encoding="utf-8") as stream:
            for failure in self.failures:
                stream.write(json.dumps(_failure_line(failure), default=str) + "\n")
        return len(self.failures)


def read_failures(path: str | Path) -> Iterable[Any]:
    """Yield the inputs of a failures file written by `BulkReport.write_failures`."""
    with Path(path).open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)["input"]
            except (ValueError, KeyError, TypeError) as error:
                raise InvalidRequestError(
                    f"{path} line {number}", line.strip()[:80], "expected a failures line"
                ) from error


def _failure_line(failure: BulkResult[Any]) -> dict[str, Any]:
    error = failure.error
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, APIError):
        described.update(status=error.status, code=error.code, trace_id=error.trace_id)
    return {"index": failure.index, "input": failure.input, "error": described}


Operation = Callable[[Any], Awaitable[tuple[str, T]]]


class BulkRun(Generic[T]):
    """One bulk run: iterate it for results in input order, or await it for the report.

        run = client.opportunities.bulk_upsert(records, concurrency=20)
        async for result in run:      # or: report = await run
            ...
        run.report.write_failures("failures.jsonl")

    `operation` returns (outcome, value) for an input or raises HoopError.
    """

    def __init__(
        self,
        inputs: Iterable[Any] | AsyncIterable[Any],
        operation: Operation[T],
        *,
        concurrency: int = 10,
        window: int | None = None,
        stop_on_failure: bool = False,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError("concurrency", concurrency, "expected an integer >= 1")
        self.report = BulkReport()
        self._inputs: AsyncGenerator[Any, None] = _async_items(inputs)
        self._operation = operation
        self._concurrency = concurrency
        self._window = window or concurrency * 4
        self._stop_on_failure = stop_on_failure
        self._on_progress = on_progress
        self._started = False

    def __await__(self) -> Generator[Any, None, BulkReport]:
        return self._drain().__await__()

    async def _drain(self) -> BulkReport:
        async for _ in self:
            pass
        return self.report

    def __aiter__(self) -> AsyncIterator[BulkResult[T]]:
        if self._started:
            raise RuntimeError("a bulk run can be consumed once; start a new one")
        self._started = True
        return self._results()

    async def _results(self) -> AsyncIterator[BulkResult[T]]:
        state = _RunState(window=self._window)
        workers = [asyncio.ensure_future(self._work(state)) for _ in range(self._concurrency)]
        for worker in workers:
            worker.add_done_callback(lambda _: state.changed.set())
        try:
            async for result in state.ordered(workers):
                self.report.add(result)
                state.release()
                self._progress(state)
                if result.error is not None and self._stop_on_failure:
                    self.report.stopped = True
                yield result
        except (asyncio.CancelledError, GeneratorExit):
            self.report.cancelled = True
            raise
        finally:
            await _cancel(workers)
            await self._inputs.aclose()

    async def _work(self, state: _RunState) -> None:
        while True:
            await state.slots.acquire()
            item = await state.next_input(self._inputs)
            if item is None:
                state.slots.release()
                return
            index, value = item
            state.in_flight += 1
            try:
                result = await self._run_one(index, value)
            finally:
                state.in_flight -= 1
            if result.error is not None and self._stop_on_failure:
                # Stop taking input at once; results already finished are still delivered.
                state.exhausted = True
            state.finish(result)

    async def _run_one(self, index: int, value: Any) -> BulkResult[T]:
        try:
            outcome, produced = await self._operation(value)
        except HoopError as error:
            return BulkResult(index=index, input=value, outcome=FAILED, error=error)
        return BulkResult(index=index, input=value, outcome=outcome, value=produced)

    def _progress(self, state: _RunState) -> None:
        if self._on_progress is not None:
            self._on_progress(
                Progress(
                    done=self.report.total, failed=self.report.failed, in_flight=state.in_flight
                )
            )


class _RunState:
    """Shared by the workers of one run: the input position, finished results, the window."""

    def __init__(self, *, window: int) -> None:
        # One slot per input taken and not yet delivered, so results waiting for a
        # slower predecessor never exceed the window.
        self.slots = asyncio.Semaphore(window)
        self.pull_lock = asyncio.Lock()
        self.next_index = 0
        self.exhausted = False
        self.in_flight = 0
        self.finished: dict[int, BulkResult[Any]] = {}
        self.changed = asyncio.Event()

    async def next_input(self, inputs: AsyncIterator[Any]) -> tuple[int, Any] | None:
        async with self.pull_lock:
            if self.exhausted:
                return None
            try:
                value = await inputs.__anext__()
            except StopAsyncIteration:
                self.exhausted = True
                self.changed.set()
                return None
            index, self.next_index = self.next_index, self.next_index + 1
            return index, value

    def finish(self, result: BulkResult[Any]) -> None:
        self.finished[result.index] = result
        self.changed.set()

    def release(self) -> None:
        self.slots.release()

    async def ordered(
        self, workers: Sequence[asyncio.Future[None]]
    ) -> AsyncIterator[BulkResult[Any]]:
        """Yield finished results in input order until every input is delivered."""
        emitted = 0
        while True:
            while emitted in self.finished:
                yield self.finished.pop(emitted)
                emitted += 1
            if self.exhausted and emitted == self.next_index:
                return
            failed_worker = next((w for w in workers if w.done() and w.exception()), None)
            if failed_worker is not None:
                failed_worker.result()
            self.changed.clear()
            await self.changed.wait()


async def _async_items(inputs: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    if isinstance(inputs, AsyncIterable):
        async for item in inputs:
            yield item
    else:
        for item in inputs:
            yield item


async def _cancel(workers: Sequence[asyncio.Future[None]]) -> None:
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
