"""Bulk runs, followers, deal moves by name and find_or_create, against the sandbox."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hoop_async import (
    DuplicateOpportunityError,
    HoopClient,
    InvalidRequestError,
    NameNotFoundError,
    NotFoundError,
    Status,
)
from hoop_async.bulk import BulkRun, Progress, read_failures
from hoop_async.retry import RetryPolicy
from hoop_async.sandbox import FaultRule, Sandbox, SandboxConfig

FAST_RETRY = RetryPolicy(max_tries=10, base_delay=0.01, max_delay=0.05)


def fast_sandbox(**settings: Any) -> Sandbox:
    """A sandbox whose rate limit does not slow a test of a few hundred calls."""
    config = SandboxConfig(rate_limit_max=5000, rate_limit_interval_ms=1000, **settings)
    return Sandbox(config=config)


def client_for(sandbox: Sandbox, **kwargs: Any) -> HoopClient:
    return HoopClient(
        token=sandbox.token, base_url=sandbox.url, location_id=sandbox.location_id, **kwargs
    )


def records_for(sandbox: Sandbox, count: int) -> Iterator[dict[str, Any]]:
    pipeline_id = sandbox.pipelines()[0]["id"]
    contacts = sandbox.contacts()
    for index in range(count):
        yield {
            "pipeline_id": pipeline_id,
            "contact_id": contacts[index % len(contacts)]["id"],
            "name": f"Deal {index}",
            "monetary_value": index,
        }


def client_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and not task.get_coro().__qualname__.startswith("RequestHandler")  # type: ignore[union-attr]
    ]


async def test_results_in_input_order() -> None:
    draw = random.Random(5)

    async def slow_echo(value: int) -> tuple[str, int]:
        await asyncio.sleep(draw.random() / 100)
        return "done", value

    run: BulkRun[int] = BulkRun(range(200), slow_echo, concurrency=16)
    results = [result async for result in run]
    assert [result.index for result in results] == list(range(200))
    assert [result.value for result in results] == list(range(200))
    assert run.report.counts == {"done": 200}


async def test_generator_not_read_ahead() -> None:
    pulled = 0

    def numbers() -> Iterator[int]:
        nonlocal pulled
        for number in range(10_000):
            pulled += 1
            yield number

    async def echo(value: int) -> tuple[str, int]:
        await asyncio.sleep(0)
        return "done", value

    run: BulkRun[int] = BulkRun(numbers(), echo, concurrency=4, window=8)
    delivered = 0
    async for _ in run:
        delivered += 1
        assert pulled - delivered <= 8
    assert delivered == 10_000


async def test_async_iterable_input() -> None:
    async def numbers() -> AsyncIterator[int]:
        for number in range(50):
            yield number

    async def double(value: int) -> tuple[str, int]:
        return "done", value * 2

    report = await BulkRun(numbers(), double, concurrency=5)
    assert report.total == 50
    assert report.failed == 0


async def test_bulk_upsert_with_faults_accounts_for_all() -> None:
    faults = [FaultRule(error_rate=0.10, reset_after_rate=0.02, reset_before_rate=0.01)]
    sandbox = fast_sandbox(faults=faults, fault_seed=11, seed_contacts=300)
    progress: list[Progress] = []
    async with sandbox, client_for(sandbox, retry=FAST_RETRY) as client:
        run = client.opportunities.bulk_upsert(
            records_for(sandbox, 600), concurrency=20, on_progress=progress.append
        )
        results = [result async for result in run]
        injected = sum(sandbox.state.faults.values())
        stored = sandbox.opportunities()

    assert [result.index for result in results] == list(range(600))
    assert run.report.failed == 0
    # An upsert whose response was lost after it created the record is retried and
    # then reports "updated", so only the sum of the two outcomes is exact.
    assert run.report.counts["created"] + run.report.counts["updated"] == 600
    assert run.report.counts["created"] <= 300
    assert injected > 0
    pairs = Counter((record["contactId"], record["pipelineId"]) for record in stored)
    assert len(stored) == 300
    assert max(pairs.values()) == 1
    assert progress[-1] == Progress(done=600, failed=0, in_flight=progress[-1].in_flight)
    assert [event.done for event in progress] == list(range(1, 601))


async def test_failures_file_reruns_only_failures(tmp_path: Path) -> None:
    sandbox = fast_sandbox(seed_contacts=20)
    async with sandbox, client_for(sandbox) as client:
        records = list(records_for(sandbox, 20))
        records[3]["contact_id"] = "NoSuchContact000001"
        records[7]["colour"] = "blue"
        records[12]["monetary_value"] = -5
        report = await client.opportunities.bulk_upsert(records, concurrency=4)
        failures_file = tmp_path / "failures.jsonl"
        written = report.write_failures(failures_file)
        sent_before = sandbox.requests[("POST", "/opportunities/upsert")]
        rerun = await client.opportunities.bulk_upsert(read_failures(failures_file))
        sent_by_rerun = sandbox.requests[("POST", "/opportunities/upsert")] - sent_before

    assert report.failed == 3
    assert report.succeeded == 17
    assert [failure.index for failure in report.failures] == [3, 7, 12]
    assert isinstance(report.failures[1].error, InvalidRequestError)
    assert written == 3
    lines = [json.loads(line) for line in failures_file.read_text().splitlines()]
    assert [line["index"] for line in lines] == [3, 7, 12]
    assert lines[0]["error"]["status"] == 400
    assert lines[1]["error"]["type"] == "InvalidRequestError"
    assert lines[2]["input"]["monetary_value"] == -5
    assert rerun.total == 3
    assert rerun.failed == 3
    assert sent_by_rerun == 1


async def test_stop_on_first_failure(hoop_sandbox: Sandbox) -> None:
    records = list(records_for(hoop_sandbox, 40))
    records[5]["pipeline_id"] = ""
    async with client_for(hoop_sandbox) as client:
        run = client.opportunities.bulk_upsert(records, concurrency=1, stop_on_failure=True)
        report = await run
    assert report.stopped is True
    assert report.failed == 1
    assert report.total == 6


async def test_cancelled_run_leaves_no_tasks(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(latency=0.05)]
    async with client_for(hoop_sandbox) as client:
        run = client.opportunities.bulk_upsert(records_for(hoop_sandbox, 200), concurrency=5)
        task = asyncio.ensure_future(run._drain())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client_tasks() == []
    assert run.report.cancelled is True
    assert 0 < run.report.total < 200


async def test_set_followers_sends_only_difference(hoop_sandbox: Sandbox) -> None:
    users = hoop_sandbox.users()
    async with client_for(hoop_sandbox) as client:
        opportunity = (
            await client.opportunities.upsert(**next(records_for(hoop_sandbox, 1)))
        ).opportunity
        first = await client.opportunities.set_followers(opportunity.id, users[:2])
        before = sum(hoop_sandbox.requests.values())
        unchanged = await client.opportunities.set_followers(opportunity.id, reversed(users[:2]))
        sent = sum(hoop_sandbox.requests.values()) - before
        second = await client.opportunities.set_followers(opportunity.id, users[1:3])
    assert set(first.added) == set(users[:2])
    assert unchanged.added == ()
    assert unchanged.removed == ()
    assert sent == 1
    assert second.added == (users[2],)
    assert second.removed == (users[0],)
    assert set(second.followers) == set(users[1:3])


async def test_bulk_followers_add_and_remove(hoop_sandbox: Sandbox) -> None:
    users = hoop_sandbox.users()
    async with client_for(hoop_sandbox) as client:
        report = await client.opportunities.bulk_upsert(records_for(hoop_sandbox, 5))
        assert report.failed == 0
        ids = [record["id"] for record in hoop_sandbox.opportunities()]
        added = await client.opportunities.bulk_add_followers([(i, users[:2]) for i in ids])
        again = await client.opportunities.bulk_add_followers(
            [{"opportunity_id": i, "followers": users[:1]} for i in ids]
        )
        removed = await client.opportunities.bulk_remove_followers([(i, users[:1]) for i in ids])
        bad = await client.opportunities.bulk_add_followers([("x",)])
    assert added.counts == {"updated": 5}
    assert again.counts == {"unchanged": 5}
    assert removed.counts == {"updated": 5}
    assert isinstance(bad.failures[0].error, InvalidRequestError)


async def test_move_to_stage_by_name(hoop_sandbox: Sandbox) -> None:
    pipeline = hoop_sandbox.pipelines()[0]
    target = pipeline["stages"][2]
    async with client_for(hoop_sandbox) as client:
        created = (
            await client.opportunities.upsert(**next(records_for(hoop_sandbox, 1)))
        ).opportunity
        moved = await client.opportunities.move_to_stage(
            created.id, pipeline=pipeline["name"].upper(), stage=target["name"].lower()
        )
        with pytest.raises(NameNotFoundError) as caught:
            await client.opportunities.move_to_stage(
                created.id, pipeline=pipeline["name"], stage="Signed"
            )
        before = hoop_sandbox.requests[("GET", "/opportunities/pipelines")]
        hoop_sandbox.add_pipeline(hoop_sandbox.location_id, "Renewals", ["Due", "Renewed"])
        renewed = await client.opportunities.move_to_stage(
            created.id, pipeline="Renewals", stage="Renewed"
        )
        lookups = hoop_sandbox.requests[("GET", "/opportunities/pipelines")] - before
    assert moved.pipeline_stage_id == target["id"]
    assert caught.value.name == "Signed"
    assert caught.value.available == [stage["name"] for stage in pipeline["stages"]]
    assert str(caught.value).startswith(f"no stage in pipeline {pipeline['name']!r} named 'Signed'")
    assert isinstance(caught.value, KeyError)
    assert renewed.pipeline_stage_id is not None
    assert lookups == 1


async def test_names_resolved_once_for_all_workers(hoop_sandbox: Sandbox) -> None:
    pipeline = hoop_sandbox.pipelines()[0]
    records = [
        {
            "pipeline_name": pipeline["name"],
            "stage_name": pipeline["stages"][1]["name"],
            "contact_id": contact["id"],
        }
        for contact in hoop_sandbox.contacts()[:40]
    ]
    async with client_for(hoop_sandbox) as client:
        report = await client.opportunities.bulk_upsert(records, concurrency=20)
    assert report.counts == {"created": 40}
    assert hoop_sandbox.requests[("GET", "/opportunities/pipelines")] == 1
    stages = {record["pipelineStageId"] for record in hoop_sandbox.opportunities()}
    assert stages == {pipeline["stages"][1]["id"]}


def test_name_error_suggests_close_match() -> None:
    error = NameNotFoundError("stage", "Proposal Sen", ["New Lead", "Proposal Sent"])
    assert str(error) == (
        "no stage named 'Proposal Sen' (did you mean 'Proposal Sent'?); "
        "the names that exist are 'New Lead', 'Proposal Sent'"
    )


async def test_bulk_status_lost_with_reason_name(hoop_sandbox: Sandbox) -> None:
    reason = hoop_sandbox.lost_reasons()[1]
    async with client_for(hoop_sandbox) as client:
        await client.opportunities.bulk_upsert(records_for(hoop_sandbox, 6))
        ids = [record["id"] for record in hoop_sandbox.opportunities()]
        lost = await client.opportunities.bulk_update_status(
            ids[:3], "lost", lost_reason=reason["name"]
        )
        reopened = await client.opportunities.bulk_update_status(ids[:2], Status.OPEN)
        won = await client.opportunities.bulk_update_status(ids[3:], Status.WON)
        unknown = await client.opportunities.bulk_update_status(
            ids[3:], "lost", lost_reason="Weather"
        )
        lookups = hoop_sandbox.requests[("GET", "/opportunities/lost-reason")]
        records = {record["id"]: record for record in hoop_sandbox.opportunities()}
    assert (lost.succeeded, reopened.succeeded, won.succeeded) == (3, 2, 3)
    assert records[ids[2]]["status"] == "lost"
    assert records[ids[2]]["lostReasonId"] == reason["id"]
    assert records[ids[0]]["status"] == "open"
    assert records[ids[5]]["status"] == "won"
    assert unknown.failed == 3
    assert isinstance(unknown.failures[0].error, NameNotFoundError)
    assert lookups == 2
    with pytest.raises(InvalidRequestError):
        client.opportunities.bulk_update_status(ids, "won", lost_reason="Price")


async def test_find_or_create_reopens_existing(hoop_sandbox: Sandbox) -> None:
    pipeline_id = hoop_sandbox.pipelines()[0]["id"]
    contact_id = hoop_sandbox.contacts()[0]["id"]
    async with client_for(hoop_sandbox) as client:
        fields = {"name": "Deal", "pipeline_id": pipeline_id, "contact_id": contact_id}
        first = await client.opportunities.find_or_create(**fields)
        await client.opportunities.update_status(first.opportunity.id, Status.LOST)
        with pytest.raises(DuplicateOpportunityError):
            await client.opportunities.create(**fields)
        second = await client.opportunities.find_or_create(**{**fields, "monetary_value": 900})
    assert first.created is True
    assert second.created is False
    assert second.opportunity.id == first.opportunity.id
    assert second.opportunity.status is Status.OPEN
    assert second.opportunity.monetary_value == 900
    assert len(hoop_sandbox.opportunities()) == 1


async def test_find_or_create_passes_other_errors(hoop_sandbox: Sandbox) -> None:
    async with client_for(hoop_sandbox) as client:
        with pytest.raises(NotFoundError):
            await client.opportunities.get("NoSuchOpportunity01")
        with pytest.raises(InvalidRequestError):
            await client.opportunities.find_or_create(name="", pipeline_id="p", contact_id="c")
