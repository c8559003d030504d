"""Benchmark of the search iterators against a sandbox in a separate process.

(a) Peak memory growth (tracemalloc) while streaming 200,000 records, against
the 30 MB goal. (b) Records per second with prefetch on and off when every
request takes 20 ms longer, as a ratio (goal: at least 1.6). Prints a table
and appends it to benchmarks/RESULTS.md.

Run: python -m benchmarks.bench_search
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attrs

from benchmarks.harness import Server, server_process
from hoop_async import HoopClient

HERE = Path(__file__).resolve().parent
RESULTS_FILE = HERE / "RESULTS.md"
RESULTS_HEADER = "# Benchmark results\n\nEach run appends a section; the newest is last.\n"

MEMORY_RECORDS = 200_000
SMALL_MEMORY_RECORDS = 20_000
MEMORY_GOAL_MB = 30.0
LATENCY_SECONDS = 0.020
SPEED_RECORDS = 3_000
SPEED_PAGE_SIZE = 100
WORK_PER_PAGE_SECONDS = (0.0, 0.010, 0.020)
REPEATS = 3
PREFETCH_GOAL = 1.6


@attrs.frozen
class MemoryRow:
    endpoint: str
    records: int
    peak_bytes: int

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 1_000_000


@attrs.frozen
class SpeedRow:
    work_seconds: float
    off: float
    """Records per second with prefetch=0 (median)."""
    on: float
    """Records per second with prefetch=1 (median)."""

    @property
    def ratio(self) -> float:
        return self.on / self.off


@asynccontextmanager
async def search_server(opportunities: int, latency: float) -> AsyncIterator[Server]:
    """Start server.py with `opportunities` seeded and `latency` added; yield its address."""
    options = ("--opportunities", str(opportunities), "--latency", str(latency))
    async with server_process(*options) as handle:
        yield handle.server


def open_client(server: Server) -> HoopClient:
    return HoopClient(token=server.token, base_url=server.url, location_id=server.location_id)


def search(client: HoopClient, endpoint: str, max_items: int | None) -> Any:
    if endpoint == "GET":
        return client.opportunities.search(max_items=max_items)
    return client.opportunities.search_advanced(max_items=max_items)


async def peak_growth(server: Server, endpoint: str, max_items: int | None) -> MemoryRow:
    """Stream the records and return the peak of memory allocated meanwhile."""
    async with open_client(server) as client:
        await search(client, endpoint, max_items=1).collect()  # connection, caches
        gc.collect()
        tracemalloc.start()
        try:
            count = 0
            async for _record in search(client, endpoint, max_items):
                count += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return MemoryRow(endpoint=endpoint, records=count, peak_bytes=peak)


async def measure_memory() -> list[MemoryRow]:
    async with search_server(MEMORY_RECORDS, 0.0) as server:
        return [
            await peak_growth(server, "GET", SMALL_MEMORY_RECORDS),
            await peak_growth(server, "GET", None),
            await peak_growth(server, "POST", SMALL_MEMORY_RECORDS),
            await peak_growth(server, "POST", None),
        ]


async def records_per_second(client: HoopClient, prefetch: int, work_seconds: float) -> float:
    """Read every record, spending `work_seconds` per page of records as a caller would."""
    started = time.perf_counter()
    count = 0
    search = client.opportunities.search(page_size=SPEED_PAGE_SIZE, prefetch=prefetch)
    async for _record in search:
        count += 1
        if count % SPEED_PAGE_SIZE == 0 and work_seconds:
            await asyncio.sleep(work_seconds)  # e.g. writing the batch to a database
    return count / (time.perf_counter() - started)


async def measure_speed() -> list[SpeedRow]:
    rows = []
    async with search_server(SPEED_RECORDS, LATENCY_SECONDS) as server:
        client = open_client(server)
        async with client:
            await client.opportunities.search(max_items=1).collect()
            for work in WORK_PER_PAGE_SECONDS:
                off: list[float] = []
                on: list[float] = []
                for _ in range(REPEATS):
                    off.append(await records_per_second(client, 0, work))
                    on.append(await records_per_second(client, 1, work))
                median_off, median_on = statistics.median(off), statistics.median(on)
                rows.append(SpeedRow(work_seconds=work, off=median_off, on=median_on))
    return rows


def machine() -> str:
    names = ("hoop-async", "aiohttp", "attrs", "cattrs", "backoff")
    libraries = ", ".join(f"{name} {version(name)}" for name in names)
    return (
        f"{os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}; {libraries}"
    )


def memory_table(rows: Sequence[MemoryRow]) -> list[str]:
    lines = [
        "| endpoint | records | peak growth (MB) | goal |",
        "|---|---:|---:|---|",
    ]
    for row in rows:
        goal = f"< {MEMORY_GOAL_MB:.0f} MB: {'met' if row.peak_mb < MEMORY_GOAL_MB else 'MISSED'}"
        lines.append(f"| {row.endpoint} | {row.records:,} | {row.peak_mb:.1f} | {goal} |")
    for endpoint in ("GET", "POST"):
        small, large = (row for row in rows if row.endpoint == endpoint)
        ratio = large.peak_bytes / small.peak_bytes
        lines.append(
            f"\n{endpoint}: growth at {large.records:,} records / at {small.records:,} "
            f"= {ratio:.2f} (1.0: flat)"
        )
    return lines


def speed_table(rows: Sequence[SpeedRow]) -> list[str]:
    lines = [
        "| caller work per page | prefetch off (records/s) | prefetch on (records/s) "
        "| on / off |",
        "|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.work_seconds * 1000:.0f} ms | {row.off:,.0f} | {row.on:,.0f} "
            f"| {row.ratio:.2f} |"
        )
    goal_row = next(row for row in rows if row.work_seconds == LATENCY_SECONDS)
    verdict = "met" if goal_row.ratio >= PREFETCH_GOAL else "MISSED"
    lines.append(
        f"\nPrefetch ratio with {LATENCY_SECONDS * 1000:.0f} ms of caller work per page: "
        f"{goal_row.ratio:.2f} (goal >= {PREFETCH_GOAL}: {verdict})"
    )
    return lines


def report(memory: Sequence[MemoryRow], speed: Sequence[SpeedRow]) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"## Search iterators, {when}",
        "",
        f"Command: `python -m benchmarks.bench_search`. Machine: {machine()}.",
        "The sandbox runs in a separate process on 127.0.0.1, with rate limits raised",
        "so the client's rate limiter does not pace the requests.",
        "",
        "### Peak memory growth while streaming (tracemalloc, default page sizes, prefetch 1)",
        "",
        *memory_table(memory),
        "",
        f"### Records per second, {LATENCY_SECONDS * 1000:.0f} ms added to every request",
        "",
        f"GET search, page size {SPEED_PAGE_SIZE}, {SPEED_RECORDS:,} records, median of "
        f"{REPEATS} runs. Each next cursor comes from the previous page, so prefetch can",
        "only overlap the next request with the caller's work on the current page, which",
        "includes converting its rows to Opportunity objects.",
        "",
        *speed_table(speed),
        "",
    ]
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-save", action="store_true", help=f"print only; do not append to {RESULTS_FILE.name}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    memory = asyncio.run(measure_memory())
    speed = asyncio.run(measure_speed())
    text = report(memory, speed)
    print(text)
    if not args.no_save:
        if not RESULTS_FILE.exists():
            RESULTS_FILE.write_text(RESULTS_HEADER, encoding="utf-8")
        with RESULTS_FILE.open("a", encoding="utf-8") as results:
            results.write("\n" + text)
        print(f"appended to {RESULTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
