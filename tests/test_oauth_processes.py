"""OAuth across OS processes: four processes sharing one FileTokenStore refresh
once per expiry in total, and a process killed between the token response and
the save leaves a store whose next use raises the re-authorise error.

Run as a script, this file is the worker process of those tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from oauth_support import credentials_for, install, oauth_client, oauth_config, refreshes

from hoop_async import HoopClient, ReauthorizationRequiredError
from hoop_async.auth import FileTokenStore, OAuthCredentials, TokenSet
from hoop_async.sandbox import Sandbox, SandboxConfig

logger = logging.getLogger(__name__)

WORKERS = 4
EXPIRIES = 4
# Tokens live 2 s, so the refresh margin is half of that: 1 s.
TOKEN_LIFETIME = 2.0
REFRESH_MARGIN = TOKEN_LIFETIME / 2
WORKER_TIME_LIMIT = 60.0
ENVIRONMENT_KEYS = ("URL", "CLIENT_ID", "CLIENT_SECRET", "KEY", "STORE", "STOP")


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    return oauth_config(access_token_ttl=TOKEN_LIFETIME)


# -- the worker process ---------------------------------------------------------


class CountingCredentials:
    """Passes every call to OAuthCredentials and records the access tokens it hands out."""

    def __init__(self, inner: OAuthCredentials) -> None:
        self.inner = inner
        self.tokens: set[str] = set()

    async def access_token(self, location_id: str | None) -> str:
        token = await self.inner.access_token(location_id)
        self.tokens.add(token)
        return token

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        return await self.inner.token_rejected(location_id, token)


class CrashBeforeSaveStore(FileTokenStore):
    """Kills the process when asked to save, right after the token response arrived."""

    async def set(self, key: str, tokens: TokenSet) -> None:
        os._exit(70)


def worker_settings() -> dict[str, str]:
    return {name: os.environ[f"HOOP_TEST_{name}"] for name in ENVIRONMENT_KEYS}


def worker_credentials(settings: dict[str, str], store: FileTokenStore) -> OAuthCredentials:
    return OAuthCredentials(
        settings["CLIENT_ID"],
        settings["CLIENT_SECRET"],
        key=settings["KEY"],
        store=store,
        base_url=settings["URL"],
    )


def stop_requested(stop: Path) -> bool:
    return stop.exists()


async def make_calls_until_stopped(settings: dict[str, str]) -> dict[str, Any]:
    """Call the API in small concurrent batches until the stop file appears."""
    credentials = worker_credentials(settings, FileTokenStore(settings["STORE"]))
    counting = CountingCredentials(credentials)
    stop = Path(settings["STOP"])
    calls, failures = 0, []
    give_up_at = time.monotonic() + WORKER_TIME_LIMIT
    async with (
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


async def refresh_then_crash(settings: dict[str, str], mode: str) -> None:
    if mode == "crash-before-save":
        store: FileTokenStore = CrashBeforeSaveStore(settings["STORE"])
    else:
        store = FileTokenStore(settings["STORE"])

        def crash(source: object, target: object) -> None:
            os._exit(71)

        # The new file is written and flushed; the crash comes before the rename.
        os.replace = crash
    async with worker_credentials(settings, store) as credentials:
        await credentials.tokens()


def worker_main(mode: str) -> int:
    settings = worker_settings()
    if mode == "calls":
        print(json.dumps(asyncio.run(make_calls_until_stopped(settings))))
        return 0
    asyncio.run(refresh_then_crash(settings, mode))
    return 1


# -- the tests ------------------------------------------------------------------


def worker_environment(sandbox: Sandbox, store: Path, stop: Path) -> dict[str, str]:
    values = {
        "URL": sandbox.url,
        "CLIENT_ID": sandbox.client_id,
        "CLIENT_SECRET": sandbox.client_secret,
        "KEY": sandbox.location_id,
        "STORE": str(store),
        "STOP": str(stop),
    }
    return {**os.environ, **{f"HOOP_TEST_{name}": value for name, value in values.items()}}


def temporary_files(directory: Path) -> list[Path]:
    return list(directory.glob(".tokens.json.*.tmp"))


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
async def test_four_processes_refresh_once_per_expiry(
    hoop_sandbox: Sandbox, tmp_path: Path
) -> None:
    store_path, stop = tmp_path / "tokens.json", tmp_path / "stop"
    await install(hoop_sandbox, FileTokenStore(store_path))
    environment = worker_environment(hoop_sandbox, store_path, stop)

    workers = [await start_worker("calls", environment) for _ in range(WORKERS)]
    try:
        await asyncio.wait_for(wait_for_refreshes(hoop_sandbox, EXPIRIES, workers), timeout=30)
    finally:
        stop.touch()
        outputs = [await worker.communicate() for worker in workers]

    reports = [json.loads(stdout) for stdout, _ in outputs]
    counters = hoop_sandbox.state.tokens.counters
    logger.info(
        "%d processes: %d calls, %d refreshes, %d invalid_grant, %d failed calls",
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "exit_status"), [("crash-before-save", 70), ("crash-in-write", 71)]
)
async def test_crash_before_save_needs_reauthorization(
    hoop_sandbox: Sandbox, tmp_path: Path, mode: str, exit_status: int
) -> None:
    store_path = tmp_path / "tokens.json"
    installed = await install(hoop_sandbox, FileTokenStore(store_path))
    due = attrs.evolve(installed, expires_at=installed.obtained_at)
    await FileTokenStore(store_path).set(hoop_sandbox.location_id, due)

    worker = await start_worker(mode, worker_environment(hoop_sandbox, store_path, tmp_path))
    _, stderr = await worker.communicate()

    assert worker.returncode == exit_status, stderr
    assert refreshes(hoop_sandbox) == 1
    assert len(temporary_files(tmp_path)) == (1 if mode == "crash-in-write" else 0)
    assert await FileTokenStore(store_path).get(hoop_sandbox.location_id) == due

    credentials = credentials_for(hoop_sandbox, FileTokenStore(store_path))
    async with oauth_client(hoop_sandbox, credentials) as client:
        with pytest.raises(ReauthorizationRequiredError):
            await client.opportunities.pipelines()
        await credentials.exchange_code(hoop_sandbox.issue_auth_code(hoop_sandbox.location_id))
        pipelines = await client.opportunities.pipelines()

    assert pipelines
    assert hoop_sandbox.state.tokens.counters.invalid_grants == 1


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
