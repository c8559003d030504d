"""Seeding options of `hoop sandbox`: extra locations, pipelines, contacts and
users named in CSV files, custom fields, and the files that tell other
commands how to reach the sandbox.

The seed file is JSON:

    {"locationId": "<first location>", "contactIds": [...], "userIds": [...],
     "locations": {"<location id>": {"name": "...",
                                     "contacts": {"<contact name>": "<id>"},
                                     "users": {"<user name>": "<id>"},
                                     "customFields": {"<key>": "<id>"}}}}

which `hoop import` reads as lookup tables, e.g. path
["locations", "{location}", "contacts"].
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hoop_async.sandbox.server import Sandbox

__all__ = [
    "add_seed_flags",
    "apply_seed_flags",
    "check_seed_flags",
    "env_text",
    "seed_document",
    "write_seed_files",
]

_SLUG = re.compile(r"[^a-z0-9]+")


def add_seed_flags(parser: argparse.ArgumentParser) -> None:
    """Add the seeding flags to the `hoop sandbox` parser."""
    parser.add_argument(
        "--locations",
        type=int,
        default=1,
        help="locations to serve, each seeded alike (default 1); the token reaches all of them",
    )
    parser.add_argument(
        "--pipeline",
        action="append",
        default=[],
        metavar="NAME=STAGE,STAGE,...",
        help="add a pipeline with these stages, in order, to every location (repeatable)",
    )
    parser.add_argument(
        "--contacts-from",
        action="append",
        default=[],
        metavar="CSV:COLUMN",
        help="add one contact per distinct value of COLUMN in the CSV file, named after it, "
        "to every location (repeatable)",
    )
    parser.add_argument(
        "--users-from",
        action="append",
        default=[],
        metavar="CSV:COLUMN",
        help="add one user per distinct value of COLUMN, the same user in every location "
        "(repeatable)",
    )
    parser.add_argument(
        "--custom-field",
        action="append",
        default=[],
        metavar="KEY",
        help="define a text custom field on opportunities in every location (repeatable)",
    )
    parser.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="let a contact have several opportunities in one pipeline (a location setting)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="write HOOP_BASE_URL, HOOP_TOKEN, HOOP_LOCATION_ID (and HOOP_LOCATION_ID_2, ... "
        "for more locations) to this file, for `set -a; . FILE`",
    )


def check_seed_flags(args: argparse.Namespace) -> str | None:
    """Return what is wrong with the seeding flags, or None."""
    if args.locations < 1:
        return "--locations must be 1 or more"
    for spec in args.pipeline:
        name, sep, stages = spec.partition("=")
        if not sep or not name.strip() or not [s for s in stages.split(",") if s.strip()]:
            return f"--pipeline {spec!r} must look like 'Deals=Prospecting,Engaging,Won,Lost'"
    for flag, specs in (("--contacts-from", args.contacts_from), ("--users-from", args.users_from)):
        for spec in specs:
            problem = _csv_problem(spec)
            if problem:
                return f"{flag} {spec!r}: {problem}"
    return None


def apply_seed_flags(sandbox: Sandbox, args: argparse.Namespace) -> list[str]:
    """Seed the sandbox as the flags ask and return every location id, the first one first."""
    locations = [sandbox.location_id]
    for number in range(2, args.locations + 1):
        locations.append(sandbox.add_location(f"Sandbox Location {number}"))
    contact_names = [name for spec in args.contacts_from for name in _column_values(spec)]
    user_names = [name for spec in args.users_from for name in _column_values(spec)]
    user_ids: dict[str, str] = {}
    for location_id in locations:
        for spec in args.pipeline:
            name, _, stages = spec.partition("=")
            stage_names = [stage.strip() for stage in stages.split(",") if stage.strip()]
            sandbox.add_pipeline(location_id, name.strip(), stage_names)
        for name in dict.fromkeys(contact_names):
            sandbox.add_contact(
                location_id,
                name=name,
                company_name=name,
                email=f"{_SLUG.sub('.', name.lower()).strip('.') or 'contact'}@example.com",
            )
        for name in dict.fromkeys(user_names):
            user_ids[name] = sandbox.add_user(location_id, name, user_id=user_ids.get(name))
        for key in args.custom_field:
            sandbox.add_custom_field(location_id, key)
        if args.allow_duplicates:
            sandbox.set_location_setting(location_id, allow_duplicate_opportunity=True)
    return locations


def seed_document(sandbox: Sandbox, locations: list[str]) -> dict[str, Any]:
    """Return the seed file's content (see the module docstring)."""
    first = locations[0]
    return {
        "locationId": first,
        "contactIds": [contact["id"] for contact in sandbox.contacts(first)],
        "userIds": sandbox.users(first),
        "locations": {
            location_id: {
                "name": sandbox.state.location(location_id).name,
                "contacts": {c["name"]: c["id"] for c in sandbox.contacts(location_id)},
                "users": {name: uid for uid, name in sandbox.user_names(location_id).items()},
                "customFields": {
                    field["fieldKey"].removeprefix("opportunity."): field["id"]
                    for field in sandbox.custom_fields(location_id)
                },
            }
            for location_id in locations
        },
    }


def env_text(url: str, token: str, locations: list[str]) -> str:
    """Return the env file's lines."""
    lines = [f"HOOP_BASE_URL={url}", f"HOOP_TOKEN={token}", f"HOOP_LOCATION_ID={locations[0]}"]
    for number, location_id in enumerate(locations[1:], start=2):
        lines.append(f"HOOP_LOCATION_ID_{number}={location_id}")
    return "\n".join(lines) + "\n"


def write_seed_files(
    sandbox: Sandbox, args: argparse.Namespace, locations: list[str], token: str
) -> None:
    """Write --seed-file and --env-file when given, and print their paths."""
    if args.seed_file is not None:
        document = seed_document(sandbox, locations)
        args.seed_file.write_text(json.dumps(document, indent=2), encoding="utf-8")
        print(f"seed ids written to {args.seed_file}")
    if args.env_file is not None:
        args.env_file.write_text(env_text(sandbox.url, token, locations), encoding="utf-8")
        args.env_file.chmod(0o600)
        print(f"connection settings written to {args.env_file}")


def _split(spec: str) -> tuple[Path, str]:
    path, _, column = spec.rpartition(":")
    return Path(path), column


def _csv_problem(spec: str) -> str | None:
    path, column = _split(spec)
    if not str(path) or not column:
        return "expected CSV:COLUMN"
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if column not in header:
        return f"{path} has no column {column!r}; its columns are {', '.join(header)}"
    return None


def _column_values(spec: str) -> list[str]:
    path, column = _split(spec)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [row[column].strip() for row in csv.DictReader(handle) if row[column].strip()]
