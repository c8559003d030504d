"""`run_import` against the sandbox with small CRM-like files: outcomes and
reasons row by row, reruns, updates, dry runs, rejects files, setup errors,
faults, and search lag.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from migrate_support import (
    GOOD_ROWS,
    HEADER,
    client_for,
    comparable,
    crm_mapping,
    external_ids,
    import_file,
    small_crm_sandbox,
    write_csv,
)

from hoop_async import MigrationError
from hoop_async.migrate import ImportOptions, parse_mapping, run_import
from hoop_async.sandbox import FaultRule, Sandbox

WRITE_ROUTES = {("POST", "/opportunities/"), ("PUT", "/opportunities/{id}")}


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with small_crm_sandbox(tmp_path) as started:
        yield started


@pytest.fixture
def mapping(tmp_path: Path, sandbox: Sandbox) -> dict[str, Any]:
    return crm_mapping(tmp_path, tmp_path / "products.csv")


def writes(sandbox: Sandbox) -> int:
    return sum(count for route, count in sandbox.requests.items() if route in WRITE_ROUTES)


async def run(sandbox: Sandbox, source: Path, mapping: dict[str, Any], **options: Any) -> Any:
    folder = source.parent
    async with client_for(sandbox, sandbox.location_id) as client:
        return await import_file(client, source, mapping, sandbox.location_id, folder, **options)


async def test_each_row_lands_with_the_mapped_values(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)

    summary = await run(sandbox, source, mapping)

    assert dict(summary.outcomes) == {"imported": 4}
    stored = comparable(sandbox, sandbox.location_id)
    assert stored == {
        "W1": ("Cancity: GTX Basic", 1054.0, "Deals", "Won", "won", "Cancity", "Moses Frase"),
        "L1": ("Betatech: MG Special", 0.0, "Deals", "Lost", "lost", "Betatech", "Darcel Schlecht"),
        # Open deals take the product's list price; "GTXPro" matches "GTX Pro".
        "E1": ("Codehow: GTXPro", 4821.0, "Deals", "Engaging", "open", "Codehow", "Anna Snelling"),
        "P1": ("Acme Corporation: GTX Basic", 550.0, "Deals", "Prospecting", "open",
               "Acme Corporation", None),
    }  # fmt: skip
    report = [json.loads(line) for line in summary.report_path.read_text().splitlines()]
    assert report[0] == {"location_id": sandbox.location_id, "source": str(source)}
    assert [(line["row"], line["external_id"], line["outcome"]) for line in report[1:-1]] == [
        (1, "W1", "imported"),
        (2, "L1", "imported"),
        (3, "E1", "imported"),
        (4, "P1", "imported"),
    ]
    assert report[-1]["summary"]["complete"] is True
    assert not summary.rejects_path.exists()


async def test_bad_rows_rejected_with_reasons(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        *GOOD_ROWS,
        ["X1", "Moses Frase", "GTX Basic", "", "Engaging", "", "", ""],
        ["X2", "Moses Frase", "GTX Basic", "Cancty", "Won", "", "", "100"],
        ["X3", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "12,5x"],
        ["X4", "Moses Frase", "GTX Basic", "Cancity", "Closed", "", "", "10"],
        ["W1", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "10"],
        ["", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "10"],
        ["X5", "Nobody Known", "GTX Basic", "Cancity", "Won", "", "", "10"],
        ["X6", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "-5"],
        ["X7", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "1,250.50"],
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)

    summary = await run(sandbox, source, mapping)

    assert dict(summary.outcomes) == {"imported": 5, "rejected": 8}
    assert dict(summary.reasons) == {
        "missing contact": 1,
        "unknown contact": 1,
        "bad monetary value": 2,
        "unknown stage value": 1,
        "duplicate external id": 1,
        "missing external id": 1,
        "unknown user": 1,
    }
    with summary.rejects_path.open(newline="", encoding="utf-8") as handle:
        rejects = {row["_hoop_row"]: row["_hoop_reason"] for row in _csv_rows(handle)}
    assert rejects["5"] == "missing contact: column 'account' is empty; fill it in and import again"
    assert rejects["6"] == (
        "unknown contact: column 'account' contains 'Cancty', which lookup 'contacts' does not "
        "list (did you mean 'Cancity'?)"
    )
    assert (
        rejects["7"]
        == "bad monetary value: column 'close_value' contains '12,5x', which is not a number"
    )
    assert rejects["8"].startswith("unknown stage value: column 'deal_stage' contains 'Closed'")
    assert rejects["9"] == (
        "duplicate external id: 'W1' is also the external id of row 1; give each row its own id"
    )
    assert rejects["10"].startswith("missing external id: column 'opportunity_id' is empty")
    assert rejects["12"].endswith("values must be 0 or more")
    assert comparable(sandbox, sandbox.location_id)["X7"][1] == 1250.5
    assert sorted(external_ids(sandbox, sandbox.location_id)) == ["E1", "L1", "P1", "W1", "X7"]


async def test_fixed_rejects_file_imports(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    rows = [*GOOD_ROWS, ["X1", "Moses Frase", "GTX Basic", "", "Won", "", "", "10"]]
    rows.append(["X2", "Moses Frase", "GTX Basic", "", "Won", "", "", "20"])
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    await run(sandbox, source, mapping)
    rejects = tmp_path / "deals.rejects.csv"

    again = await run(sandbox, rejects, mapping)
    assert dict(again.outcomes) == {"rejected": 2}
    report = [json.loads(line) for line in again.report_path.read_text().splitlines()]
    assert [(line["row"], line["external_id"]) for line in report[1:-1]] == [(5, "X1"), (6, "X2")]

    text = rejects.read_text(encoding="utf-8").replace(",,Won,", ",Betatech,Won,")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text, encoding="utf-8")
    done = await run(sandbox, fixed, mapping)

    assert dict(done.outcomes) == {"imported": 2}
    assert comparable(sandbox, sandbox.location_id)["X2"][5] == "Betatech"


async def test_rerun_leaves_unchanged_rows_and_updates_changed_ones(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    await run(sandbox, source, mapping)
    writes_before = writes(sandbox)

    same = await run(sandbox, source, mapping)
    assert dict(same.outcomes) == {"unchanged": 4}
    assert writes(sandbox) == writes_before

    changed = [list(row) for row in GOOD_ROWS]
    changed[2][4:] = ["Won", "2016-11-03", "2017-01-02", "4700"]
    write_csv(source, HEADER, changed)
    updated = await run(sandbox, source, mapping)

    assert dict(updated.outcomes) == {"unchanged": 3, "updated": 1}
    assert writes(sandbox) == writes_before + 1
    assert comparable(sandbox, sandbox.location_id)["E1"][1:5] == (4700.0, "Deals", "Won", "won")
    assert len(external_ids(sandbox, sandbox.location_id)) == 4


async def test_dry_run_predicts_outcomes_and_writes_nothing(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    rows = [*GOOD_ROWS, ["X1", "Moses Frase", "GTX Basic", "", "Won", "", "", "10"]]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)

    predicted = await run(sandbox, source, mapping, dry_run=True)
    assert dict(predicted.outcomes) == {"imported": 4, "rejected": 1}
    assert predicted.dry_run
    assert writes(sandbox) == 0
    assert sandbox.opportunities(sandbox.location_id) == []

    await run(sandbox, source, mapping)
    rows[0][-1] = "999"
    write_csv(source, HEADER, rows)
    before = writes(sandbox)
    second = await run(sandbox, source, mapping, dry_run=True)
    assert dict(second.outcomes) == {"updated": 1, "unchanged": 3, "rejected": 1}
    assert writes(sandbox) == before


async def test_json_lines_source_and_its_rejects(sandbox: Sandbox, tmp_path: Path) -> None:
    mapping = crm_mapping(tmp_path, tmp_path / "products.csv")
    lines = [json.dumps(dict(zip(HEADER, row, strict=True))) for row in GOOD_ROWS]
    lines.insert(1, "{not json")
    lines.append(json.dumps({"opportunity_id": "J9", "account": None, "deal_stage": "Won",
                             "product": "GTX Basic", "close_value": 12.5}))  # fmt: skip
    source = tmp_path / "deals.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = await run(sandbox, source, mapping)

    assert dict(summary.outcomes) == {"imported": 4, "rejected": 2}
    assert dict(summary.reasons) == {"unreadable row": 1, "missing contact": 1}
    rejected = [
        json.loads(line) for line in (tmp_path / "deals.rejects.jsonl").read_text().splitlines()
    ]
    assert rejected[0] == {
        "_hoop_line": "{not json",
        "_hoop_row": 2,
        "_hoop_reason": "unreadable row: the line is not valid JSON (Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1)); fix it or remove it",
    }
    assert rejected[1]["opportunity_id"] == "J9"
    assert rejected[1]["close_value"] == 12.5

    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps({**rejected[1], "account": "Codehow"}) + "\n", encoding="utf-8")
    done = await run(sandbox, fixed, mapping)
    assert dict(done.outcomes) == {"imported": 1}
    assert comparable(sandbox, sandbox.location_id)["J9"][1] == 12.5


async def test_no_duplicates_setting_rejects_second_deal(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.set_location_setting(sandbox.location_id, allow_duplicate_opportunity=False)
    rows = [GOOD_ROWS[0], ["W2", "Moses Frase", "MG Special", "Cancity", "Won", "", "", "50"]]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)

    summary = await run(sandbox, source, mapping, concurrency=1)

    assert dict(summary.outcomes) == {"imported": 1, "rejected": 1}
    assert dict(summary.reasons) == {"duplicate opportunity": 1}
    reason = summary.rejects_path.read_text(encoding="utf-8")
    assert "allow duplicate opportunities in the location's settings" in reason


async def test_faults_on_writes_lose_and_duplicate_nothing(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    accounts = ["Acme Corporation", "Betatech", "Cancity", "Codehow"]
    rows = [
        [f"F{i}", "Moses Frase", "GTX Basic", accounts[i % 4], "Won", "", "", str(i)]
        for i in range(300)
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    sandbox.config.faults = [
        FaultRule(
            routes=("POST /opportunities/", "PUT /opportunities/{id}"),
            error_rate=0.1,
            reset_before_rate=0.05,
            reset_after_rate=0.05,
        )
    ]
    sandbox.config.fault_seed = 3

    summary = await run(sandbox, source, mapping, concurrency=20)

    assert dict(summary.outcomes) == {"imported": 300}
    assert sandbox.state.faults["reset-after", "POST /opportunities/"] > 0
    stored = external_ids(sandbox, sandbox.location_id)
    assert len(stored) == 300
    assert set(stored.values()) == {1}


async def test_previous_report_covers_search_lag(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.config.index_lag = 60.0
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    await run(sandbox, source, mapping)

    rerun = await run(sandbox, source, mapping)

    assert dict(rerun.outcomes) == {"unchanged": 4}
    assert len(sandbox.opportunities(sandbox.location_id)) == 4


async def test_deleted_record_is_created_again(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    first = await run(sandbox, source, mapping)
    report = [json.loads(line) for line in first.report_path.read_text().splitlines()]
    async with client_for(sandbox, sandbox.location_id) as client:
        await client.opportunities.delete(report[1]["opportunity_id"])

    rerun = await run(sandbox, source, mapping)

    assert dict(rerun.outcomes) == {"imported": 1, "unchanged": 3}
    assert set(external_ids(sandbox, sandbox.location_id).values()) == {1}


async def test_lost_authorization_stops_run(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    read_only = sandbox.issue_token(
        scopes=["opportunities.readonly", "locations/customFields.readonly"]
    )
    async with client_for(sandbox, sandbox.location_id, read_only) as client:
        summary = await import_file(
            client, source, mapping, sandbox.location_id, tmp_path, concurrency=1
        )

    assert summary.error is not None
    assert "scope" in summary.error
    assert not summary.complete
    assert summary.processed == 0
    last = json.loads(summary.report_path.read_text().splitlines()[-1])
    assert last["summary"]["not_processed"] == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pipeline": "Dealz"}, "no pipeline named 'Dealz'; its pipelines are "),
        (
            {"stage": {"column": "deal_stage", "values": {"Won": {"stage": "Closed Won"}}}},
            "pipeline 'Deals' has no stage 'Closed Won'",
        ),
        ({"contact": {"column": "company"}}, "has no column 'company'; its columns are"),
        ({"name": {"template": "{account} {missing}"}}, "has no column 'missing'"),
        ({"external_id": {"column": "opportunity_id", "field": "legacy_id"}},
         "no opportunity custom field 'legacy_id'"),
        ({"status": {"column": "deal_stage"}, "color": "red"}, "unknown keys 'color'"),
        ({"stage": {"column": "deal_stage", "values": {"Won": {"status": "winner"}}}},
         "is 'winner'; use one of open, won, lost, abandoned"),
        ({"assigned_to": {"column": "sales_agent", "lookup": "agents"}},
         "names lookup 'agents' for column 'sales_agent'"),
    ],
)  # fmt: skip
async def test_setup_errors_name_the_problem_and_write_nothing(
    sandbox: Sandbox,
    mapping: dict[str, Any],
    tmp_path: Path,
    change: dict[str, Any],
    message: str,
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    with pytest.raises(MigrationError, match=_escaped(message)):
        await run(sandbox, source, {**mapping, **change})
    assert writes(sandbox) == 0


async def test_file_errors_name_the_file(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MigrationError, match="does not exist or is not a file"):
        await run(sandbox, tmp_path / "missing.csv", mapping)

    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"opportunity_id,account\r\nA1,Caf\xe9\r\n")
    with pytest.raises(MigrationError, match="is not UTF-8 text"):
        await run(sandbox, latin, mapping)

    array = tmp_path / "deals.json"
    array.write_text(json.dumps([dict(zip(HEADER, GOOD_ROWS[0], strict=True))]), encoding="utf-8")
    with pytest.raises(
        MigrationError, match="contains a JSON array; write one JSON object per line"
    ):
        await run(sandbox, array, mapping)

    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    monkeypatch.delenv("CRM_PRICES", raising=False)
    for file, message in [
        ("${CRM_PRICES}/products.csv", "environment variable CRM_PRICES, which is not set"),
        (str(tmp_path / "nope.csv"), "nope.csv does not exist"),
    ]:
        prices = {"file": file, "key": "product", "value": "sales_price"}
        lookups = {**mapping["lookups"], "list_prices": prices}
        with pytest.raises(MigrationError, match=re.escape(message)):
            await run(sandbox, source, {**mapping, "lookups": lookups})
    assert writes(sandbox) == 0


def _csv_rows(handle: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(handle))


def _escaped(text: str) -> str:
    return re.escape(text)


async def test_repeated_external_id_updates_the_oldest(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    location = sandbox.location_id
    pipeline = next(p for p in sandbox.pipelines(location) if p["name"] == "Deals")
    contact = next(c for c in sandbox.contacts(location) if c["name"] == "Cancity")
    copies = [
        sandbox.add_opportunity(
            location,
            name=f"copy {day}",
            pipeline_id=pipeline["id"],
            contact_id=contact["id"],
            created_at=datetime(2024, 1, day, tzinfo=timezone.utc),
            custom_fields=[{"key": "external_id", "field_value": "W1"}],
        )
        for day in (2, 1, 3)
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS[:1])

    summary = await run(sandbox, source, mapping)

    assert dict(summary.outcomes) == {"updated": 1}
    assert summary.repeated_ids == 1
    assert "1 external ids are on more than one opportunity" in summary.format()
    names = {record["id"]: record["name"] for record in sandbox.opportunities(location)}
    assert names[copies[1]["id"]] == "Cancity: GTX Basic"
    assert names[copies[0]["id"]] == "copy 2"
    assert names[copies[2]["id"]] == "copy 3"


async def test_first_row_keeps_its_id_even_when_rejected(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        ["D1", "Moses Frase", "GTX Basic", "", "Won", "", "", "10"],
        ["D1", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", "20"],
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)

    summary = await run(sandbox, source, mapping)

    assert dict(summary.reasons) == {"missing contact": 1, "duplicate external id": 1}
    assert external_ids(sandbox, sandbox.location_id) == {}
    report = [json.loads(line) for line in summary.report_path.read_text().splitlines()]
    assert [line["external_id"] for line in report[1:-1]] == ["D1", "D1"]


async def test_stop_before_rows_writes_nothing(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    stop = asyncio.Event()
    stop.set()

    summary = await run(sandbox, source, mapping, stop=stop)

    assert summary.interrupted
    assert summary.processed == 0
    assert summary.not_processed == 4
    assert writes(sandbox) == 0


async def test_report_of_another_location_is_ignored(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    shared = tmp_path / "shared.report.jsonl"
    async with small_crm_sandbox(tmp_path, locations=2) as sandbox:
        locations = list(sandbox.state.locations)
        token = sandbox.issue_token(locations)
        for location in locations:
            options = ImportOptions(
                source=source,
                mapping=parse_mapping(crm_mapping(tmp_path, tmp_path / "products.csv")),
                location_id=location,
                report_path=shared,
                rejects_path=tmp_path / "rejects.csv",
            )
            async with client_for(sandbox, location, token) as client:
                summary = await run_import(client, options)
            assert dict(summary.outcomes) == {"imported": 4}

        # The second run found the first run's report and fetched none of its records.
        assert sandbox.requests["GET", "/opportunities/{id}"] == 0


async def test_changed_contact_is_rejected_with_hint(
    sandbox: Sandbox, mapping: dict[str, Any], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS[:1])
    await run(sandbox, source, mapping)
    moved = [["W1", "Moses Frase", "GTX Basic", "Betatech", "Won", "", "", "1054"]]
    write_csv(source, HEADER, moved)

    summary = await run(sandbox, source, mapping)

    assert dict(summary.reasons) == {"contact changed": 1}
    reason = summary.rejects_path.read_text(encoding="utf-8")
    assert "the API cannot move it to" in reason
    assert "If column 'account' holds contact names rather than ids" in reason
    assert comparable(sandbox, sandbox.location_id)["W1"][5] == "Cancity"
