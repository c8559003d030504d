"""Writes on opportunities: create, update, status change, delete, followers,
upsert matching and the no-duplicate rule. Route handlers and the seeding API
both call these. Each checks its references before it changes anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from hoop_async.sandbox import responses
from hoop_async.sandbox.records import (
    Contact,
    CustomFieldDefinition,
    LostReason,
    OpportunityRecord,
    Pipeline,
)
from hoop_async.sandbox.store import Location, SandboxState

SEED_API_VERSION = "2021-07-28"
CUSTOM_FIELD_KEY_PREFIX = "opportunity."


@attrs.define(kw_only=True, frozen=True)
class Origin:
    """Author of a record (app and API version), shaping internalSource and attributions."""

    client_id: str
    api_version: str = SEED_API_VERSION
    seeded: bool = False

    def internal_source(self) -> dict[str, Any]:
        """Return the record's `internalSource` object."""
        return {
            "type": "CREATED",
            "id": self.client_id,
            "apiVersion": self.api_version,
            "channel": "OAUTH",
            "source": "INTEGRATION",
        }

    def attributions(self) -> list[dict[str, Any]]:
        """Return the record's `attributions` list."""
        if self.seeded:
            return [{"utmSessionSource": "CRM UI", "isFirst": True, "medium": "manual"}]
        return [{"utmSessionSource": "API", "isFirst": True, "medium": "api"}]


@attrs.define(kw_only=True)
class NewOpportunity:
    """Fields of an opportunity to create, with custom_fields as request items
    (`{id or key, field_value}`)."""

    name: str
    pipeline_id: str
    contact_id: str
    pipeline_stage_id: str | None = None
    status: str = "open"
    monetary_value: float = 0
    assigned_to: str | None = None
    source: str | None = None
    lost_reason_id: str | None = None
    campaign_id: str | None = None
    custom_fields: list[Mapping[str, Any]] = attrs.field(factory=list)
    followers: list[str] = attrs.field(factory=list)
    created_ms: int | None = None


def require_pipeline(location: Location, pipeline_id: str) -> Pipeline:
    """Return the location's pipeline, or raise 400 naming the unknown id."""
    pipeline = location.pipelines.get(pipeline_id)
    if pipeline is None:
        raise responses.bad_request(f"Pipeline {pipeline_id} not found in this location.")
    return pipeline


def resolve_stage(pipeline: Pipeline, stage_id: str | None) -> str:
    """Return `stage_id` if the pipeline has it, the first stage when None, else raise 400."""
    if stage_id is None:
        return pipeline.stages[0].id
    if pipeline.stage(stage_id) is None:
        message = f"Pipeline stage {stage_id} not found in pipeline {pipeline.id}."
        raise responses.bad_request(message)
    return stage_id


def require_contact(location: Location, contact_id: str) -> Contact:
    """Return the location's contact, or raise 400 naming the unknown id."""
    contact = location.contacts.get(contact_id)
    if contact is None:
        raise responses.bad_request(f"Contact {contact_id} not found in this location.")
    return contact


def require_lost_reason(location: Location, lost_reason_id: str) -> LostReason:
    """Return the location's lost reason, or raise 422 naming the unknown id."""
    reason = location.lost_reasons.get(lost_reason_id)
    if reason is None or reason.deleted:
        message = f"lostReasonId {lost_reason_id} is not a lost reason of this location"
        raise responses.unprocessable([message])
    return reason


def find_duplicate(
    state: SandboxState, location: Location, contact_id: str, pipeline_id: str
) -> OpportunityRecord | None:
    """Return the oldest card that blocks a new one for this contact, or None.

    Whatever its status, an existing card of the contact blocks a new one in the
    same pipeline, or anywhere in the location when duplicate_scope is "location".
    """
    if location.allow_duplicate_opportunity:
        return None
    whole_location = state.config.duplicate_scope == "location"
    for record in location.opportunities.for_contact(contact_id):
        if whole_location or record.pipeline_id == pipeline_id:
            return record
    return None


def ensure_no_duplicate(
    state: SandboxState, location: Location, contact_id: str, pipeline_id: str
) -> None:
    """Raise the live API's duplicate 400 if a card blocks a new one."""
    existing = find_duplicate(state, location, contact_id, pipeline_id)
    if existing is not None:
        raise responses.duplicate_opportunity(existing.id)


def resolve_custom_fields(
    state: SandboxState, location: Location, items: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Turn request items `{id or key, field_value}` into stored `{id, fieldValue}`.

    A key names a defined field with or without the "opportunity." prefix; an
    undefined key is defined on first use.
    """
    resolved = []
    for item in items:
        field_id = item.get("id")
        if not isinstance(field_id, str):
            field_id = define_custom_field(state, location, str(item.get("key"))).id
        resolved.append({"id": field_id, "fieldValue": item.get("field_value")})
    return resolved


def define_custom_field(
    state: SandboxState, location: Location, key: str, *, name: str | None = None
) -> CustomFieldDefinition:
    """Return the text field with this key, defining it first if the location lacks one."""
    key = key.removeprefix(CUSTOM_FIELD_KEY_PREFIX)
    field = location.custom_fields.get(key)
    if field is None:
        field = CustomFieldDefinition(
            id=state.ids.record_id(),
            location_id=location.id,
            name=name or key,
            key=key,
            position=len(location.custom_fields),
        )
        location.custom_fields[key] = field
    return field


def merge_custom_fields(
    current: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace the values of fields named in `updates` and append new ones."""
    merged = {field["id"]: dict(field) for field in current}
    for field in updates:
        merged[field["id"]] = dict(field)
    return list(merged.values())


def create_opportunity(
    state: SandboxState,
    location: Location,
    fields: NewOpportunity,
    origin: Origin,
    *,
    check_duplicates: bool,
) -> OpportunityRecord:
    """Store a new opportunity after checking its pipeline, stage, contact and lost reason."""
    pipeline = require_pipeline(location, fields.pipeline_id)
    stage_id = resolve_stage(pipeline, fields.pipeline_stage_id)
    contact = require_contact(location, fields.contact_id)
    if fields.lost_reason_id is not None:
        require_lost_reason(location, fields.lost_reason_id)
    if check_duplicates:
        ensure_no_duplicate(state, location, contact.id, pipeline.id)

    now = time.time()
    created_ms = fields.created_ms if fields.created_ms is not None else int(now * 1000)
    record = OpportunityRecord(
        id=state.new_record_id(),
        location_id=location.id,
        name=fields.name,
        pipeline_id=pipeline.id,
        pipeline_stage_id=stage_id,
        contact_id=contact.id,
        status=fields.status,
        monetary_value=fields.monetary_value,
        assigned_to=fields.assigned_to,
        source=fields.source,
        lost_reason_id=fields.lost_reason_id if fields.status == "lost" else None,
        campaign_id=fields.campaign_id,
        custom_fields=resolve_custom_fields(state, location, fields.custom_fields),
        followers=list(dict.fromkeys(fields.followers)),
        created_ms=created_ms,
        updated_ms=created_ms,
        last_status_change_ms=created_ms,
        last_stage_change_ms=created_ms,
        last_action_ms=created_ms,
        index_version=1,
        internal_source=origin.internal_source(),
        attributions=origin.attributions(),
        visible_at=now + state.config.index_lag,
    )
    location.opportunities.add(record)
    state.opportunity_locations[record.id] = location.id
    return record


def update_opportunity(
    state: SandboxState,
    location: Location,
    record: OpportunityRecord,
    changes: Mapping[str, Any],
) -> None:
    """Apply `changes` (record attribute names to new values) to a stored record.

    A new pipeline without a stage moves the card to the new pipeline's first
    stage. Leaving the status `lost` clears the lost reason.
    """
    placement = _plan_placement(location, record, changes)
    if "contact_id" in changes:
        require_contact(location, changes["contact_id"])
    if changes.get("lost_reason_id") is not None:
        require_lost_reason(location, changes["lost_reason_id"])
    custom_fields = resolve_custom_fields(state, location, changes.get("custom_fields", []))

    now_ms = int(time.time() * 1000)
    if placement is not None:
        _move(record, placement, now_ms)
    if "status" in changes:
        _set_status(record, changes["status"], changes.get("lost_reason_id"), now_ms)
    elif "lost_reason_id" in changes:
        record.lost_reason_id = changes["lost_reason_id"]
    for name in ("name", "monetary_value", "assigned_to", "source"):
        if name in changes:
            setattr(record, name, changes[name])
    if "custom_fields" in changes:
        record.custom_fields = merge_custom_fields(record.custom_fields, custom_fields)
    if "contact_id" in changes and changes["contact_id"] != record.contact_id:
        location.opportunities.move_contact(record, changes["contact_id"])
    touch(state, location, record)


def _plan_placement(
    location: Location, record: OpportunityRecord, changes: Mapping[str, Any]
) -> tuple[str, str] | None:
    """Return the (pipeline id, stage id) that `changes` ask for, or None for no move."""
    if "pipeline_id" not in changes and "pipeline_stage_id" not in changes:
        return None
    pipeline = require_pipeline(location, changes.get("pipeline_id", record.pipeline_id))
    stage_id = changes.get("pipeline_stage_id")
    if stage_id is None and pipeline.id == record.pipeline_id:
        stage_id = record.pipeline_stage_id
    return pipeline.id, resolve_stage(pipeline, stage_id)


def _move(record: OpportunityRecord, placement: tuple[str, str], now_ms: int) -> None:
    pipeline_id, stage_id = placement
    record.pipeline_id = pipeline_id
    if stage_id != record.pipeline_stage_id:
        record.pipeline_stage_id = stage_id
        record.last_stage_change_ms = now_ms


def _set_status(
    record: OpportunityRecord, status: str, lost_reason_id: str | None, now_ms: int
) -> None:
    if status != record.status:
        record.status = status
        record.last_status_change_ms = now_ms
    if status != "lost":
        record.lost_reason_id = None
    elif lost_reason_id is not None:
        record.lost_reason_id = lost_reason_id


def set_status(
    state: SandboxState,
    location: Location,
    record: OpportunityRecord,
    status: str,
    lost_reason_id: str | None,
) -> None:
    """Change the status (and the lost reason when the status is `lost`)."""
    changes: dict[str, Any] = {"status": status}
    if lost_reason_id is not None:
        changes["lost_reason_id"] = lost_reason_id
    update_opportunity(state, location, record, changes)


def touch(state: SandboxState, location: Location, record: OpportunityRecord) -> None:
    """Stamp a changed record: updatedAt, lastActionDate, indexVersion, search visibility."""
    now = time.time()
    record.updated_ms = int(now * 1000)
    record.last_action_ms = record.updated_ms
    record.index_version += 1
    record.visible_at = now + state.config.index_lag
    location.opportunities.mark_changed(record)


def delete_opportunity(state: SandboxState, location: Location, record: OpportunityRecord) -> None:
    """Remove a record from its location and from the id lookup."""
    location.opportunities.remove(record)
    state.opportunity_locations.pop(record.id, None)


def add_followers(record: OpportunityRecord, user_ids: Sequence[str]) -> list[str]:
    """Add followers not yet present and return the ones added, in request order."""
    added = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in record.followers]
    record.followers.extend(added)
    return added


def remove_followers(
    record: OpportunityRecord, user_ids: Sequence[str], *, remove_all: bool
) -> list[str]:
    """Remove the named followers, or all of them, and return the ones removed."""
    if remove_all:
        removed = list(record.followers)
    else:
        wanted = set(user_ids)
        removed = [user_id for user_id in record.followers if user_id in wanted]
    record.followers = [user_id for user_id in record.followers if user_id not in removed]
    return removed


def find_upsert_match(
    location: Location, contact_id: str, pipeline_id: str
) -> OpportunityRecord | None:
    """Return the newest card of the contact in the pipeline, or None."""
    matches = [
        record
        for record in location.opportunities.for_contact(contact_id)
        if record.pipeline_id == pipeline_id
    ]
    return matches[-1] if matches else None
