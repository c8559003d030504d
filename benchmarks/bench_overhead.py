"""Per-request overhead: GET /opportunities/{id} through hoop_async, raw aiohttp
and the official SDK, against one sandbox in a separate process.

The sandbox's rate limit is raised to 1,000,000,000 per window and hoop_async's
client-side rate limiter is off (`rate_limit=None`), so nothing paces the calls.
Each series makes the same number of calls at concurrency 1 and 50; the output is
the median requests per second of several runs and the ratios between them.

Run: python -m benchmarks.bench_overhead [--requests N] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import attrs

from benchmarks import official
from benchmarks.harness import Server, markdown_table, open_client, server_process, verdict
from hoop_async._constants import DEFAULT_CONNECTION_LIMIT, DEFAULT_TIMEOUT, USER_AGENT
from hoop_async._constants import DEFAULT_VERSION as API_VERSION

CONCURRENCIES = (1, 50)
SEEDED_OPPORTUNITIES = 200
RAW_GOAL = 0.90
OFFICIAL_GOALS = {1: 2.5, 50: 10.0}

Call = Callable[[str], Awaitable[object]]


@attrs.frozen
class OverheadRow:
    concurrency: int
    hoop: float
    """hoop_async requests per second (median)."""
    raw: float
    """raw aiohttp requests per second (median)."""
    official: float | None
    """Official SDK requests per second (median); None when not measured."""


async def requests_per_second(call: Call, ids: Sequence[str], total: int, workers: int) -> float:
    """Make `total` calls from `workers` coroutines that share one id cycle."""
    next_ids = itertools.islice(itertools.cycle(ids), total)

    async def worker() -> None:
        for opportunity_id in next_ids:
            await call(opportunity_id)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return total / (time.perf_counter() - started)


def raw_session(server: Server) -> aiohttp.ClientSession:
    """Open an aiohttp session with the connector, timeout and headers hoop_async uses."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=DEFAULT_CONNECTION_LIMIT),
        timeout=aiohttp.ClientTimeout(total=DEFAULT_TIMEOUT),
        headers={
            "Version": API_VERSION,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {server.token}",
        },
    )


async def list_ids(server: Server) -> list[str]:
    async with open_client(server) as client:
        return [record.id async for record in client.opportunities.search()]


async def measure_hoop_and_raw(
    server: Server, ids: Sequence[str], total: int, repeats: int
) -> dict[int, tuple[float, float]]:
    medians: dict[int, tuple[float, float]] = {}
    async with open_client(server) as client, raw_session(server) as session:

        async def hoop_get(opportunity_id: str) -> object:
            return await client.opportunities.get(opportunity_id)

        async def raw_get(opportunity_id: str) -> object:
            async with session.get(f"{server.url}/opportunities/{opportunity_id}") as response:
                response.raise_for_status()
                return await response.json()

        await requests_per_second(hoop_get, ids, 50, 10)  # open connections, warm caches
        await requests_per_second(raw_get, ids, 50, 10)
        for workers in CONCURRENCIES:
            hoop_runs: list[float] = []
            raw_runs: list[float] = []
            for _ in range(repeats):  # interleaved, so drift on a shared machine hits both
                hoop_runs.append(await requests_per_second(hoop_get, ids, total, workers))
                raw_runs.append(await requests_per_second(raw_get, ids, total, workers))
            medians[workers] = (statistics.median(hoop_runs), statistics.median(raw_runs))
    return medians


async def measure_official(
    server: Server, ids: list[str], total: int, repeats: int
) -> dict[int, float]:
    medians: dict[int, float] = {}
    for workers in CONCURRENCIES:
        runs = []
        for _ in range(repeats):
            result = await official.run_driver("get", server.url, server.token, ids, total, workers)
            if result["outcomes"] != {"ok": total}:
                raise official.OfficialUnavailable(f"calls failed: {result['outcomes']}")
            runs.append(result["per_second"])
        medians[workers] = statistics.median(runs)
    return medians


async def measure(total: int, repeats: int) -> tuple[list[OverheadRow], str | None]:
    """Return one row per concurrency, and why the official SDK was not measured."""
    official_reason: str | None = None
    official_medians: dict[int, float] = {}
    async with server_process("--opportunities", str(SEEDED_OPPORTUNITIES)) as handle:
        server = handle.server
        ids = await list_ids(server)
        ours = await measure_hoop_and_raw(server, ids, total, repeats)
        try:
            await asyncio.to_thread(official.ensure_environment)
            official_medians = await measure_official(server, ids, total, repeats)
        except official.OfficialUnavailable as error:
            official_reason = str(error)
    rows = [
        OverheadRow(workers, ours[workers][0], ours[workers][1], official_medians.get(workers))
        for workers in CONCURRENCIES
    ]
    return rows, official_reason


def report(
    rows: Sequence[OverheadRow], official_reason: str | None, total: int, repeats: int
) -> list[str]:
    table = []
    for row in rows:
        sdk_raw = row.hoop / row.raw
        if row.official is None:
            official_cells = ["not measured", "not measured"]
        else:
            ratio = row.hoop / row.official
            goal = OFFICIAL_GOALS[row.concurrency]
            official_cells = [
                f"{row.official:,.0f}",
                f"{ratio:.2f} (goal >= {goal}: {verdict(ratio >= goal)})",
            ]
        table.append(
            [
                str(row.concurrency),
                f"{row.hoop:,.0f}",
                f"{row.raw:,.0f}",
                f"{sdk_raw:.2f} (goal >= {RAW_GOAL}: {verdict(sdk_raw >= RAW_GOAL)})",
                *official_cells,
            ]
        )
    lines = [
        "### Per-request overhead: GET /opportunities/{id}",
        "",
        f"{total:,} calls per run, median of {repeats} runs, requests per second. "
        "hoop_async runs with `rate_limit=None`",
        "and the sandbox allows 1,000,000,000 requests per window, so nothing paces the calls.",
        "The official SDK (`gohighlevel-api-client`) runs in benchmarks/.venv-official with",
        "its `HighLevel.BASE_URL` class attribute set to the sandbox's URL, which is the only",
        "change made to it, and counts every call that returned the opportunity.",
        "",
        *markdown_table(
            [
                "concurrency",
                "hoop_async",
                "raw aiohttp",
                "hoop / raw",
                "official SDK",
                "hoop / official",
            ],
            table,
        ),
    ]
    if official_reason is not None:
        lines += ["", f"Official SDK not measured: {official_reason}"]
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="calls per run (count)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per series (median taken)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows, reason = asyncio.run(measure(args.requests, args.repeats))
    print("\n".join(report(rows, reason, args.requests, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
