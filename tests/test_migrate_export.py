"""`run_export`: CSV and JSON Lines with names in place of ids, filters, and
resuming an interrupted export without a gap or a repeated row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from migrate_support import client_for, fast_config

from hoop_async import MigrationError
from hoop_async.migrate import ExportOptions, run_export
from hoop_async.migrate.exporter import BASE_COLUMNS, state_path
from hoop_async.sandbox import Sandbox

RECORDS = 250


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(config=fast_config(seed_contacts=40)) as started:
        started.add_custom_field(started.location_id, "external_id")
        pipeline = started.pipelines()[0]
        contacts = started.contacts()
        for index in range(RECORDS):
            started.add_opportunity(
                started.location_id,
                pipeline_id=pipeline["id"],
                contact_id=contacts[index % len(contacts)]["id"],
                name=f"Deal {index}",
                status=("open", "won", "lost")[index % 3],
                monetary_value=index * 10,
                pipeline_stage_id=pipeline["stages"][index % 3]["id"],
                custom_fields=[{"key": "external_id", "field_value": f"EXT-{index}"}],
            )
        yield started


async def export(sandbox: Sandbox, output: Path, **options: Any) -> Any:
    should_stop = options.pop("should_stop", lambda: False)
    async with client_for(sandbox, sandbox.location_id) as client:
        return await run_export(
            client,
            ExportOptions(location_id=sandbox.location_id, output=output, **options),
            should_stop=should_stop,
        )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def test_csv_export_names_pipelines_stages_and_custom_fields(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    output = tmp_path / "deals.csv"

    summary = await export(sandbox, output)

    assert summary.complete
    assert summary.rows == RECORDS
    rows = read_csv(output)
    assert list(rows[0]) == [*BASE_COLUMNS, "custom.external_id"]
    by_external = {row["custom.external_id"]: row for row in rows}
    assert len(by_external) == RECORDS
    deal = by_external["EXT-7"]
    stages = [stage["name"] for stage in sandbox.pipelines()[0]["stages"]]
    assert (deal["name"], deal["status"], deal["monetary_value"]) == ("Deal 7", "won", "70.0")
    assert (deal["pipeline"], deal["stage"]) == (sandbox.pipelines()[0]["name"], stages[1])
    assert deal["contact_name"] == sandbox.contacts()[7]["name"]


async def test_json_lines_export_with_filters(sandbox: Sandbox, tmp_path: Path) -> None:
    output = tmp_path / "won.jsonl"

    summary = await export(sandbox, output, format="jsonl", status="won", page_size=20)

    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert summary.rows == len(records) == len(range(1, RECORDS, 3))
    assert {record["status"] for record in records} == {"won"}
    assert records[0]["monetary_value"] == float(records[0]["name"].split()[1]) * 10


async def test_interrupted_export_resumes_without_gaps_or_repeats(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.csv"
    await export(sandbox, whole, page_size=30)
    output = tmp_path / "deals.csv"
    pages = 0

    def after_three_pages() -> bool:
        nonlocal pages
        pages += 1
        return pages >= 3

    cut = await export(sandbox, output, page_size=30, should_stop=after_three_pages)
    assert not cut.complete
    assert cut.rows == 90
    # A page cut short by a crash after the state was saved: resume must drop it.
    with output.open("a", encoding="utf-8") as handle:
        handle.write("half,a,row")

    resumed = await export(sandbox, output, page_size=30, resume=True)

    assert resumed.complete
    assert resumed.resumed_at == 90
    assert output.read_bytes() == whole.read_bytes()
    again = await export(sandbox, output, page_size=30, resume=True)
    assert again.complete
    assert again.pages == 0


async def test_export_protects_existing_output(sandbox: Sandbox, tmp_path: Path) -> None:
    output = tmp_path / "deals.csv"
    with pytest.raises(MigrationError, match="nothing to resume"):
        await export(sandbox, output, resume=True)

    await export(sandbox, output, should_stop=lambda: True)
    with pytest.raises(MigrationError, match="exists; pass --overwrite to replace it or --resume"):
        await export(sandbox, output)
    resume_message = (
        "cannot resume: the interrupted export ran with no --pipeline or --status and this "
        "run has --status won"
    )
    with pytest.raises(MigrationError, match=resume_message):
        await export(sandbox, output, resume=True, status="won")
    with pytest.raises(MigrationError, match="no pipeline named 'Nope'"):
        await export(sandbox, output, overwrite=True, pipeline="Nope")

    done = await export(sandbox, output, overwrite=True)
    assert done.rows == RECORDS
    assert json.loads(state_path(output).read_text())["complete"] is True
