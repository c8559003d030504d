"""Seed data: locations with default pipelines, lost reasons and users, fake
contacts (example.com emails, +1555555xxxx phones), and bulk opportunities.
Every value derives from the sandbox's seeded random generator.
"""

from __future__ import annotations

import string
import time
from collections.abc import Sequence

from hoop_async.sandbox.auth import DEFAULT_SCOPES, Installation
from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.operations import Origin
from hoop_async.sandbox.records import (
    WRITE_STATUSES,
    Contact,
    LostReason,
    OpportunityRecord,
    Pipeline,
    Stage,
)
from hoop_async.sandbox.store import Location, SandboxState

FIRST_NAMES = (
    "Alex", "Bailey", "Casey", "Dana", "Elliot", "Frankie", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Val", "Wren", "Xen", "Yael", "Zion", "Ari", "Blake", "Cameron", "Drew",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Brook", "Carver", "Dalton", "Ellis", "Foster", "Garner", "Hayes", "Irving",
    "Jensen", "Keller", "Lowell", "Marsh", "Nolan", "Ortega", "Pryor", "Quill", "Rowan",
    "Sutton", "Tatum", "Upton", "Vance", "Whitley", "Yates", "Zeller",
)  # fmt: skip
COMPANY_NAMES = (
    "Northwind Dental", "Bluebird Roofing", "Cedar Legal", "Summit Fitness", "Harbor Realty",
    "Maple Plumbing", "Orbit Solar", "Pine Street Bakery", "Riverside Clinic", "Vista Motors",
)  # fmt: skip
CONTACT_TAGS = ("lead", "customer", "newsletter", "booked call", "vip")
USER_NAMES = ("Avery Owner", "Blair Sales", "Corey Sales", "Devon Support", "Emery Manager")
SALES_STAGES = ("New Lead", "Contacted", "Qualified", "Proposal Sent", "Negotiation", "Closed")
ONBOARDING_STAGES = ("Kickoff", "Setup", "Live")
LOST_REASONS = ("Price too high", "Chose a competitor", "No budget", "No response")
PHONE_PREFIX = "+1555555"
PHONE_NUMBERS = 10_000
BULK_SPACING_SECONDS = 60.0


def build_state(config: SandboxConfig) -> SandboxState:
    """Create a sandbox state with one seeded location and an access token for it."""
    state = SandboxState(config)
    location_id = add_location(state, name="Sandbox Location", contacts=config.seed_contacts)
    state.default_location_id = location_id
    state.default_token = issue_token(state, location_ids=[location_id])
    if config.seed_opportunities:
        add_opportunities_bulk(state, location_id, config.seed_opportunities)
    return state


def add_location(state: SandboxState, *, name: str, contacts: int = 0) -> str:
    """Create a location with two pipelines, four lost reasons, five users and some contacts."""
    location = Location(
        id=state.ids.record_id(),
        name=name,
        company_id=state.company_id,
        created_ms=int(time.time() * 1000),
    )
    state.locations[location.id] = location
    add_pipeline(state, location.id, "Sales Pipeline", SALES_STAGES)
    add_pipeline(state, location.id, "Onboarding", ONBOARDING_STAGES)
    for reason in LOST_REASONS:
        add_lost_reason(state, location.id, reason)
    for user_name in USER_NAMES:
        add_user(state, location.id, user_name)
    for _ in range(contacts):
        add_fake_contact(state, location.id)
    return location.id


def add_pipeline(
    state: SandboxState, location_id: str, name: str, stage_names: Sequence[str]
) -> Pipeline:
    """Create a pipeline with stages in the given order."""
    if not stage_names:
        raise ValueError("a pipeline needs at least one stage name")
    location = state.location(location_id)
    stages = [
        Stage(id=state.ids.uuid4(), name=stage_name, position=position)
        for position, stage_name in enumerate(stage_names)
    ]
    pipeline = Pipeline(
        id=state.ids.record_id(),
        location_id=location_id,
        name=name,
        stages=stages,
        position="".join(state.ids.rng.choices(string.ascii_letters, k=7)),
        created_ms=int(time.time() * 1000),
    )
    location.pipelines[pipeline.id] = pipeline
    return pipeline


def add_lost_reason(state: SandboxState, location_id: str, name: str) -> LostReason:
    """Create a lost reason."""
    location = state.location(location_id)
    reason = LostReason(
        id=state.ids.record_id(),
        location_id=location_id,
        name=name,
        created_ms=int(time.time() * 1000),
    )
    location.lost_reasons[reason.id] = reason
    return reason


def add_user(
    state: SandboxState, location_id: str, name: str, *, user_id: str | None = None
) -> str:
    """Add a user (usable as assignedTo or follower) to a location and return its id.

    A given `user_id` adds an existing user of the company to this location too.
    """
    location = state.location(location_id)
    user_id = user_id or state.ids.record_id()
    location.users[user_id] = name
    return user_id


def add_contact(
    state: SandboxState,
    location_id: str,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    company_name: str | None = None,
    tags: Sequence[str] = (),
    country: str | None = "US",
) -> Contact:
    """Create a contact with the given details."""
    location = state.location(location_id)
    contact = Contact(
        id=state.ids.record_id(),
        location_id=location_id,
        name=name,
        email=email,
        phone=phone,
        company_name=company_name,
        tags=list(tags),
        country=country,
    )
    location.contacts[contact.id] = contact
    return contact


def add_fake_contact(state: SandboxState, location_id: str) -> Contact:
    """Create a contact with a generated name, email, phone, company and tags."""
    rng = state.ids.rng
    number = state.contacts_created
    state.contacts_created += 1
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANY_NAMES) if rng.random() < 0.6 else None
    tags = sorted(rng.sample(CONTACT_TAGS, k=rng.randint(0, 2)))
    return add_contact(
        state,
        location_id,
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}{number}@example.com",
        phone=f"{PHONE_PREFIX}{number % PHONE_NUMBERS:04d}",
        company_name=company,
        tags=tags,
    )


def issue_token(
    state: SandboxState,
    *,
    location_ids: Sequence[str],
    scopes: Sequence[str] = DEFAULT_SCOPES,
    user_type: str = "Location",
    ttl: float | None = None,
) -> str:
    """Issue an access token of the sandbox's OAuth app."""
    installation = Installation(
        client_id=state.app.client_id,
        user_type=user_type,
        company_id=state.company_id,
        location_ids=tuple(location_ids),
        scopes=tuple(scopes),
        user_id=state.ids.record_id(),
    )
    lifetime = state.config.access_token_ttl if ttl is None else ttl
    return state.tokens.issue_access_token(installation, lifetime)


def add_opportunities_bulk(
    state: SandboxState,
    location_id: str,
    count: int,
    *,
    pipeline_id: str | None = None,
    statuses: Sequence[str] = WRITE_STATUSES,
    newest_ms: int | None = None,
    spacing_seconds: float = BULK_SPACING_SECONDS,
    name_prefix: str = "Opportunity",
) -> list[str]:
    """Store `count` opportunities quickly, skipping request checks and the duplicate rule.

    Contacts, stages, statuses, users (or none) and values are drawn from the
    seeded generator. The newest record is created at `newest_ms` (default now) and each
    older one `spacing_seconds` earlier. Returns the ids, newest first.
    """
    location = state.location(location_id)
    contacts = list(location.contacts)
    if not contacts:
        raise ValueError(f"location {location_id} has no contacts; add contacts first")
    if any(status not in WRITE_STATUSES for status in statuses) or not statuses:
        raise ValueError(f"statuses must be taken from {', '.join(WRITE_STATUSES)}")
    pipeline = _bulk_pipeline(location, pipeline_id)
    start_ms = newest_ms if newest_ms is not None else int(time.time() * 1000)
    if spacing_seconds < 0:
        raise ValueError(f"spacing_seconds must not be negative, not {spacing_seconds}")
    spacing_ms = int(spacing_seconds * 1000)

    records = _bulk_records(
        state, location, pipeline, count, statuses, start_ms, spacing_ms, name_prefix
    )
    location.opportunities.extend(records)
    for record in records:
        state.opportunity_locations[record.id] = location.id
    return [record.id for record in records]


def _bulk_pipeline(location: Location, pipeline_id: str | None) -> Pipeline:
    if pipeline_id is None:
        return next(iter(location.pipelines.values()))
    pipeline = location.pipelines.get(pipeline_id)
    if pipeline is None:
        raise ValueError(f"location {location.id} has no pipeline {pipeline_id!r}")
    return pipeline


def _unique_ids(state: SandboxState, count: int) -> list[str]:
    """Return `count` record ids unused by any opportunity and by each other."""
    ids = state.ids.record_ids(count)
    seen: set[str] = set()
    for position, record_id in enumerate(ids):
        while record_id in seen or record_id in state.opportunity_locations:
            record_id = state.ids.record_id()
        ids[position] = record_id
        seen.add(record_id)
    return ids


def _bulk_records(
    state: SandboxState,
    location: Location,
    pipeline: Pipeline,
    count: int,
    statuses: Sequence[str],
    start_ms: int,
    spacing_ms: int,
    name_prefix: str,
) -> list[OpportunityRecord]:
    """Build the records in one pass, newest first.

    All records share one internalSource and one attributions object, which
    nothing changes after creation.
    """
    rng = state.ids.rng
    contacts = list(location.contacts)
    stage_ids = [stage.id for stage in pipeline.stages]
    users = [*location.users, None]
    origin = Origin(client_id=state.app.client_id, seeded=True)
    internal_source = origin.internal_source()
    attributions = origin.attributions()
    ids = _unique_ids(state, count)
    visible_at = time.time() + state.config.index_lag

    records = []
    for number, record_id in enumerate(ids):
        created_ms = start_ms - number * spacing_ms
        records.append(
            OpportunityRecord(
                id=record_id,
                location_id=location.id,
                name=f"{name_prefix} {count - number}",
                pipeline_id=pipeline.id,
                pipeline_stage_id=rng.choice(stage_ids),
                contact_id=rng.choice(contacts),
                status=rng.choice(statuses),
                monetary_value=rng.randrange(0, 500) * 10,
                assigned_to=rng.choice(users),
                source=None,
                lost_reason_id=None,
                campaign_id=None,
                custom_fields=[],
                followers=[],
                created_ms=created_ms,
                updated_ms=created_ms,
                last_status_change_ms=created_ms,
                last_stage_change_ms=created_ms,
                last_action_ms=created_ms,
                index_version=1,
                internal_source=internal_source,
                attributions=attributions,
                visible_at=visible_at,
            )
        )
    return records
