"""OAuth across OS processes that share one RedisTokenStore: eight processes refresh
once per expiry in total, and a process stopped (SIGSTOP) while it holds the refresh
lock lets the others proceed and, once resumed, does not overwrite newer tokens.

Run as a script, this file is the worker process of those tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from oauth_support import credentials_for, install, oauth_client, oauth_config, refreshes
from redis_support import unique_prefix
from test_oauth_processes import CountingCredentials

from hoop_async import HoopClient
from hoop_async.auth import OAuthCredentials, TokenSet
from hoop_async.auth.redis_store import RedisTokenStore
from hoop_async.sandbox import Sandbox, SandboxConfig

logger = logging.getLogger(__name__)

WORKERS = 8
EXPIRIES = 4
# Tokens live 2 s, so the refresh margin is half of that: 1 s.
TOKEN_LIFETIME = 2.0
REFRESH_MARGIN = TOKEN_LIFETIME / 2
LEASE = 1.0
WORKER_TIME_LIMIT = 60.0
ENVIRONMENT_KEYS = ("URL", "CLIENT_ID", "CLIENT_SECRET", "KEY", "REDIS", "PREFIX", "STOP")


@pytest.fixture
def hoop_sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    # The stopped-holder tests make the installed token due themselves; tokens that live
    # an hour there keep later refreshes out of their counts.
    if "stopped_holder" in request.node.name:
        return oauth_config(access_token_ttl=3600.0)
    return oauth_config(access_token_ttl=TOKEN_LIFETIME)


# -- the worker process ---------------------------------------------------------


class StallingStore(RedisTokenStore):
    """Stops its own process (SIGSTOP) once, at `stall_at` ("get" or "set"), inside the lock."""

    stall_at = ""
    inside_lock = False

    async def get(self, key: str) -> TokenSet | None:
        if self.stall_at == "get":
            self._stall()
        return await super().get(key)

    async def set(self, key: str, tokens: TokenSet) -> None:
        if self.stall_at == "set":
            self._stall()
        await super().set(key, tokens)

    def _stall(self) -> None:
        if not self.inside_lock:
            return
        self.stall_at = ""
        print("holding the lock", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)


def stop_requested(stop: Path) -> bool:
    return stop.exists()


def worker_settings() -> dict[str, str]:
    return {name: os.environ[f"HOOP_TEST_{name}"] for name in ENVIRONMENT_KEYS}


def worker_store(settings: dict[str, str], stall_at: str = "") -> RedisTokenStore:
    store = StallingStore(settings["REDIS"], prefix=settings["PREFIX"], lease=LEASE)
    store.stall_at = stall_at
    return store


def worker_credentials(settings: dict[str, str], store: RedisTokenStore) -> OAuthCredentials:
    return OAuthCredentials(
        settings["CLIENT_ID"],
        settings["CLIENT_SECRET"],
        key=settings["KEY"],
        store=store,
        base_url=settings["URL"],
    )


async def make_calls_until_stopped(settings: dict[str, str]) -> dict[str, Any]:
    """Call the API in small concurrent batches until the stop file appears."""
    store = worker_store(settings)
    credentials = worker_credentials(settings, store)
    counting = CountingCredentials(credentials)
    stop = Path(settings["STOP"])
    calls, failures = 0, []
    give_up_at = time.monotonic() + WORKER_TIME_LIMIT
    async with (
        store,
        credentials,
        HoopClient(
            credentials=counting, base_url=settings["URL"], location_id=settings["KEY"]
        ) as client,
    ):
        while not stop_requested(stop) and time.monotonic() < give_up_at:
            batch = [client.opportunities.pipelines() for _ in range(4)]
            for result in await asyncio.gather(*batch, return_exceptions=True):
                calls += 1
                if isinstance(result, BaseException):
                    failures.append(f"{type(result).__name__}: {result}")
            await asyncio.sleep(0.02)
    return {"calls": calls, "failures": failures, "tokens": len(counting.tokens)}


async def stall_then_call(settings: dict[str, str], stall_at: str) -> dict[str, Any]:
    """Stop inside the refresh lock, then, once resumed, make one call."""
    store = worker_store(settings, stall_at)
    original_lock = store.lock

    def lock_and_mark(key: str) -> Any:
        store.inside_lock = True
        return original_lock(key)

    store.lock = lock_and_mark  # type: ignore[method-assign]
    credentials = worker_credentials(settings, store)
    async with (
        store,
        credentials,
        HoopClient(credentials=credentials, base_url=settings["URL"]) as client,
    ):
        pipelines = await client.opportunities.pipelines(location_id=settings["KEY"])
    return {"pipelines": len(pipelines)}


def worker_main(mode: str) -> int:
    settings = worker_settings()
    if mode == "calls":
        report = asyncio.run(make_calls_until_stopped(settings))
    else:
        report = asyncio.run(stall_then_call(settings, mode))
    print(json.dumps(report), flush=True)
    return 0


# -- the tests ------------------------------------------------------------------


def worker_environment(sandbox: Sandbox, redis_url: str, prefix: str, stop: Path) -> dict[str, str]:
    values = {
        "URL": sandbox.url,
        "CLIENT_ID": sandbox.client_id,
        "CLIENT_SECRET": sandbox.client_secret,
        "KEY": sandbox.location_id,
        "REDIS": redis_url,
        "PREFIX": prefix,
        "STOP": str(stop),
    }
    return {**os.environ, **{f"HOOP_TEST_{name}": value for name, value in values.items()}}


async def start_worker(mode: str, environment: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        mode,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for_refreshes(sandbox: Sandbox, count: int, workers: list[Any]) -> None:
    """Poll until the sandbox served `count` refreshes or a worker exited early."""
    while refreshes(sandbox) < count:
        if any(worker.returncode is not None for worker in workers):
            return
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_eight_processes_refresh_once_per_expiry(
    hoop_sandbox: Sandbox, redis_url: str, tmp_path: Path
) -> None:
    prefix, stop = unique_prefix(), tmp_path / "stop"
    async with RedisTokenStore(redis_url, prefix=prefix) as store:
        await install(hoop_sandbox, store)
    environment = worker_environment(hoop_sandbox, redis_url, prefix, stop)

    workers = [await start_worker("calls", environment) for _ in range(WORKERS)]
    try:
        await asyncio.wait_for(wait_for_refreshes(hoop_sandbox, EXPIRIES, workers), timeout=30)
    finally:
        stop.touch()
        outputs = [await worker.communicate() for worker in workers]

    reports = [json.loads(stdout) for stdout, _ in outputs]
    counters = hoop_sandbox.state.tokens.counters
    logger.info(
        "%d processes on Redis: %d calls, %d refreshes, %d invalid_grant, %d failed calls",
        WORKERS,
        sum(report["calls"] for report in reports),
        refreshes(hoop_sandbox),
        counters.invalid_grants,
        sum(len(report["failures"]) for report in reports),
    )
    assert [worker.returncode for worker in workers] == [0] * WORKERS, outputs
    assert [report["failures"] for report in reports] == [[]] * WORKERS
    assert counters.invalid_grants == 0
    assert refreshes(hoop_sandbox) >= EXPIRIES
    # A second refresh of the same token would replace one with most of its life left.
    assert max(counters.refresh_lead_times) <= REFRESH_MARGIN
    assert all(report["tokens"] >= 2 for report in reports), reports


async def start_stalled_worker(
    sandbox: Sandbox, redis_url: str, tmp_path: Path, stall_at: str
) -> tuple[asyncio.subprocess.Process, str, TokenSet]:
    """Install with a due token, start a worker and wait until it stopped inside the lock."""
    prefix = unique_prefix()
    async with RedisTokenStore(redis_url, prefix=prefix) as store:
        installed = await install(sandbox, store)
        due = attrs.evolve(installed, expires_at=installed.obtained_at)
        await store.set(sandbox.location_id, due)
    environment = worker_environment(sandbox, redis_url, prefix, tmp_path / "stop")
    worker = await start_worker(stall_at, environment)
    assert worker.stdout is not None
    line = await asyncio.wait_for(worker.stdout.readline(), timeout=20)
    assert line == b"holding the lock\n"
    return worker, prefix, due


@pytest.mark.slow
async def test_stopped_holder_lets_others_refresh(
    hoop_sandbox: Sandbox, redis_url: str, tmp_path: Path
) -> None:
    worker, prefix, due = await start_stalled_worker(hoop_sandbox, redis_url, tmp_path, "get")
    try:
        async with RedisTokenStore(redis_url, prefix=prefix, lease=LEASE) as store:
            credentials = credentials_for(hoop_sandbox, store)
            async with oauth_client(hoop_sandbox, credentials) as client:
                assert await client.opportunities.pipelines()
                refreshed = await credentials.tokens()
    finally:
        worker.send_signal(signal.SIGCONT)
        stdout, stderr = await worker.communicate()

    async with RedisTokenStore(redis_url, prefix=prefix) as store:
        stored = await store.get(hoop_sandbox.location_id)
    assert worker.returncode == 0, stderr
    assert json.loads(stdout.splitlines()[-1])["pipelines"] > 0
    assert refreshes(hoop_sandbox) == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0
    assert refreshed.refresh_token != due.refresh_token
    assert stored == refreshed


@pytest.mark.slow
async def test_stopped_holder_keeps_newer_tokens(
    hoop_sandbox: Sandbox, redis_url: str, tmp_path: Path
) -> None:
    # The worker stops after its refresh succeeded and before it saves. Meanwhile the
    # app is authorized again, so the store contains a newer pair that must survive.
    worker, prefix, _ = await start_stalled_worker(hoop_sandbox, redis_url, tmp_path, "set")
    try:
        async with RedisTokenStore(redis_url, prefix=prefix, lease=LEASE) as store:
            newer = await install(hoop_sandbox, store)
            credentials = credentials_for(hoop_sandbox, store)
            async with oauth_client(hoop_sandbox, credentials) as client:
                assert await client.opportunities.pipelines()
    finally:
        worker.send_signal(signal.SIGCONT)
        stdout, stderr = await worker.communicate()

    async with RedisTokenStore(redis_url, prefix=prefix) as store:
        stored = await store.get(hoop_sandbox.location_id)
    assert worker.returncode == 0, stderr
    assert b"did not save the refreshed tokens" in stderr
    assert json.loads(stdout.splitlines()[-1])["pipelines"] > 0
    assert refreshes(hoop_sandbox) == 1
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 0
    assert stored == newer


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(worker_main(sys.argv[1]))
