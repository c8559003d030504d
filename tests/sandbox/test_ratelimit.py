"""Rate limits: X-RateLimit-* headers on every authenticated response, and 429
with the configured body and Retry-After when enforcement is on."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import pytest

from hoop_async.sandbox import SandboxConfig

from .api import Api, Reply, open_api

PIPELINES = "/opportunities/pipelines"


async def send_burst(config: SandboxConfig, count: int) -> list[Reply]:
    """Start a sandbox with `config` and send `count` requests in a row."""
    async with open_api(config) as api:
        params = {"locationId": api.location_id}
        return [await api.get(PIPELINES, params=params) for _ in range(count)]


def enforced(**overrides: Any) -> SandboxConfig:
    """Return a config that enforces 2 requests per 5 s, with `overrides`."""
    settings: dict[str, Any] = {
        "rate_limit_max": 2,
        "rate_limit_interval_ms": 5_000,
        "enforce_rate_limit": True,
        "seed_contacts": 0,
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


async def test_headers_on_every_response(api: Api) -> None:
    ok = await api.get(PIPELINES, params={"locationId": api.location_id})
    failed = await api.get(f"/opportunities/{'x' * 20}")

    for reply in (ok, failed):
        assert reply.headers["X-RateLimit-Max"] == "100"
        assert reply.headers["X-RateLimit-Interval-Milliseconds"] == "10000"
        assert reply.headers["X-RateLimit-Limit-Daily"] == "200000"
        assert 0 < int(reply.headers["X-RateLimit-Daily-Reset"]) <= 86_400_000


async def test_remaining_decreases(api: Api) -> None:
    first = await api.get(PIPELINES, params={"locationId": api.location_id})
    second = await api.get(PIPELINES, params={"locationId": api.location_id})

    assert first.headers["X-RateLimit-Remaining"] == "99"
    assert second.headers["X-RateLimit-Remaining"] == "98"
    assert second.headers["X-RateLimit-Daily-Remaining"] == "199998"


async def test_not_enforced_by_default() -> None:
    replies = await send_burst(SandboxConfig(rate_limit_max=2, seed_contacts=0), 4)

    assert [reply.status for reply in replies] == [200, 200, 200, 200]
    assert replies[-1].headers["X-RateLimit-Remaining"] == "0"


async def test_buckets_per_location(api: Api) -> None:
    other = api.sandbox.add_location("Other")
    token = api.sandbox.issue_token(location_ids=[other])
    await api.get(PIPELINES, params={"locationId": api.location_id})

    reply = await api.get(PIPELINES, token=token, params={"locationId": other})

    assert reply.headers["X-RateLimit-Remaining"] == "99"


async def test_429_with_retry_after_seconds() -> None:
    replies = await send_burst(enforced(), 3)

    rejected = replies[-1]
    assert [reply.status for reply in replies] == [200, 200, 429]
    assert rejected.body == {"statusCode": 429, "message": "Too Many Requests"}
    assert 1 <= int(rejected.headers["Retry-After"]) <= 5
    assert rejected.headers["X-RateLimit-Remaining"] == "0"


async def test_429_with_retry_after_http_date() -> None:
    replies = await send_burst(enforced(retry_after="http-date"), 3)

    retry_at = email.utils.parsedate_to_datetime(replies[-1].headers["Retry-After"])
    assert replies[-1].status == 429
    assert 0 < retry_at.timestamp() - time.time() <= 6


async def test_429_without_retry_after() -> None:
    replies = await send_burst(enforced(retry_after="none"), 3)

    assert replies[-1].status == 429
    assert "Retry-After" not in replies[-1].headers


async def test_429_custom_body() -> None:
    body = {"statusCode": 429, "message": "Slow down", "error": "Too Many Requests"}
    replies = await send_burst(enforced(rate_limit_body=body), 3)

    assert replies[-1].body == body


async def test_window_slides_open_again() -> None:
    config = enforced(rate_limit_max=1, rate_limit_interval_ms=200)
    async with open_api(config) as api:
        params = {"locationId": api.location_id}
        first = await api.get(PIPELINES, params=params)
        blocked = await api.get(PIPELINES, params=params)
        await asyncio.sleep(0.25)
        again = await api.get(PIPELINES, params=params)

    assert [first.status, blocked.status, again.status] == [200, 429, 200]


async def test_daily_limit_enforced() -> None:
    replies = await send_burst(enforced(rate_limit_max=100, rate_limit_daily=2), 3)

    assert replies[-1].status == 429
    assert replies[1].headers["X-RateLimit-Daily-Remaining"] == "0"
    assert int(replies[-1].headers["Retry-After"]) >= 1


@pytest.mark.parametrize("mode", ["seconds", "http-date", "none"])
def test_config_accepts_retry_modes(mode: str) -> None:
    assert SandboxConfig(retry_after=mode).retry_after == mode


def test_config_rejects_unknown_retry_mode() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        SandboxConfig(retry_after="minutes")
