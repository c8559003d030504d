"""Drive the official `gohighlevel-api-client` SDK against a benchmark server.

Runs under benchmarks/.venv-official (see official.py), where hoop_async is not
installed, so it imports only the standard library and the official SDK. It
prints one JSON line: requests per second, responses by status, errors raised.

The SDK has no base-URL option: `HighLevel.BASE_URL` is a class attribute read
when the client is built, so this script sets it to the server's URL. Nothing
else in the SDK is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from highlevel import HighLevel


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("get", "upsert-gather"))
    parser.add_argument("--url", required=True, help="base URL of the benchmark server")
    parser.add_argument("--token", required=True, help="bearer token of the server")
    parser.add_argument("--requests", type=int, required=True, help="calls to make (count)")
    parser.add_argument("--concurrency", type=int, default=1, help="calls in flight (get mode)")
    parser.add_argument(
        "--ids-file", required=True, help="JSON file: opportunity ids (get) or upsert bodies"
    )
    return parser.parse_args(argv)


def build_client(url: str, token: str) -> HighLevel:
    HighLevel.BASE_URL = url  # the only change to the SDK: point it at the local server
    return HighLevel(private_integration_token=token, log_level="error")


async def run_gets(client: HighLevel, ids: list[str], total: int, concurrency: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    next_ids = itertools.islice(itertools.cycle(ids), total)

    async def worker() -> None:
        for opportunity_id in next_ids:
            try:
                body = await client.opportunities.get_opportunity(opportunity_id)
                ok = isinstance(body, dict) and "opportunity" in body
                outcomes["ok" if ok else "unexpected body"] += 1
            except Exception as error:  # the SDK raises GHLError and others; count them all
                outcomes[type(error).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


async def run_upserts(client: HighLevel, bodies: list[dict[str, Any]]) -> Counter[str]:
    """Send every upsert at once through asyncio.gather, as the SDK's users would."""

    async def upsert(body: dict[str, Any]) -> str:
        try:
            response = await client.opportunities.upsert_opportunity(body)
        except Exception as error:  # the SDK raises GHLError and others; count them all
            return type(error).__name__
        if isinstance(response, dict) and "opportunity" in response:
            return "ok"
        return "unexpected body"

    return Counter(await asyncio.gather(*(upsert(body) for body in bodies)))


async def run(args: argparse.Namespace, items: list[Any]) -> dict[str, Any]:
    client = build_client(args.url, args.token)
    statuses: Counter[int] = Counter()

    async def count_status(response: Any) -> None:
        statuses[response.status_code] += 1

    # First in the list: the SDK's own hook raises on error statuses, which would skip ours.
    client.http_client.event_hooks["response"].insert(0, count_status)
    try:
        started = time.perf_counter()
        if args.mode == "get":
            outcomes = await run_gets(client, items, args.requests, args.concurrency)
        else:
            outcomes = await run_upserts(client, items[: args.requests])
        elapsed = time.perf_counter() - started
    finally:
        await client.http_client.aclose()
    return {
        "seconds": elapsed,
        "per_second": args.requests / elapsed,
        "outcomes": dict(outcomes),
        "statuses": {str(status): n for status, n in statuses.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with open(args.ids_file, encoding="utf-8") as file:
        items = json.load(file)
    result = asyncio.run(run(args, items))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
