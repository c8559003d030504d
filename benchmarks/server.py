"""Benchmark-only sandbox server, run in its own process so that server and client
do not share an event loop.

It serves one sandbox on 127.0.0.1 and prints one JSON line on stdout:
`{"url", "token", "location_id", "pipeline_ids", "contact_ids"}`. It serves until
SIGTERM or SIGINT; then, when `--summary-file` is given, it writes a JSON summary
of the store there (opportunities stored, duplicates per contact and pipeline,
requests served by route) before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hoop_async.sandbox import FaultRule, Sandbox, SandboxConfig

# Far above the request count of any scenario here, so neither the sandbox nor the
# client's rate limiter (which learns the budget from X-RateLimit-* headers) paces them.
UNLIMITED = 1_000_000_000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--opportunities", type=int, default=0, help="opportunities to seed (count)"
    )
    parser.add_argument("--contacts", type=int, default=300, help="contacts to seed (count)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before each response"
    )
    parser.add_argument(
        "--rate-limit-max",
        type=int,
        default=UNLIMITED,
        help="requests allowed per rate-limit window (default: effectively unlimited)",
    )
    parser.add_argument(
        "--rate-limit-interval-ms",
        type=int,
        default=10_000,
        help="length of the rate-limit window, in milliseconds",
    )
    parser.add_argument(
        "--enforce-rate-limit",
        action="store_true",
        help="answer 429 past the limit (without it only the headers are sent)",
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="share of requests answered with a 5xx"
    )
    parser.add_argument(
        "--reset-before-rate",
        type=float,
        default=0.0,
        help="share of connections dropped before the handler runs",
    )
    parser.add_argument(
        "--reset-after-rate",
        type=float,
        default=0.0,
        help="share of connections dropped after the handler ran",
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument(
        "--summary-file", type=Path, help="where to write the JSON store summary on exit"
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    faulty = args.error_rate or args.reset_before_rate or args.reset_after_rate
    faults = []
    if faulty or args.latency > 0:
        faults.append(
            FaultRule(
                latency=args.latency,
                error_rate=args.error_rate,
                reset_before_rate=args.reset_before_rate,
                reset_after_rate=args.reset_after_rate,
            )
        )
    return SandboxConfig(
        seed_contacts=args.contacts,
        seed_opportunities=args.opportunities,
        rate_limit_max=args.rate_limit_max,
        rate_limit_interval_ms=args.rate_limit_interval_ms,
        rate_limit_daily=UNLIMITED,
        enforce_rate_limit=args.enforce_rate_limit,
        faults=faults,
        fault_seed=args.fault_seed,
    )


def summarize(sandbox: Sandbox) -> dict[str, Any]:
    """Count the stored opportunities and the extra cards per contact and pipeline."""
    records = sandbox.opportunities()
    per_key = Counter((record["contactId"], record["pipelineId"]) for record in records)
    return {
        "opportunities": len(records),
        "duplicates": sum(count - 1 for count in per_key.values() if count > 1),
        "requests": {f"{method} {route}": n for (method, route), n in sandbox.requests.items()},
    }


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)

    async with Sandbox(build_config(args), host="127.0.0.1", port=args.port) as sandbox:
        ready = {
            "url": sandbox.url,
            "token": sandbox.token,
            "location_id": sandbox.location_id,
            "pipeline_ids": [pipeline["id"] for pipeline in sandbox.pipelines()],
            "contact_ids": [contact["id"] for contact in sandbox.contacts()],
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await stop.wait()
        if args.summary_file is not None:
            args.summary_file.write_text(json.dumps(summarize(sandbox)), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
