"""Shared parts of the benchmarks: the server subprocess, the client, machine facts."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import attrs

from hoop_async import HoopClient, RateLimit, RetryPolicy

HERE = Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "server.py"
SERVER_START_TIMEOUT = 300.0
SERVER_STOP_TIMEOUT = 30.0
# The ready line lists every seeded contact id, which can exceed asyncio's 64 KiB line limit.
READY_LINE_LIMIT = 64 * 1024 * 1024


@attrs.frozen
class Server:
    """Address, credentials and seeded ids that the benchmark server printed."""

    url: str
    token: str
    location_id: str
    pipeline_ids: list[str]
    contact_ids: list[str]


@attrs.define
class ServerHandle:
    """A running server; `summary` is filled from its summary file after it stops."""

    server: Server
    summary: dict[str, Any] = attrs.field(factory=dict)


@asynccontextmanager
async def server_process(*options: str) -> AsyncIterator[ServerHandle]:
    """Start server.py with `options` in its own process; stop it with SIGTERM on exit.

    After the server exits, `handle.summary` holds its store summary
    (opportunities, duplicates, requests by route).
    """
    with tempfile.TemporaryDirectory(prefix="hoop-bench-") as folder:
        summary_file = Path(folder) / "summary.json"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SERVER_SCRIPT),
            *options,
            "--summary-file",
            str(summary_file),
            stdout=asyncio.subprocess.PIPE,
            limit=READY_LINE_LIMIT,
        )
        handle: ServerHandle | None = None
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), SERVER_START_TIMEOUT)
            if not line:
                raise RuntimeError(f"{SERVER_SCRIPT.name} exited before it printed its address")
            handle = ServerHandle(Server(**json.loads(line)))
            yield handle
        finally:
            await stop_process(process)
            if handle is not None and summary_file.exists():
                handle.summary = json.loads(summary_file.read_text(encoding="utf-8"))


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """Send SIGTERM and wait; kill the process if it has not exited in time."""
    if process.returncode is None:
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), SERVER_STOP_TIMEOUT)
    except asyncio.TimeoutError:
        print(
            f"{SERVER_SCRIPT.name} (pid {process.pid}) did not exit "
            f"{SERVER_STOP_TIMEOUT:.0f} s after SIGTERM; killing it",
            file=sys.stderr,
        )
        process.kill()
        await process.wait()


def open_client(
    server: Server,
    *,
    rate_limit: RateLimit | None = None,
    retry: RetryPolicy | None = None,
) -> HoopClient:
    """Return a client for `server`; its rate limiter is off unless `rate_limit` is given."""
    return HoopClient(
        token=server.token,
        base_url=server.url,
        location_id=server.location_id,
        rate_limit=rate_limit,
        retry=retry,
    )


def quiet_retry_logs() -> None:
    """Hide hoop_async's per-retry log lines; the benchmarks count retries from client.stats."""
    logging.getLogger("hoop_async").setLevel(logging.ERROR)


def library_versions(names: Sequence[str]) -> str:
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def machine() -> str:
    """Describe the CPU count, platform, Python and library versions."""
    libraries = library_versions(("hoop-async", "aiohttp", "attrs", "cattrs", "backoff"))
    return (
        f"{os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}; {libraries}"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Format a Markdown table; every column but the first is right-aligned."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|---|" + "---:|" * (len(header) - 1))
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
