"""Benchmark-only sandbox server: seeds a number of opportunities, serves them on
127.0.0.1, prints `{"url", "token", "location_id"}` as one JSON line on stdout,
and serves until it receives SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence

from hoop_async.sandbox import FaultRule, Sandbox, SandboxConfig

# Far above the request count of these benchmarks, so the client's rate limiter,
# which learns the budget from the sandbox's X-RateLimit-* headers, does not pace them.
UNLIMITED = 1_000_000_000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--opportunities", type=int, default=0, help="opportunities to seed (count)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before each response"
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    return parser.parse_args(argv)


def build_config(opportunities: int, latency: float) -> SandboxConfig:
    return SandboxConfig(
        seed_opportunities=opportunities,
        rate_limit_max=UNLIMITED,
        rate_limit_daily=UNLIMITED,
        faults=[FaultRule(latency=latency)] if latency > 0 else [],
    )


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)

    config = build_config(args.opportunities, args.latency)
    async with Sandbox(config, host="127.0.0.1", port=args.port) as sandbox:
        ready = {"url": sandbox.url, "token": sandbox.token, "location_id": sandbox.location_id}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
