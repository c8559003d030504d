"""A bulk upsert through RedisRateLimiter while its redis-server stops part-way: every
input gets exactly one result, failed acquires send nothing, and with
`fallback_to_local=True` the run finishes on the local limiter after one warning.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_support import RedisServer, unique_prefix

from hoop_async import HoopClient
from hoop_async._redis import RedisUnavailableError
from hoop_async.bulk import BulkReport, Progress
from hoop_async.ratelimit import RateLimit
from hoop_async.ratelimit_redis import RedisRateLimiter
from hoop_async.sandbox import Sandbox, SandboxConfig

RECORDS = 200
CONCURRENCY = 10
# Results delivered before the test stops redis-server.
STOP_AFTER = 60


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    # A budget far above this test's requests, because the limiter learns the
    # budget from the X-RateLimit-* headers and would otherwise pace the run.
    return SandboxConfig(seed_contacts=RECORDS, rate_limit_max=100_000, rate_limit_interval_ms=1000)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, so stopping it leaves the session's server running."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def upsert_records(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Return one record per contact, each with a unique name to find it in the store."""
    pipeline_id = sandbox.pipelines()[0]["id"]
    contacts = sandbox.contacts()[:RECORDS]
    return [
        {
            "pipeline_id": pipeline_id,
            "contact_id": contact["id"],
            "name": f"Outage deal {index}",
            "status": "open",
        }
        for index, contact in enumerate(contacts)
    ]


async def upsert_and_stop_redis(
    sandbox: Sandbox, limiter: RedisRateLimiter, server: RedisServer, records: list[dict[str, Any]]
) -> BulkReport:
    """Bulk-upsert `records`, stopping `server` once STOP_AFTER results are in."""

    def stop_redis_part_way(progress: Progress) -> None:
        if progress.done >= STOP_AFTER and server.process is not None:
            server.stop()

    client = HoopClient(
        token=sandbox.token,
        base_url=sandbox.url,
        location_id=sandbox.location_id,
        rate_limiter=limiter,
    )
    try:
        async with client:
            return await client.opportunities.bulk_upsert(
                records, concurrency=CONCURRENCY, on_progress=stop_redis_part_way
            )
    finally:
        await limiter.aclose()


async def test_outage_fails_with_typed_error(
    hoop_sandbox: Sandbox, private_redis: RedisServer
) -> None:
    records = upsert_records(hoop_sandbox)
    limiter = RedisRateLimiter(private_redis.url, RateLimit(), prefix=unique_prefix())
    await limiter.ping()

    report = await upsert_and_stop_redis(hoop_sandbox, limiter, private_redis, records)

    assert private_redis.process is None, "redis-server was never stopped"
    assert report.total == len(records)
    assert report.succeeded >= STOP_AFTER
    assert report.failed > 0
    for failure in report.failures:
        assert isinstance(failure.error, RedisUnavailableError), failure.error

    stored = hoop_sandbox.opportunities()
    stored_names = Counter(record["name"] for record in stored)
    failed_names = {failure.input["name"] for failure in report.failures}
    succeeded_names = {record["name"] for record in records} - failed_names
    assert len(succeeded_names) == report.succeeded
    for name in succeeded_names:
        assert stored_names[name] == 1, f"{name} succeeded but is stored {stored_names[name]} times"
    for name in failed_names:
        assert name not in stored_names, f"{name} failed to acquire a slot but reached the store"

    pairs = Counter((record["contactId"], record["pipelineId"]) for record in stored)
    duplicates = {pair: count for pair, count in pairs.items() if count > 1}
    assert duplicates == {}
    assert len(stored) == report.succeeded


async def test_outage_falls_back_to_local(
    hoop_sandbox: Sandbox, private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    records = upsert_records(hoop_sandbox)
    limiter = RedisRateLimiter(
        private_redis.url, RateLimit(), prefix=unique_prefix(), fallback_to_local=True
    )
    await limiter.ping()

    with caplog.at_level(logging.WARNING, logger="hoop_async.ratelimit"):
        report = await upsert_and_stop_redis(hoop_sandbox, limiter, private_redis, records)

    assert private_redis.process is None, "redis-server was never stopped"
    assert report.total == len(records)
    assert report.failed == 0, [failure.error for failure in report.failures]

    warnings = [
        record
        for record in caplog.records
        if record.name == "hoop_async.ratelimit" and record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert "unreachable" in warnings[0].getMessage()

    stored = hoop_sandbox.opportunities()
    assert len(stored) == len(records)
    pairs = Counter((record["contactId"], record["pipelineId"]) for record in stored)
    assert max(pairs.values()) == 1
