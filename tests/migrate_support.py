"""Helpers of the import and export tests: sandboxes seeded as `hoop sandbox`
seeds them, small CRM-like files, and a runner of `run_import`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hoop_async import HoopClient, RetryPolicy
from hoop_async.migrate import ImportOptions, ImportSummary, parse_mapping, run_import
from hoop_async.sandbox import Sandbox, SandboxConfig
from hoop_async.sandbox.seed_cli import apply_seed_flags, seed_document

STAGES = ("Prospecting", "Engaging", "Won", "Lost")
ACCOUNTS = ("Acme Corporation", "Betatech", "Cancity", "Codehow")
AGENTS = ("Moses Frase", "Darcel Schlecht", "Anna Snelling")
PRODUCTS = {"GTX Basic": "550", "GTX Pro": "4821", "MG Special": "55"}
FAST_RETRY = RetryPolicy(max_tries=8, base_delay=0.01, max_delay=0.05)
HEADER = (
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
)
GOOD_ROWS = [
    ["W1", "Moses Frase", "GTX Basic", "Cancity", "Won", "2016-10-20", "2017-03-01", "1054"],
    ["L1", "Darcel Schlecht", "MG Special", "Betatech", "Lost", "2016-10-25", "2017-03-11", "0"],
    ["E1", "Anna Snelling", "GTXPro", "Codehow", "Engaging", "2016-11-03", "", ""],
    ["P1", "", "GTX Basic", "Acme Corporation", "Prospecting", "", "", ""],
]


def crm_data_dir() -> Path:
    """The public CRM sample export: $HOOP_CRM_DATA, $CRM_DATA or the shared data folder."""
    configured = os.environ.get("HOOP_CRM_DATA") or os.environ.get("CRM_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "crm-sales-opportunities"


requires_crm_data = pytest.mark.skipif(
    not (crm_data_dir() / "sales_pipeline.csv").is_file(),
    reason="the CRM sample export is not present (set CRM_DATA to its folder)",
)


def fast_config(**settings: Any) -> SandboxConfig:
    """Settings whose rate limit does not pace a test of some thousand calls."""
    return SandboxConfig(rate_limit_max=100_000, rate_limit_interval_ms=1000, **settings)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """Write a CSV file with CRLF line ends, as the sample export has them."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def seed_for_migration(
    sandbox: Sandbox,
    folder: Path,
    *,
    accounts: Path,
    agents: Path,
    locations: int = 1,
    allow_duplicates: bool = True,
) -> list[str]:
    """Seed as `hoop sandbox` does for a migration and write the seed file to `folder`."""
    flags = argparse.Namespace(
        locations=locations,
        pipeline=[f"Deals={','.join(STAGES)}"],
        contacts_from=[f"{accounts}:account"],
        users_from=[f"{agents}:sales_agent"],
        custom_field=["external_id"],
        allow_duplicates=allow_duplicates,
    )
    ids = apply_seed_flags(sandbox, flags)
    seed_file = folder / "sandbox-seed.json"
    seed_file.write_text(json.dumps(seed_document(sandbox, ids)), encoding="utf-8")
    return ids


def crm_mapping(folder: Path, products: Path) -> dict[str, Any]:
    """The mapping of the sample export, with lookup files under `folder`."""
    seed_file = str(folder / "sandbox-seed.json")
    return {
        "pipeline": "Deals",
        "external_id": {"column": "opportunity_id", "field": "external_id"},
        "name": {"template": "{account}: {product}"},
        "stage": {
            "column": "deal_stage",
            "values": {
                "Prospecting": {"stage": "Prospecting", "status": "open"},
                "Engaging": {"stage": "Engaging", "status": "open"},
                "Won": {"stage": "Won", "status": "won"},
                "Lost": {"stage": "Lost", "status": "lost"},
            },
        },
        "monetary_value": {
            "column": "close_value",
            "when_empty": {"column": "product", "lookup": "list_prices"},
        },
        "contact": {"column": "account", "lookup": "contacts"},
        "assigned_to": {"column": "sales_agent", "lookup": "users"},
        "lookups": {
            "list_prices": {"file": str(products), "key": "product", "value": "sales_price"},
            "contacts": {"file": seed_file, "path": ["locations", "{location}", "contacts"]},
            "users": {"file": seed_file, "path": ["locations", "{location}", "users"]},
        },
    }


def export_mapping(folder: Path) -> dict[str, Any]:
    """The mapping that imports a `hoop export` file, as examples/export-mapping.json."""
    mapping = json.loads(
        (Path(__file__).resolve().parents[1] / "examples" / "export-mapping.json").read_text()
    )
    seed_file = str(folder / "sandbox-seed.json")
    mapping["lookups"]["contacts"]["file"] = seed_file
    return dict(mapping)


def small_crm_files(folder: Path) -> dict[str, Path]:
    """Companion tables of a small CRM-like export: accounts, agents, products."""
    return {
        "accounts": write_csv(
            folder / "accounts.csv", ["account", "sector"], [[a, "retail"] for a in ACCOUNTS]
        ),
        "agents": write_csv(
            folder / "sales_teams.csv", ["sales_agent", "manager"], [[a, "Boss"] for a in AGENTS]
        ),
        "products": write_csv(
            folder / "products.csv",
            ["product", "series", "sales_price"],
            [[name, name.split()[0], price] for name, price in PRODUCTS.items()],
        ),
    }


@asynccontextmanager
async def small_crm_sandbox(folder: Path, *, locations: int = 1) -> AsyncIterator[Sandbox]:
    """A sandbox seeded for the small CRM-like files written to `folder`."""
    async with Sandbox(config=fast_config(seed_contacts=0)) as started:
        files = small_crm_files(folder)
        seed_for_migration(
            started,
            folder,
            accounts=files["accounts"],
            agents=files["agents"],
            locations=locations,
        )
        yield started


async def import_file(
    client: HoopClient,
    source: Path,
    mapping: dict[str, Any],
    location_id: str,
    folder: Path,
    **options: Any,
) -> ImportSummary:
    """Run an import with its report and rejects file in `folder`."""
    stop = options.pop("stop", None)
    on_progress = options.pop("on_progress", None)
    import_options = ImportOptions(
        source=source,
        mapping=parse_mapping(mapping),
        location_id=location_id,
        report_path=folder / f"{source.name}.{location_id}.report.jsonl",
        rejects_path=folder / f"{source.stem}.rejects{source.suffix}",
        **options,
    )
    return await run_import(client, import_options, stop=stop, on_progress=on_progress)


def client_for(sandbox: Sandbox, location_id: str, token: str | None = None) -> HoopClient:
    return HoopClient(
        token=token or sandbox.token,
        base_url=sandbox.url,
        location_id=location_id,
        retry=FAST_RETRY,
    )


def external_ids(sandbox: Sandbox, location_id: str) -> Counter[str]:
    """How many stored opportunities carry each external id."""
    field_ids = {f["id"] for f in sandbox.custom_fields(location_id)}
    found: Counter[str] = Counter()
    for record in sandbox.opportunities(location_id):
        for field in record["customFields"]:
            if field["id"] in field_ids:
                found[str(field["fieldValue"])] += 1
    return found


def comparable(sandbox: Sandbox, location_id: str) -> dict[str, tuple[Any, ...]]:
    """Stored records by external id, with names in place of location-specific ids."""
    pipelines = sandbox.pipelines(location_id)
    pipeline_names = {p["id"]: p["name"] for p in pipelines}
    stage_names = {s["id"]: s["name"] for p in pipelines for s in p["stages"]}
    users = sandbox.user_names(location_id)
    field_ids = {f["id"] for f in sandbox.custom_fields(location_id)}
    records: dict[str, tuple[Any, ...]] = {}
    for record in sandbox.opportunities(location_id):
        external = [f["fieldValue"] for f in record["customFields"] if f["id"] in field_ids]
        records[str(external[0])] = (
            record["name"],
            float(record["monetaryValue"]),
            pipeline_names[record["pipelineId"]],
            stage_names[record["pipelineStageId"]],
            record["status"],
            record["contact"]["name"],
            users.get(record["assignedTo"]),
        )
    return records
