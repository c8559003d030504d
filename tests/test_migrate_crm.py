"""The public CRM sample export (8,800 deals) migrated into the sandbox.

The tests account for every row, rerun without creating anything, import the
fixed rejects, round-trip an export into an empty location, and finish an
interrupted import without duplicates.

The export is read where it lies and never copied; these tests skip when it is
absent (set HOOP_CRM_DATA to its folder).
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from migrate_support import (
    client_for,
    comparable,
    crm_data_dir,
    crm_mapping,
    export_mapping,
    external_ids,
    fast_config,
    import_file,
    requires_crm_data,
    seed_for_migration,
)

from hoop_async.migrate import ExportOptions, run_export
from hoop_async.sandbox import Sandbox

pytestmark = [requires_crm_data, pytest.mark.slow]

DATA = crm_data_dir()
PIPELINE = DATA / "sales_pipeline.csv"
ROWS = 8800
WITHOUT_ACCOUNT = 1425  # open deals (1,088 Engaging, 337 Prospecting) with no account


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """Two locations seeded as `hoop sandbox` seeds them for this export."""
    async with Sandbox(config=fast_config(seed_contacts=0)) as started:
        seed_for_migration(
            started,
            tmp_path,
            accounts=DATA / "accounts.csv",
            agents=DATA / "sales_teams.csv",
            locations=2,
        )
        yield started


async def test_full_import_rerun_and_fixed_rejects(sandbox: Sandbox, tmp_path: Path) -> None:
    mapping = crm_mapping(tmp_path, DATA / "products.csv")
    location = sandbox.location_id
    async with client_for(sandbox, location, _token(sandbox)) as client:
        first = await import_file(client, PIPELINE, mapping, location, tmp_path)
        second = await import_file(client, PIPELINE, mapping, location, tmp_path)

        rejects = tmp_path / "sales_pipeline.rejects.csv"
        fixed = _fill_accounts(rejects, tmp_path / "fixed.csv")
        third = await import_file(client, fixed, mapping, location, tmp_path)

    assert first.total == ROWS
    assert dict(first.outcomes) == {"imported": ROWS - WITHOUT_ACCOUNT, "rejected": WITHOUT_ACCOUNT}
    assert dict(first.reasons) == {"missing contact": WITHOUT_ACCOUNT}
    assert first.complete
    assert dict(second.outcomes) == {
        "unchanged": ROWS - WITHOUT_ACCOUNT,
        "rejected": WITHOUT_ACCOUNT,
    }
    assert dict(third.outcomes) == {"imported": WITHOUT_ACCOUNT}
    ids = external_ids(sandbox, location)
    assert len(ids) == ROWS
    assert set(ids.values()) == {1}

    stored = comparable(sandbox, location)
    assert stored["1C1I7A6R"] == (
        "Cancity: GTX Plus Basic",
        1054.0,
        "Deals",
        "Won",
        "won",
        "Cancity",
        "Moses Frase",
    )
    assert stored["KWVA7VR1"][1:5] == (0.0, "Deals", "Lost", "lost")
    # Open deals carry the product's list price; "GTXPro" is "GTX Pro" in products.csv.
    assert stored["ICMXZOVL"] == (
        "Stanredtax: GTXPro",
        4821.0,
        "Deals",
        "Engaging",
        "open",
        "Stanredtax",
        "Daniell Hammack",
    )
    # An open deal without an account, imported from the fixed rejects file.
    assert stored["3LCLVRVV"][2:6] == ("Deals", "Prospecting", "open", "Acme Corporation")


async def test_export_round_trips_into_an_empty_location(sandbox: Sandbox, tmp_path: Path) -> None:
    first, second = sandbox.location_id, _second_location(sandbox)
    token = _token(sandbox)
    async with client_for(sandbox, first, token) as client:
        await import_file(
            client, PIPELINE, crm_mapping(tmp_path, DATA / "products.csv"), first, tmp_path
        )
        exported = tmp_path / "deals.csv"
        summary = await run_export(client, ExportOptions(location_id=first, output=exported))
    assert summary.rows == ROWS - WITHOUT_ACCOUNT

    async with client_for(sandbox, second, token) as client:
        result = await import_file(client, exported, export_mapping(tmp_path), second, tmp_path)

    assert dict(result.outcomes) == {"imported": ROWS - WITHOUT_ACCOUNT}
    assert comparable(sandbox, second) == comparable(sandbox, first)


async def test_interrupted_import_finishes_on_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    mapping = crm_mapping(tmp_path, DATA / "products.csv")
    location = sandbox.location_id
    stop = asyncio.Event()

    def halfway(done: int, rejected: int, total: int) -> None:
        if done >= total // 2:
            stop.set()

    async with client_for(sandbox, location, _token(sandbox)) as client:
        cut = await import_file(
            client, PIPELINE, mapping, location, tmp_path, stop=stop, on_progress=halfway
        )
        rerun = await import_file(client, PIPELINE, mapping, location, tmp_path)

    assert cut.interrupted
    assert ROWS // 2 <= cut.processed < ROWS
    assert cut.not_processed == ROWS - cut.processed
    assert rerun.complete
    imported_first = cut.outcomes["imported"]
    assert rerun.outcomes["unchanged"] == imported_first
    assert rerun.outcomes["imported"] == ROWS - WITHOUT_ACCOUNT - imported_first
    assert set(external_ids(sandbox, location).values()) == {1}
    assert len(external_ids(sandbox, location)) == ROWS - WITHOUT_ACCOUNT


def _fill_accounts(rejects: Path, fixed: Path) -> Path:
    """Fix the rejects as a user would: give each open deal an account."""
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == WITHOUT_ACCOUNT
    assert all(row["_hoop_reason"].startswith("missing contact") for row in rows)
    for row in rows:
        row["account"] = "Acme Corporation"
    with fixed.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return fixed


def _second_location(sandbox: Sandbox) -> str:
    return next(loc for loc in sandbox.state.locations if loc != sandbox.location_id)


def _token(sandbox: Sandbox) -> str:
    return sandbox.issue_token(list(sandbox.state.locations))
