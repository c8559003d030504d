"""Worker processes sharing one location's rate budget: RedisRateLimiter against local limiters.

W worker OS processes upsert N records in total for one location against a
sandbox (benchmarks/server.py, its own process) with an enforced limit of 50
requests per 1 s. First run: every worker uses a RedisRateLimiter on one
redis-server that this benchmark starts on 127.0.0.1 and a free port. Second
run: every worker uses its own local limiter. Printed side by side: seconds,
share of the limit used, 429s and lost records; the table is appended to
RESULTS.md unless --no-save is given.

Run: python -m benchmarks.bench_redis [--records N] [--workers W] [--no-save]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import attrs

from benchmarks.harness import (
    Server,
    library_versions,
    machine,
    markdown_table,
    open_client,
    quiet_retry_logs,
    server_process,
    verdict,
)
from hoop_async import HoopClient, RateLimit
from hoop_async.ratelimit_redis import RedisRateLimiter

RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"
LIMIT_MAX = 50
LIMIT_INTERVAL_MS = 1_000
LIMIT_PER_SECOND = LIMIT_MAX * 1000 / LIMIT_INTERVAL_MS
PIPELINES = 2
CONCURRENCY = 5
MAX_429_SHARE = 0.01
RATE_TOLERANCE = 0.10
REDIS_START_TIMEOUT = 10.0
WORKER_READY_TIMEOUT = 120.0
LIMITED_SERVER = (
    "--rate-limit-max",
    str(LIMIT_MAX),
    "--rate-limit-interval-ms",
    str(LIMIT_INTERVAL_MS),
    "--enforce-rate-limit",
)


@attrs.frozen
class WorkerResult:
    succeeded: int
    failed: int
    responses_429: int
    requests: int


@attrs.frozen
class Row:
    limiter: str
    records: int
    seconds: float
    succeeded: int
    failed: int
    responses_429: int
    requests: int
    stored: int
    duplicates: int

    @property
    def share_of_limit(self) -> float:
        """Records upserted per second over the limit's requests per second."""
        return self.succeeded / self.seconds / LIMIT_PER_SECOND

    @property
    def share_429(self) -> float:
        return self.responses_429 / max(self.requests, 1)

    @property
    def lost(self) -> int:
        """Inputs with no opportunity in the store (each input has its own contact and pipeline)."""
        return self.records - (self.stored - self.duplicates)


class RedisProcess:
    """A redis-server on 127.0.0.1 and a free port, without persistence."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        command = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_ready()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait_until_ready(self) -> None:
        give_up_at = time.monotonic() + REDIS_START_TIMEOUT
        while time.monotonic() < give_up_at:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"redis-server on port {self.port} did not respond to PING within "
            f"{REDIS_START_TIMEOUT:.0f} s"
        )


def worker_records(server: Server, first: int, count: int) -> list[dict[str, Any]]:
    """Return the records `first` to `first + count`, one per (contact, pipeline) pair."""
    contacts = server.contact_ids
    pipelines = server.pipeline_ids
    return [
        {
            "pipeline_id": pipelines[(index // len(contacts)) % len(pipelines)],
            "contact_id": contacts[index % len(contacts)],
            "name": f"Shared budget deal {index}",
            "status": "open",
        }
        for index in range(first, first + count)
    ]


def open_worker_client(
    server: Server, redis_url: str | None, prefix: str
) -> tuple[HoopClient, RedisRateLimiter | None]:
    """Return a client with a shared limiter on `redis_url`, or with a local one when it is None."""
    if redis_url is None:
        return open_client(server, rate_limit=RateLimit()), None
    limiter = RedisRateLimiter(redis_url, RateLimit(), prefix=prefix)
    client = HoopClient(
        token=server.token,
        base_url=server.url,
        location_id=server.location_id,
        rate_limiter=limiter,
    )
    return client, limiter


async def upsert_in_worker(
    server: Server, records: list[dict[str, Any]], redis_url: str | None, prefix: str, go: Event
) -> WorkerResult:
    client, limiter = open_worker_client(server, redis_url, prefix)
    try:
        async with client:
            await asyncio.to_thread(go.wait)
            report = await client.opportunities.bulk_upsert(records, concurrency=CONCURRENCY)
            stats = client.stats
    finally:
        if limiter is not None:
            await limiter.aclose()
    return WorkerResult(
        succeeded=report.succeeded,
        failed=report.failed,
        responses_429=stats.statuses[429],
        requests=sum(stats.statuses.values()),
    )


def run_worker(
    server: Server,
    records: list[dict[str, Any]],
    redis_url: str | None,
    prefix: str,
    ready: Queue[Any],
    go: Event,
    results: Queue[Any],
) -> None:
    """Run one worker process: signal ready, wait for `go`, upsert, and put the counts.

    An exception is put on `results` as its message, so the parent stops instead of waiting.
    """
    quiet_retry_logs()
    ready.put(True)
    try:
        result = asyncio.run(upsert_in_worker(server, records, redis_url, prefix, go))
    except Exception as error:
        results.put({"error": f"{type(error).__name__}: {error}"})
        raise
    results.put(attrs.asdict(result))


def worker_result(message: dict[str, Any]) -> WorkerResult:
    if "error" in message:
        raise RuntimeError(f"a worker process failed: {message['error']}")
    return WorkerResult(**message)


async def run_workers(
    server: Server, records: int, workers: int, redis_url: str | None
) -> tuple[float, list[WorkerResult]]:
    """Start `workers` processes, release them together, and return seconds and their results."""
    context = multiprocessing.get_context("spawn")
    ready: Queue[Any] = context.Queue()
    results: Queue[Any] = context.Queue()
    go = context.Event()
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    per_worker, extra = divmod(records, workers)
    processes: list[SpawnProcess] = []
    first = 0
    for number in range(workers):
        count = per_worker + (1 if number < extra else 0)
        arguments = (
            server,
            worker_records(server, first, count),
            redis_url,
            prefix,
            ready,
            go,
            results,
        )
        processes.append(context.Process(target=run_worker, args=arguments))
        first += count

    for process in processes:
        process.start()
    try:
        for _ in processes:
            await asyncio.to_thread(ready.get, True, WORKER_READY_TIMEOUT)
        started = time.perf_counter()
        go.set()
        messages = [await asyncio.to_thread(results.get) for _ in processes]
        seconds = time.perf_counter() - started
        collected = [worker_result(message) for message in messages]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    return seconds, collected


async def measure_run(records: int, workers: int, redis_url: str | None) -> Row:
    contacts = -(-records // PIPELINES)
    async with server_process("--contacts", str(contacts), *LIMITED_SERVER) as handle:
        seconds, results = await run_workers(handle.server, records, workers, redis_url)
    shared = redis_url is not None
    return Row(
        limiter="shared RedisRateLimiter" if shared else "local limiter per worker",
        records=records,
        seconds=seconds,
        succeeded=sum(result.succeeded for result in results),
        failed=sum(result.failed for result in results),
        responses_429=sum(result.responses_429 for result in results),
        requests=sum(result.requests for result in results),
        stored=handle.summary["opportunities"],
        duplicates=handle.summary["duplicates"],
    )


async def measure(records: int, workers: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="hoop-bench-redis-") as folder:
        redis = RedisProcess(Path(folder))
        try:
            shared = await measure_run(records, workers, redis.url)
        finally:
            redis.stop()
    local = await measure_run(records, workers, None)
    return [shared, local]


def shared_goal_met(row: Row) -> bool:
    return row.share_429 < MAX_429_SHARE and abs(1 - row.share_of_limit) <= RATE_TOLERANCE


def report(rows: Sequence[Row], workers: int) -> list[str]:
    table = []
    for row in rows:
        goal = verdict(shared_goal_met(row)) if row.limiter.startswith("shared") else "no goal"
        table.append(
            [
                row.limiter,
                f"{row.records:,}",
                f"{row.seconds:.1f}",
                f"{row.share_of_limit:.1%}",
                f"{row.responses_429:,} of {row.requests:,} ({row.share_429:.1%})",
                f"{row.failed:,}",
                f"{row.lost:,}",
                goal,
            ]
        )
    header = ["limiter", "records", "seconds", "share of limit", "429s", "failed", "lost", "goal"]
    return [
        f"### {workers} worker processes, one location, enforced {LIMIT_MAX}-per-"
        f"{LIMIT_INTERVAL_MS / 1000:g} s limit",
        "",
        f"Each worker: `bulk_upsert(concurrency={CONCURRENCY})` with `RateLimit()`, on its",
        "share of the records; one run per limiter. Seconds: from releasing the workers",
        "together to the last worker's report. Share of the limit: upserts that succeeded",
        "per second over the limit's requests per second. Lost: inputs without an",
        "opportunity in the sandbox's store afterwards.",
        f"Goal for the shared limiter: under {MAX_429_SHARE:.0%} 429s and the share of the",
        f"limit within {RATE_TOLERANCE:.0%} of 100%.",
        "",
        *markdown_table(header, table),
    ]


def redis_server_version() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        return "redis-server (not installed)"
    output = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    version = next((part for part in output.stdout.split() if part.startswith("v=")), "v=?")
    return f"redis-server {version[2:]}"


def append_results(command: str, lines: Sequence[str]) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        "",
        f"## Shared rate budget across worker processes, {stamp}",
        "",
        f"Command: `{command}`. Machine: {machine()}; {library_versions(('redis',))} "
        f"(redis-py), {redis_server_version()} on 127.0.0.1.",
        "The sandbox runs in a separate process on 127.0.0.1.",
        "",
        *lines,
    ]
    with RESULTS_FILE.open("a", encoding="utf-8") as stream:
        stream.write("\n".join(section) + "\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, default=4_000, help="upserts in each run, over all workers"
    )
    parser.add_argument("--workers", type=int, default=4, help="worker processes in each run")
    parser.add_argument(
        "--no-save", action="store_true", help=f"print only; do not append to {RESULTS_FILE.name}"
    )
    args = parser.parse_args(argv)
    if args.records < 1 or args.workers < 1:
        parser.error("--records and --workers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_retry_logs()
    rows = asyncio.run(measure(args.records, args.workers))
    lines = report(rows, args.workers)
    print("\n".join(lines))
    if not args.no_save:
        command = "python -m benchmarks.bench_redis " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        append_results(command.strip(), lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
