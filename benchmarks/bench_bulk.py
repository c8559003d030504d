"""Bulk upserts against a sandbox in a separate process.

(a) Rate-ceiling use: upserts against an enforced 100-per-1 s limit, through
`bulk_upsert` and through the official SDK with asyncio.gather: share of the
ceiling used, 429s received, records lost. (b) The same limit with faults
injected (10 % 5xx, 1 % resets before and 1 % after the handler): every record
accounted for, duplicates in the store, records lost, rate / limit. (c) Peak
memory growth (tracemalloc) while bulk-upserting from a generator, at two sizes,
against a sandbox without a rate limit, printed as a ratio.

Run: python -m benchmarks.bench_bulk [--ceiling-records N] [--fault-records N]
     [--memory-records SMALL LARGE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from benchmarks import official
from benchmarks.harness import (
    Server,
    markdown_table,
    open_client,
    quiet_retry_logs,
    server_process,
    verdict,
)
from hoop_async import RateLimit, RetryPolicy

LIMIT_MAX = 100
LIMIT_INTERVAL_MS = 1_000
LIMIT_PER_SECOND = LIMIT_MAX * 1000 / LIMIT_INTERVAL_MS
CONCURRENCY = 20
CEILING_GOAL = 0.95
MAX_429_SHARE = 0.01
RATE_TOLERANCE = 0.10
# With 12 % of requests faulted, five tries leave about 1 record in 40,000 (0.12 ** 5)
# failed, which 10,000 records can hit, so the fault run allows more tries.
FAULT_RETRY = RetryPolicy(max_tries=8, base_delay=0.1, max_delay=2.0)
LIMITED_SERVER = (
    "--rate-limit-max",
    str(LIMIT_MAX),
    "--rate-limit-interval-ms",
    str(LIMIT_INTERVAL_MS),
    "--enforce-rate-limit",
)


@attrs.frozen
class CeilingRow:
    sdk: str
    records: int
    seconds: float
    succeeded: int
    responses_429: int
    requests: int
    stored: int
    duplicates: int

    @property
    def share_of_ceiling(self) -> float:
        return self.succeeded / self.seconds / LIMIT_PER_SECOND

    @property
    def lost(self) -> int:
        """Inputs with no opportunity in the store (each input has its own contact and pipeline)."""
        return self.records - (self.stored - self.duplicates)


@attrs.frozen
class FaultRow:
    records: int
    seconds: float
    accounted: int
    failed: int
    stored: int
    duplicates: int
    responses: int
    statuses: dict[int, int]
    transport_errors: int
    retries: int

    @property
    def rate_ratio(self) -> float:
        """Requests sent per second (answered or dropped) over the limit's requests per second."""
        return (self.responses + self.transport_errors) / self.seconds / LIMIT_PER_SECOND

    @property
    def record_rate_ratio(self) -> float:
        """Records upserted per second over the limit's requests per second."""
        return (self.accounted - self.failed) / self.seconds / LIMIT_PER_SECOND

    @property
    def lost(self) -> int:
        return self.records - (self.stored - self.duplicates)


@attrs.frozen
class MemoryRow:
    records: int
    peak_bytes: int
    created: int
    updated: int


def contacts_for(records: int, pipelines: int = 2) -> int:
    return -(-records // pipelines)


def upsert_records(server: Server, count: int) -> Iterator[dict[str, Any]]:
    """Yield `count` upsert records, one per (contact, pipeline) pair while pairs last."""
    contacts = server.contact_ids
    pipelines = server.pipeline_ids
    for index in range(count):
        yield {
            "pipeline_id": pipelines[(index // len(contacts)) % len(pipelines)],
            "contact_id": contacts[index % len(contacts)],
            "name": f"Bulk deal {index}",
            "status": "open",
        }


def wire_body(server: Server, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipelineId": record["pipeline_id"],
        "contactId": record["contact_id"],
        "locationId": server.location_id,
        "name": record["name"],
        "status": record["status"],
    }


async def ceiling_hoop(records: int) -> CeilingRow:
    options = ("--contacts", str(contacts_for(records)), *LIMITED_SERVER)
    async with server_process(*options) as handle:
        client = open_client(handle.server, rate_limit=RateLimit())
        async with client:
            started = time.perf_counter()
            run = client.opportunities.bulk_upsert(
                upsert_records(handle.server, records), concurrency=CONCURRENCY
            )
            report = await run
            seconds = time.perf_counter() - started
            stats = client.stats
    return CeilingRow(
        sdk="hoop_async bulk_upsert",
        records=records,
        seconds=seconds,
        succeeded=report.succeeded,
        responses_429=stats.statuses[429],
        requests=stats.requests,
        stored=handle.summary["opportunities"],
        duplicates=handle.summary["duplicates"],
    )


async def ceiling_official(records: int) -> CeilingRow:
    options = ("--contacts", str(contacts_for(records)), *LIMITED_SERVER)
    async with server_process(*options) as handle:
        server = handle.server
        bodies = [wire_body(server, record) for record in upsert_records(server, records)]
        result = await official.run_driver(
            "upsert-gather", server.url, server.token, bodies, records
        )
    statuses = {int(status): n for status, n in result["statuses"].items()}
    return CeilingRow(
        sdk="official SDK, asyncio.gather",
        records=records,
        seconds=result["seconds"],
        succeeded=result["outcomes"].get("ok", 0),
        responses_429=statuses.get(429, 0),
        requests=sum(statuses.values()),
        stored=handle.summary["opportunities"],
        duplicates=handle.summary["duplicates"],
    )


async def with_faults(records: int) -> FaultRow:
    options = (
        "--contacts",
        str(contacts_for(records)),
        *LIMITED_SERVER,
        "--error-rate",
        "0.10",
        "--reset-before-rate",
        "0.01",
        "--reset-after-rate",
        "0.01",
        "--fault-seed",
        "1",
    )
    async with server_process(*options) as handle:
        client = open_client(handle.server, rate_limit=RateLimit(), retry=FAULT_RETRY)
        async with client:
            started = time.perf_counter()
            report = await client.opportunities.bulk_upsert(
                upsert_records(handle.server, records), concurrency=CONCURRENCY
            )
            seconds = time.perf_counter() - started
            stats = client.stats
    return FaultRow(
        records=records,
        seconds=seconds,
        accounted=report.total,
        failed=report.failed,
        stored=handle.summary["opportunities"],
        duplicates=handle.summary["duplicates"],
        responses=sum(stats.statuses.values()),
        statuses=dict(sorted(stats.statuses.items())),
        transport_errors=stats.transport_errors,
        retries=stats.retries,
    )


async def memory_growth(server: Server, records: int) -> MemoryRow:
    """Bulk-upsert `records` from a generator and return the peak allocated meanwhile."""
    async with open_client(server) as client:
        await client.opportunities.bulk_upsert(upsert_records(server, 50), concurrency=CONCURRENCY)
        gc.collect()
        tracemalloc.start()
        try:
            report = await client.opportunities.bulk_upsert(
                upsert_records(server, records), concurrency=CONCURRENCY
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return MemoryRow(
        records=records,
        peak_bytes=peak,
        created=report.counts["created"],
        updated=report.counts["updated"],
    )


async def measure_memory(sizes: Sequence[int]) -> list[MemoryRow]:
    # 5,000 contacts and 2 pipelines: the larger run mostly updates existing cards.
    async with server_process("--contacts", "5000") as handle:
        return [await memory_growth(handle.server, size) for size in sizes]


def ceiling_report(rows: Sequence[CeilingRow], official_reason: str | None) -> list[str]:
    table = []
    for row in rows:
        share = row.share_of_ceiling
        share_429 = row.responses_429 / max(row.requests, 1)
        cells = [
            row.sdk,
            f"{row.records:,}",
            f"{row.seconds:.1f}",
            f"{share:.1%}",
            f"{row.responses_429:,} of {row.requests:,} ({share_429:.1%})",
            f"{row.lost:,}",
        ]
        if row.sdk.startswith("hoop_async"):
            met = share >= CEILING_GOAL and share_429 <= MAX_429_SHARE and row.lost == 0
            cells.append(verdict(met))
        else:
            cells.append("no goal")
        table.append(cells)
    lines = [
        f"### Rate-ceiling use: upserts against an enforced {LIMIT_MAX}-per-"
        f"{LIMIT_INTERVAL_MS / 1000:g} s limit",
        "",
        f"One run each. hoop_async: `bulk_upsert(concurrency={CONCURRENCY})` with the default",
        "`RateLimit()`, which learns the limit from the X-RateLimit-* headers. Share of the",
        "ceiling: upserts that succeeded per second over the limit's requests per second.",
        "Lost: inputs without an opportunity in the sandbox's store afterwards.",
        f"Goal for hoop_async: >= {CEILING_GOAL:.0%} of the ceiling, <= {MAX_429_SHARE:.0%} 429s, "
        "0 lost.",
        "",
        *markdown_table(
            ["client", "records", "seconds", "share of ceiling", "429s", "lost", "goal"], table
        ),
    ]
    if official_reason is not None:
        lines += ["", f"Official SDK not measured: {official_reason}"]
    return lines


def fault_report(row: FaultRow) -> list[str]:
    ratio = row.rate_ratio
    met = (
        row.accounted == row.records
        and row.duplicates == 0
        and row.lost == 0
        and abs(1 - ratio) <= RATE_TOLERANCE
    )
    statuses = ", ".join(f"{status}: {n:,}" for status, n in row.statuses.items())
    return [
        "### Bulk upserts with faults: 10 % 5xx, 1 % resets before and 1 % after the handler",
        "",
        f"`bulk_upsert(concurrency={CONCURRENCY})`, `RateLimit()`, retries up to "
        f"{FAULT_RETRY.max_tries} tries; enforced {LIMIT_MAX}-per-"
        f"{LIMIT_INTERVAL_MS / 1000:g} s limit; one run.",
        "",
        *markdown_table(
            [
                "records",
                "accounted",
                "failed",
                "duplicates in store",
                "lost",
                "seconds",
                "requests / limit",
                "records / limit",
                "goal",
            ],
            [
                [
                    f"{row.records:,}",
                    f"{row.accounted:,}",
                    f"{row.failed:,}",
                    f"{row.duplicates:,}",
                    f"{row.lost:,}",
                    f"{row.seconds:.1f}",
                    f"{ratio:.2f}",
                    f"{row.record_rate_ratio:.2f}",
                    verdict(met),
                ]
            ],
        ),
        "",
        f"Responses by status: {statuses}; transport errors: {row.transport_errors:,}; "
        f"retries: {row.retries:,}. Requests / limit counts every request the client sent,",
        "faulted ones included. The sandbox injects faults before it counts a request",
        "against its limit, so records / limit stays below it. Goal: all accounted,",
        f"0 duplicates, 0 lost, requests / limit within {RATE_TOLERANCE:.0%} of 1.",
    ]


def memory_report(rows: Sequence[MemoryRow]) -> list[str]:
    small, large = rows[0], rows[-1]
    ratio = large.peak_bytes / small.peak_bytes
    table = [
        [
            f"{row.records:,}",
            f"{row.peak_bytes / 1_000_000:.2f}",
            f"{row.created:,}",
            f"{row.updated:,}",
        ]
        for row in rows
    ]
    return [
        "### Memory while bulk-upserting from a generator",
        "",
        f"`bulk_upsert(generator, concurrency={CONCURRENCY})`, sandbox without a rate limit,",
        "client rate limiter off; tracemalloc peak over the run, one run per size.",
        "",
        *markdown_table(["records", "peak growth (MB)", "created", "updated"], table),
        "",
        f"Peak at {large.records:,} records / at {small.records:,} = {ratio:.2f} (1.0: flat)",
    ]


async def measure(
    ceiling_records: int, fault_records: int, memory_sizes: Sequence[int]
) -> list[str]:
    ceiling_rows = [await ceiling_hoop(ceiling_records)]
    official_reason: str | None = None
    try:
        await asyncio.to_thread(official.ensure_environment)
        ceiling_rows.append(await ceiling_official(ceiling_records))
    except official.OfficialUnavailable as error:
        official_reason = str(error)
    fault_row = await with_faults(fault_records)
    memory_rows = await measure_memory(memory_sizes)
    return [
        *ceiling_report(ceiling_rows, official_reason),
        "",
        *fault_report(fault_row),
        "",
        *memory_report(memory_rows),
    ]


def add_size_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ceiling-records", type=int, default=3_000, help="upserts in the rate-ceiling runs"
    )
    parser.add_argument(
        "--fault-records", type=int, default=10_000, help="upserts in the run with faults"
    )
    parser.add_argument(
        "--memory-records",
        type=int,
        nargs=2,
        default=[10_000, 100_000],
        metavar=("SMALL", "LARGE"),
        help="upserts in the two memory runs",
    )


def main(argv: Sequence[str] | None = None) -> int:
    quiet_retry_logs()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_options(parser)
    args = parser.parse_args(argv)
    lines = asyncio.run(measure(args.ceiling_records, args.fault_records, args.memory_records))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
