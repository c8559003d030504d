"""Rate limits, retries, timeouts and cancellation against the sandbox over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from hoop_async import (
    HoopClient,
    OutcomeUnknownError,
    QuotaExhaustedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from hoop_async.hooks import Hooks, RateLimitWait, RequestFinished, RetryScheduled
from hoop_async.ratelimit import RateLimit
from hoop_async.retry import RetryPolicy
from hoop_async.sandbox import FaultRule, Sandbox, SandboxConfig
from hoop_async.testing import no_waits

FAST_RETRY = RetryPolicy(max_tries=8, base_delay=0.01, max_delay=0.05, max_time=30)


@pytest.fixture
async def limited() -> AsyncIterator[Sandbox]:
    """A sandbox enforcing 50 requests per second per location."""
    config = SandboxConfig(
        enforce_rate_limit=True, rate_limit_max=50, rate_limit_interval_ms=1000, seed_contacts=250
    )
    async with Sandbox(config=config) as sandbox:
        yield sandbox


def client_tasks() -> list[asyncio.Task[object]]:
    """Tasks still pending, apart from this test and the sandbox's request handlers."""
    return [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and not task.get_coro().__qualname__.startswith("RequestHandler")  # type: ignore[union-attr]
    ]


def client_for(sandbox: Sandbox, **kwargs: object) -> HoopClient:
    return HoopClient(
        token=sandbox.token,
        base_url=sandbox.url,
        location_id=sandbox.location_id,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.slow
async def test_upserts_at_rate_ceiling(limited: Sandbox) -> None:
    pipeline_id = limited.pipelines()[0]["id"]
    contacts = [contact["id"] for contact in limited.contacts()]
    waits: list[RateLimitWait] = []
    hooks = Hooks(rate_limit_wait=[waits.append])
    started = time.monotonic()
    async with client_for(limited, hooks=hooks) as client:

        async def upsert(index: int) -> bool:
            result = await client.opportunities.upsert(
                pipeline_id=pipeline_id,
                contact_id=contacts[index % len(contacts)],
                name=f"Deal {index}",
                monetary_value=index,
            )
            return result.created

        results = await asyncio.gather(*(upsert(index) for index in range(1000)))
        statuses = client.stats.statuses
    elapsed = time.monotonic() - started

    assert len(results) == 1000
    assert sum(results) == len(contacts)
    assert statuses[429] <= 10
    assert sum(statuses.values()) - statuses[429] == 1000
    assert waits
    print(
        f"\n1,000 upserts at 50/s: {elapsed:.1f} s, ideal 20.0 s, ratio {20.0 / elapsed:.2f}, "
        f"{statuses[429]} responses 429"
    )


async def test_faults_on_idempotent_calls_are_survived() -> None:
    faults = [FaultRule(error_rate=0.10, reset_after_rate=0.02, reset_before_rate=0.02)]
    config = SandboxConfig(
        faults=faults,
        fault_seed=7,
        seed_contacts=60,
        rate_limit_max=1000,
        rate_limit_interval_ms=1000,
    )
    async with Sandbox(config=config) as sandbox:
        pipeline_id = sandbox.pipelines()[0]["id"]
        contacts = [contact["id"] for contact in sandbox.contacts()]
        async with client_for(sandbox, retry=FAST_RETRY) as client:
            upserted = await asyncio.gather(
                *(
                    client.opportunities.upsert(pipeline_id=pipeline_id, contact_id=contact_id)
                    for contact_id in contacts
                )
            )
            ids = [result.opportunity.id for result in upserted]
            fetched = await asyncio.gather(*(client.opportunities.get(i) for i in ids))
            updated = await asyncio.gather(
                *(client.opportunities.update(i, name="Renamed") for i in ids)
            )
            retries = client.stats.retries
        injected = sum(sandbox.state.faults.values())

    assert [record.id for record in fetched] == ids
    assert {record.name for record in updated} == {"Renamed"}
    assert len(sandbox.opportunities()) == len(contacts)
    assert injected > 0
    # aiohttp itself resends a GET or PUT once when a reused connection drops,
    # so some injected resets never reach the retry policy.
    assert retries > 0


async def test_create_never_sent_twice_after_reset() -> None:
    faults = [
        FaultRule(routes=("POST /opportunities/",), reset_after_rate=0.3, reset_before_rate=0.1)
    ]
    config = SandboxConfig(faults=faults, fault_seed=3, seed_contacts=80)
    async with Sandbox(config=config) as sandbox:
        pipeline_id = sandbox.pipelines()[0]["id"]
        contacts = [contact["id"] for contact in sandbox.contacts()]
        async with client_for(sandbox, retry=FAST_RETRY) as client:
            outcomes = await asyncio.gather(
                *(
                    client.opportunities.create(
                        name=f"Deal {index}", pipeline_id=pipeline_id, contact_id=contact_id
                    )
                    for index, contact_id in enumerate(contacts)
                ),
                return_exceptions=True,
            )
        resets_after = sandbox.state.faults[("reset-after", "POST /opportunities/")]
        resets_before = sandbox.state.faults[("reset-before", "POST /opportunities/")]

    created = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    unknown = [outcome for outcome in outcomes if isinstance(outcome, OutcomeUnknownError)]
    assert len(created) + len(unknown) == len(contacts)
    assert len(unknown) == resets_after + resets_before
    assert resets_after > 0
    assert sandbox.requests[("POST", "/opportunities/")] == len(contacts)
    assert len(sandbox.opportunities()) == len(created) + resets_after
    assert all(error.attempts == 1 for error in unknown)
    assert "may have been processed" in str(unknown[0])


async def test_create_not_retried_on_server_error() -> None:
    faults = [FaultRule(routes=("POST /opportunities/",), error_rate=1.0, error_statuses=(503,))]
    async with Sandbox(config=SandboxConfig(faults=faults)) as sandbox:
        contact_id = sandbox.contacts()[0]["id"]
        async with client_for(sandbox, retry=FAST_RETRY) as client:
            with pytest.raises(ServerError) as caught:
                await client.opportunities.create(
                    name="Deal", pipeline_id=sandbox.pipelines()[0]["id"], contact_id=contact_id
                )
    assert caught.value.attempts == 1
    assert sandbox.requests[("POST", "/opportunities/")] == 1


async def test_get_gives_up_after_max_tries() -> None:
    faults = [FaultRule(error_rate=1.0, error_statuses=(502,))]
    async with Sandbox(config=SandboxConfig(faults=faults)) as sandbox:
        retry = RetryPolicy(max_tries=4, base_delay=0.01)
        async with client_for(sandbox, retry=retry) as client:
            with pytest.raises(ServerError) as caught:
                await client.opportunities.pipelines()
    assert caught.value.status == 502
    assert caught.value.attempts == 4
    assert sandbox.requests[("GET", "/opportunities/pipelines")] == 4


async def test_per_call_max_tries_override(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(error_rate=1.0, error_statuses=(503,))]
    async with client_for(hoop_sandbox, retry=FAST_RETRY) as client:
        with pytest.raises(ServerError) as caught:
            await client.opportunities.with_options(max_tries=2).pipelines()
    assert caught.value.attempts == 2


async def test_refused_create_is_retried() -> None:
    retry = RetryPolicy(max_tries=3, base_delay=0.01)
    async with HoopClient(
        token="t", base_url="http://127.0.0.1:9", location_id="L", retry=retry
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.opportunities.create(name="Deal", pipeline_id="P", contact_id="C")
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert caught.value.maybe_sent is False
    assert caught.value.attempts == 3


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("seconds", (0.5, 1.01)), ("http-date", (0.0, 2.01)), ("none", (0.99, 1.01))],
)
async def test_retry_after_modes_honoured(mode: str, expected: tuple[float, float]) -> None:
    config = SandboxConfig(
        enforce_rate_limit=True, rate_limit_max=2, rate_limit_interval_ms=1000, retry_after=mode
    )
    retries: list[RetryScheduled] = []
    async with (
        Sandbox(config=config) as sandbox,
        client_for(
            sandbox, rate_limit=None, hooks=Hooks(retry_scheduled=[retries.append])
        ) as client,
    ):
        await asyncio.gather(*(client.opportunities.pipelines() for _ in range(3)))
    assert retries
    low, high = expected
    assert all(event.reason == "429 Too Many Requests" for event in retries)
    assert all(low <= event.delay <= high for event in retries), retries


class TokenPerLocation:
    """Credentials holding one location token per location, as agency installs do."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    async def access_token(self, location_id: str | None) -> str:
        return self.tokens[location_id or ""]

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        return False


async def test_locations_do_not_block_each_other(hoop_sandbox: Sandbox) -> None:
    first = hoop_sandbox.location_id
    second = hoop_sandbox.add_location(name="Second office")
    credentials = TokenPerLocation(
        {first: hoop_sandbox.token, second: hoop_sandbox.issue_token(location_ids=[second])}
    )
    waits: list[RateLimitWait] = []
    async with HoopClient(
        credentials=credentials,
        base_url=hoop_sandbox.url,
        rate_limit=RateLimit(max_requests=3, interval=60),
        hooks=Hooks(rate_limit_wait=[waits.append]),
    ) as client:
        for _ in range(3):
            await client.opportunities.pipelines(first)
        blocked = asyncio.ensure_future(client.opportunities.pipelines(first))
        for _ in range(3):
            await asyncio.wait_for(client.opportunities.pipelines(second), timeout=10)
        assert not blocked.done()
        blocked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await blocked
    assert {event.resource for event in waits} == {first}


async def test_daily_quota_stops_before_sending() -> None:
    sandbox = Sandbox(config=SandboxConfig(rate_limit_daily=8))
    async with sandbox, client_for(sandbox, rate_limit=RateLimit(daily_reserve=5)) as client:
        for _ in range(3):
            await client.opportunities.pipelines()
        with pytest.raises(QuotaExhaustedError) as caught:
            await client.opportunities.pipelines()
    assert caught.value.remaining == 5
    assert caught.value.resource == sandbox.location_id
    assert sandbox.requests[("GET", "/opportunities/pipelines")] == 3


async def test_per_call_timeout(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(latency=0.5)]
    async with client_for(hoop_sandbox, retry=RetryPolicy(max_tries=1)) as client:
        with pytest.raises(RequestTimeoutError):
            await client.opportunities.with_options(timeout=0.1).pipelines()
        assert await client.opportunities.pipelines()


async def test_cancelled_calls_leave_nothing_pending(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(latency=2.0)]
    async with client_for(hoop_sandbox) as client:
        calls = [asyncio.ensure_future(client.opportunities.pipelines()) for _ in range(100)]
        await asyncio.sleep(0.2)
        for call in calls:
            call.cancel()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
        connector = client._session.open().connector
        assert connector is not None
        await asyncio.sleep(0)
        assert connector._acquired == set()  # type: ignore[attr-defined]
    assert client_tasks() == []


async def test_cancel_during_backoff_sleep(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(error_rate=1.0, error_statuses=(503,))]
    retries: list[RetryScheduled] = []
    scheduled = asyncio.Event()

    def note(event: RetryScheduled) -> None:
        retries.append(event)
        scheduled.set()

    retry = RetryPolicy(max_tries=5, base_delay=30, max_delay=30)
    async with client_for(hoop_sandbox, retry=retry, hooks=Hooks(retry_scheduled=[note])) as client:
        call = asyncio.ensure_future(client.opportunities.pipelines())
        await asyncio.wait_for(scheduled.wait(), timeout=10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    assert len(retries) == 1
    assert client_tasks() == []


async def test_hooks_see_each_attempt(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(error_rate=1.0, error_statuses=(503,))]
    finished: list[RequestFinished] = []
    async with client_for(
        hoop_sandbox,
        retry=RetryPolicy(max_tries=3, base_delay=0.01),
        hooks=Hooks(request_finished=[finished.append]),
    ) as client:
        with pytest.raises(ServerError):
            await client.opportunities.pipelines()
    assert [(event.status, event.attempt) for event in finished] == [(503, 1), (503, 2), (503, 3)]
    assert all(event.path == "/opportunities/pipelines" for event in finished)
    assert all(hoop_sandbox.token not in repr(event) for event in finished)


async def test_no_waits_skips_backoff(hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.config.faults = [FaultRule(error_rate=1.0, error_statuses=(503,))]
    retry = RetryPolicy(max_tries=4, base_delay=60, max_delay=60)
    async with client_for(hoop_sandbox, retry=retry) as client:
        with no_waits(), pytest.raises(ServerError) as caught:
            await client.opportunities.pipelines()
    assert caught.value.attempts == 4


async def test_retry_logged_with_reason(
    hoop_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    hoop_sandbox.config.faults = [FaultRule(error_rate=1.0, error_statuses=(504,))]
    async with client_for(hoop_sandbox, retry=RetryPolicy(max_tries=2, base_delay=0.01)) as client:
        with pytest.raises(ServerError):
            await client.opportunities.pipelines()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith("retrying GET /opportunities/pipelines after attempt 1 in ")
    assert warnings[0].endswith(": 504 from the server")
