"""Seed data, the seeding API, hosting the app yourself, and the pytest plugin."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hoop_async.sandbox import Sandbox, SandboxConfig, create_app

from .api import Api, open_api

PIPELINES = "/opportunities/pipelines"


def test_seeded_location_content() -> None:
    sandbox = Sandbox()

    contacts = sandbox.contacts()
    assert [pipeline["name"] for pipeline in sandbox.pipelines()] == [
        "Sales Pipeline",
        "Onboarding",
    ]
    assert [len(pipeline["stages"]) for pipeline in sandbox.pipelines()] == [6, 3]
    assert len(sandbox.lost_reasons()) == 4
    assert len(sandbox.users()) == 5
    assert len(contacts) == 300
    assert all(contact["email"].endswith("@example.com") for contact in contacts)
    assert all(re.fullmatch(r"\+1555555\d{4}", contact["phone"]) for contact in contacts)
    assert len({contact["email"] for contact in contacts}) == 300
    assert sandbox.opportunities() == []


def test_same_seed_same_data() -> None:
    first, second = Sandbox(SandboxConfig(seed=7)), Sandbox(SandboxConfig(seed=7))

    assert first.location_id == second.location_id
    assert first.contacts() == second.contacts()
    assert first.users() == second.users()
    assert first.client_id == second.client_id
    assert [p["id"] for p in first.pipelines()] == [p["id"] for p in second.pipelines()]


def test_other_seed_other_data() -> None:
    assert Sandbox(SandboxConfig(seed=1)).location_id != Sandbox(SandboxConfig(seed=2)).location_id


def test_seed_contacts_and_opportunities_config() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=10, seed_opportunities=25))

    assert len(sandbox.contacts()) == 10
    assert len(sandbox.opportunities()) == 25


def test_bulk_100k_is_fast() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=50))
    started = time.perf_counter()

    ids = sandbox.add_opportunities_bulk(sandbox.location_id, 100_000)

    elapsed = time.perf_counter() - started
    assert len(set(ids)) == 100_000
    assert elapsed < 5, f"bulk seeding of 100,000 records took {elapsed:.1f} s"


async def test_bulk_deep_cursor_page_is_cheap() -> None:
    async with open_api(SandboxConfig(seed_contacts=50)) as api:
        ids = api.sandbox.add_opportunities_bulk(api.location_id, 100_000)
        middle = (await api.get(f"/opportunities/{ids[50_000]}")).body["opportunity"]
        created = datetime.strptime(middle["createdAt"], "%Y-%m-%dT%H:%M:%S.%f%z")
        params = {
            "location_id": api.location_id,
            "limit": "100",
            "startAfter": str(int(created.timestamp() * 1000)),
            "startAfterId": middle["id"],
        }
        started = time.perf_counter()
        deep = await api.get("/opportunities/search", params=params)
        elapsed = time.perf_counter() - started

    rows = deep.body["opportunities"]
    assert [row["id"] for row in rows] == ids[50_001:50_101]
    assert deep.body["meta"]["total"] == 100_000
    assert elapsed < 0.5, f"a cursor page in the middle of 100,000 records took {elapsed:.2f} s"


def test_opportunities_listing_newest_first() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=3))
    pipeline_id = sandbox.pipelines()[0]["id"]
    contact_ids = [contact["id"] for contact in sandbox.contacts()]
    old = sandbox.add_opportunity(
        sandbox.location_id,
        name="Old",
        pipeline_id=pipeline_id,
        contact_id=contact_ids[0],
        created_at=datetime.now(timezone.utc) - timedelta(days=3),
    )
    new = sandbox.add_opportunity(
        sandbox.location_id, name="New", pipeline_id=pipeline_id, contact_id=contact_ids[1]
    )

    assert [item["id"] for item in sandbox.opportunities()] == [new["id"], old["id"]]


def test_add_opportunity_checks_references() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=1))
    contact_id = sandbox.contacts()[0]["id"]

    with pytest.raises(ValueError, match="Pipeline nope not found"):
        sandbox.add_opportunity(
            sandbox.location_id, name="X", pipeline_id="nope", contact_id=contact_id
        )
    with pytest.raises(ValueError, match="status must be one of"):
        sandbox.add_opportunity(
            sandbox.location_id,
            name="X",
            pipeline_id=sandbox.pipelines()[0]["id"],
            contact_id=contact_id,
            status="all",
        )


def test_add_opportunity_skips_duplicate_rule() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=1))
    pipeline_id, contact_id = sandbox.pipelines()[0]["id"], sandbox.contacts()[0]["id"]

    for _ in range(2):
        sandbox.add_opportunity(
            sandbox.location_id, name="Twin", pipeline_id=pipeline_id, contact_id=contact_id
        )

    assert len(sandbox.opportunities()) == 2


def test_add_location_defaults() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=0))

    location_id = sandbox.add_location(name="Branch", contacts=4)

    assert len(sandbox.pipelines(location_id)) == 2
    assert len(sandbox.users(location_id)) == 5
    assert len(sandbox.contacts(location_id)) == 4


def test_unknown_location_raises() -> None:
    with pytest.raises(ValueError, match="unknown location id 'nope'"):
        Sandbox(SandboxConfig(seed_contacts=0)).pipelines("nope")


def test_bulk_needs_contacts() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=0))

    with pytest.raises(ValueError, match="no contacts"):
        sandbox.add_opportunities_bulk(sandbox.location_id, 10)


def test_url_before_start_raises() -> None:
    with pytest.raises(RuntimeError, match="not serving"):
        _ = Sandbox(SandboxConfig(seed_contacts=0)).url


async def test_create_app_hosted_by_test_server() -> None:
    sandbox = Sandbox(SandboxConfig(seed_contacts=0))
    headers = {"Authorization": f"Bearer {sandbox.token}", "Version": "2021-07-28"}
    async with TestServer(create_app(sandbox)) as server, aiohttp.ClientSession() as session:
        url = server.make_url(PIPELINES)
        async with session.get(
            url, params={"locationId": sandbox.location_id}, headers=headers
        ) as response:
            status = response.status

    assert status == 200
    assert sandbox.requests[("GET", PIPELINES)] == 1


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_available(), reason="::1 cannot be bound on this machine")
async def test_serves_on_ipv6_loopback() -> None:
    async with Sandbox(SandboxConfig(seed_contacts=0), host="::1") as sandbox:
        assert sandbox.url.startswith("http://[::1]:")
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                sandbox.url + PIPELINES,
                params={"locationId": sandbox.location_id},
                headers={"Authorization": f"Bearer {sandbox.token}", "Version": "v3"},
            ) as response,
        ):
            assert response.status == 200


async def test_pytest_plugin_fixture(api: Api) -> None:
    reply = await api.get(PIPELINES, params={"locationId": api.location_id})

    assert reply.status == 200


def test_pytest_plugin_loads_by_name(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["hoop_async.sandbox.pytest_plugin"]\n')
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.asyncio
            async def test_started(hoop_sandbox):
                assert hoop_sandbox.url.startswith("http://127.0.0.1:")
            """
        )
    )

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
