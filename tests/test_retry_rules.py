"""The pure decisions of retries and rate limiting, as tables."""

from __future__ import annotations

import asyncio

import pytest

from hoop_async import (
    APIError,
    HoopError,
    InvalidRequestError,
    OutcomeUnknownError,
    QuotaExhaustedError,
    RequestTimeoutError,
    TransportError,
)
from hoop_async.errors import error_from_response
from hoop_async.ratelimit import RateLimit, RateLimiter, parse_rate_limit_headers
from hoop_async.retry import RetryPolicy, retry_reason
from hoop_async.testing import no_waits


def api_error(status: int) -> APIError:
    return error_from_response(method="GET", path="/x", status=status, body={"message": "m"})


REFUSED = TransportError("POST", "/opportunities/", "cannot connect", maybe_sent=False)
RESET = TransportError("POST", "/opportunities/", "ServerDisconnectedError")
TIMEOUT = RequestTimeoutError("GET", "/opportunities/a", "no response within 1 s")


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (api_error(429), True, True),
        (api_error(429), False, True),
        (api_error(502), True, True),
        (api_error(503), True, True),
        (api_error(504), True, True),
        (api_error(502), False, False),
        (api_error(500), True, True),
        (api_error(500), False, False),
        (api_error(501), True, False),
        (api_error(400), True, False),
        (api_error(401), True, False),
        (api_error(403), True, False),
        (api_error(404), True, False),
        (api_error(422), True, False),
        (REFUSED, True, True),
        (REFUSED, False, True),
        (RESET, True, True),
        (RESET, False, False),
        (TIMEOUT, True, True),
        (TIMEOUT, False, False),
        (OutcomeUnknownError("POST", "/opportunities/", "reset"), False, False),
        (InvalidRequestError("status", "x", "bad"), True, False),
    ],
)
def test_retry_reason_table(error: HoopError, idempotent: bool, retried: bool) -> None:
    assert (retry_reason(error, idempotent=idempotent) is not None) is retried


def test_retry_reason_names_cause() -> None:
    assert retry_reason(api_error(503), idempotent=True) == "503 from the server"
    assert retry_reason(TIMEOUT, idempotent=True) == "timeout: no response within 1 s"
    assert retry_reason(REFUSED, idempotent=False) == "not sent: cannot connect"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_tries": 0}, "RetryPolicy.max_tries"),
        ({"max_tries": 2.5}, "RetryPolicy.max_tries"),
        ({"max_time": -1}, "RetryPolicy.max_time"),
        ({"base_delay": "1"}, "RetryPolicy.base_delay"),
    ],
)
def test_retry_policy_rejects_bad_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_headers_read_case_insensitively() -> None:
    parsed = parse_rate_limit_headers(
        {
            "x-ratelimit-max": "100",
            "X-RATELIMIT-INTERVAL-MILLISECONDS": "10000",
            "X-RateLimit-Remaining": "42",
            "X-RateLimit-Limit-Daily": "200000",
            "X-RateLimit-Daily-Remaining": "199000",
            "X-RateLimit-Daily-Reset": "3600000",
        }
    )
    assert parsed is not None
    assert parsed.max_requests == 100
    assert parsed.interval == 10.0
    assert parsed.remaining == 42
    assert parsed.daily_limit == 200_000
    assert parsed.daily_remaining == 199_000
    assert parsed.daily_reset == 3600.0


def test_proxy_lookalike_headers_ignored() -> None:
    headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Reset": "5", "Content-Type": "json"}
    assert parse_rate_limit_headers(headers) is None


def test_invalid_header_values_ignored() -> None:
    parsed = parse_rate_limit_headers({"X-RateLimit-Max": "lots", "X-RateLimit-Remaining": "-1"})
    assert parsed is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: FakeClock, **settings: object) -> RateLimiter:
    return RateLimiter(RateLimit(safety_margin=0, **settings), clock=clock)  # type: ignore[arg-type]


def test_window_allows_limit_then_waits() -> None:
    clock = FakeClock()
    budget = limiter(clock, max_requests=3, interval=1.0).budget("LOC")
    for _ in range(3):
        assert budget.window_delay(clock()) == 0
        budget.take(clock())
    clock.now += 0.25
    assert budget.window_delay(clock()) == pytest.approx(0.75)
    clock.now += 0.75
    assert budget.window_delay(clock()) == 0


def test_safety_margin_extends_window() -> None:
    clock = FakeClock()
    rate = RateLimiter(RateLimit(max_requests=1, interval=10.0, safety_margin=0.02), clock=clock)
    budget = rate.budget("LOC")
    budget.take(clock())
    assert budget.window_delay(clock()) == pytest.approx(10.2)


def test_headers_teach_limit_and_window() -> None:
    clock = FakeClock()
    rate = limiter(clock)
    rate.observe("LOC", {"X-RateLimit-Max": "20", "X-RateLimit-Interval-Milliseconds": "1000"})
    budget = rate.budget("LOC")
    assert budget.limit == 20
    assert budget.interval == 1.0


def test_custom_budget_stays_below_server() -> None:
    clock = FakeClock()
    rate = limiter(clock, max_requests=30)
    rate.observe("LOC", {"X-RateLimit-Max": "100", "X-RateLimit-Interval-Milliseconds": "10000"})
    assert rate.budget("LOC").limit == 30


def test_own_sends_in_flight_not_foreign() -> None:
    clock = FakeClock()
    rate = limiter(clock, max_requests=10, interval=1.0)
    budget = rate.budget("LOC")
    budget.take(clock())  # the request whose response comes back below
    for _ in range(4):  # sent while it is in flight, also counted by the server
        clock.now += 0.1
        budget.take(clock())
    clock.now += 0.8
    # The server counted all five, and the response arrives 1.2 s after the first left.
    rate.observe("LOC", {"X-RateLimit-Max": "10", "X-RateLimit-Remaining": "5"})
    assert len(budget.sent) == 5
    assert budget.window_delay(clock()) == 0


def test_finish_keeps_oldest_send_in_flight() -> None:
    clock = FakeClock()
    budget = limiter(clock, max_requests=10, interval=1.0).budget("LOC")
    for _ in range(3):
        budget.take(clock())
        clock.now += 0.1
    budget.finish()
    assert [sent - 1000.0 for sent in budget.in_flight] == pytest.approx([0.0, 0.1])


def test_old_sends_kept_while_in_flight() -> None:
    clock = FakeClock()
    budget = limiter(clock, max_requests=10, interval=1.0).budget("LOC")
    budget.take(clock())
    clock.now += 1.5
    assert budget.window_delay(clock()) == 0
    # The first request is still in flight, so its send stays in the log for its
    # response's comparison, but it no longer counts against the window.
    assert len(budget.sent) == 1
    budget.finish()
    assert budget.window_delay(clock()) == 0
    assert len(budget.sent) == 0


def test_foreign_requests_fill_window() -> None:
    clock = FakeClock()
    rate = limiter(clock, max_requests=10, interval=1.0)
    budget = rate.budget("LOC")
    budget.take(clock())
    rate.observe("LOC", {"X-RateLimit-Max": "10", "X-RateLimit-Remaining": "2"})
    assert len(budget.sent) == 8
    assert budget.window_delay(clock()) == 0
    budget.take(clock())
    budget.take(clock())
    assert budget.window_delay(clock()) == pytest.approx(1.0)


def test_locations_have_separate_budgets() -> None:
    clock = FakeClock()
    rate = limiter(clock, max_requests=1, interval=10.0)
    rate.budget("A").take(clock())
    assert rate.budget("A").window_delay(clock()) > 0
    assert rate.budget("B").window_delay(clock()) == 0


def test_429_pauses_budget() -> None:
    clock = FakeClock()
    rate = limiter(clock)
    assert rate.throttled("LOC", 7.0) == 7.0
    assert rate.budget("LOC").window_delay(clock()) == pytest.approx(7.0)
    assert rate.throttled("OTHER", None) == 10.0


async def test_first_request_holds_others_until_settled() -> None:
    rate = RateLimiter(RateLimit())
    await rate.acquire("LOC")
    second = asyncio.ensure_future(rate.acquire("LOC"))
    await asyncio.sleep(0.01)
    assert not second.done()
    rate.settle("LOC")
    await asyncio.wait_for(second, timeout=5)


async def test_daily_reserve_raises_quota_error() -> None:
    clock = FakeClock()
    rate = limiter(clock, daily_reserve=5)
    rate.observe("LOC", {"X-RateLimit-Daily-Remaining": "6", "X-RateLimit-Daily-Reset": "60000"})
    await rate.acquire("LOC")
    with pytest.raises(QuotaExhaustedError) as caught:
        await rate.acquire("LOC")
    assert caught.value.remaining == 5
    assert caught.value.reset_after == pytest.approx(60.0)
    assert "lower the daily reserve" in str(caught.value)


async def test_daily_reserve_can_wait_for_reset() -> None:
    clock = FakeClock()
    waits: list[float] = []
    rate = limiter(clock, daily_reserve=5, wait_for_daily_reset=True)
    rate.hooks.rate_limit_wait.append(lambda event: waits.append(event.delay))
    rate.observe("LOC", {"X-RateLimit-Daily-Remaining": "3", "X-RateLimit-Daily-Reset": "60000"})
    with no_waits():
        await rate.acquire("LOC")
    assert waits == [pytest.approx(60.0)]


async def test_waiters_served_in_order() -> None:
    rate = RateLimiter(RateLimit(max_requests=2, interval=0.05, safety_margin=0))
    order: list[int] = []

    async def take(index: int) -> None:
        await rate.acquire("LOC")
        order.append(index)
        rate.settle("LOC")

    await asyncio.gather(*(take(index) for index in range(6)))
    assert order == list(range(6))
