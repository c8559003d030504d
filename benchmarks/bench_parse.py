"""Parsing and import time: a 100-record search page into models, and `import hoop_async`.

Run: python -m benchmarks.bench_parse [--repeats N]

Parsing compares `json.loads` of one real GET search page with `json.loads`
plus building an Opportunity from every row, as the iterator does; import time
compares `python -X importtime -c "import hoop_async"` with `import aiohttp`.
Both are ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import timeit
from collections.abc import Sequence

import aiohttp

from benchmarks.harness import markdown_table, verdict
from hoop_async.models import Opportunity, from_wire
from hoop_async.sandbox import Sandbox, SandboxConfig

PAGE_SIZE = 100
PARSE_GOAL = 3.0
IMPORT_GOAL = 1.3


async def search_page_bytes() -> bytes:
    """Return the raw body of a 100-record GET search page served by the sandbox."""
    config = SandboxConfig(seed_opportunities=PAGE_SIZE, seed_contacts=PAGE_SIZE)
    async with Sandbox(config) as sandbox, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {sandbox.token}", "Version": "2021-07-28"}
        params = {"location_id": sandbox.location_id, "limit": str(PAGE_SIZE)}
        async with http.get(
            f"{sandbox.url}/opportunities/search", params=params, headers=headers
        ) as response:
            return await response.read()


def parse_models(raw: bytes) -> list[Opportunity]:
    return [from_wire(row, Opportunity) for row in json.loads(raw)["opportunities"]]


def best_seconds(work: str, namespace: dict[str, object], repeats: int) -> float:
    """Return the best time of one call, over `repeats` timing rounds."""
    timer = timeit.Timer(work, globals=namespace)
    loops, _ = timer.autorange()
    return min(timer.repeat(repeat=repeats, number=loops)) / loops


def import_microseconds(module: str) -> int:
    """Return the cumulative import time of `module` in a fresh interpreter, in µs."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(completed.stderr.splitlines()):
        fields = [part.strip() for part in line.split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1])
    raise RuntimeError(f"no importtime line for {module}")


def measure(repeats: int) -> list[str]:
    raw = asyncio.run(search_page_bytes())
    rows = len(json.loads(raw)["opportunities"])
    namespace: dict[str, object] = {"json": json, "raw": raw, "parse_models": parse_models}
    decode = best_seconds("json.loads(raw)", namespace, repeats)
    models = best_seconds("parse_models(raw)", namespace, repeats)
    parse_ratio = models / decode

    ours = statistics.median(import_microseconds("hoop_async") for _ in range(repeats))
    base = statistics.median(import_microseconds("aiohttp") for _ in range(repeats))
    import_ratio = ours / base

    lines = [
        "### Parsing a search page and importing the package",
        "",
        f"Parsing: one GET search page of {rows} records ({len(raw):,} bytes) from the "
        f"sandbox, best of {repeats} timing rounds. Import: median of {repeats} fresh "
        "interpreters, `-X importtime` cumulative time of the top-level module.",
        "",
    ]
    lines += markdown_table(
        ["measure", "hoop_async", "baseline", "ratio", "goal"],
        [
            [
                "page to models",
                f"{models * 1e3:.2f} ms",
                f"json.loads {decode * 1e3:.2f} ms",
                f"{parse_ratio:.2f}",
                f"<= {PARSE_GOAL}: {verdict(parse_ratio <= PARSE_GOAL)}",
            ],
            [
                "import",
                f"{ours / 1e3:.1f} ms",
                f"aiohttp {base / 1e3:.1f} ms",
                f"{import_ratio:.2f}",
                f"<= {IMPORT_GOAL}: {verdict(import_ratio <= IMPORT_GOAL)}",
            ],
        ],
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds and interpreters")
    args = parser.parse_args(argv)
    print("\n".join(measure(args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
