"""Run every benchmark scenario, print the tables, and append them to RESULTS.md.

Run: make bench   (or python -m benchmarks.run [--quick] [--no-save])
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import bench_bulk, bench_overhead, bench_parse, official
from benchmarks.harness import machine, quiet_retry_logs

RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"
QUICK = {"requests": 500, "ceiling": 500, "faults": 1_000, "memory": (2_000, 10_000)}


def official_version() -> str:
    try:
        return official.ensure_environment()
    except official.OfficialUnavailable as error:
        return f"not installed ({error})"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes for a check run of about a minute"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per overhead series")
    parser.add_argument(
        "--no-save", action="store_true", help=f"print only; do not append to {RESULTS_FILE.name}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_retry_logs()
    if args.quick:
        requests, ceiling, faults = QUICK["requests"], QUICK["ceiling"], QUICK["faults"]
        memory: Sequence[int] = QUICK["memory"]  # type: ignore[assignment]
        command = "python -m benchmarks.run --quick"
    else:
        requests, ceiling, faults, memory = 2_000, 3_000, 10_000, (10_000, 100_000)
        command = "make bench"

    versions = f"{machine()}, gohighlevel-api-client {official_version()}"
    rows, reason = asyncio.run(bench_overhead.measure(requests, args.repeats))
    overhead = bench_overhead.report(rows, reason, requests, args.repeats)
    bulk = asyncio.run(bench_bulk.measure(ceiling, faults, memory))
    parsing = bench_parse.measure(args.repeats)

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            f"## Overhead, rate ceiling, faults and memory, {when}",
            "",
            f"Command: `{command}`. Machine: {versions}.",
            "Each sandbox runs in a separate process on 127.0.0.1.",
            "",
            *overhead,
            "",
            *bulk,
            "",
            *parsing,
            "",
        ]
    )
    print(text)

    if not args.no_save:
        with RESULTS_FILE.open("a", encoding="utf-8") as results:
            results.write("\n" + text)
        print(f"appended to {RESULTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
