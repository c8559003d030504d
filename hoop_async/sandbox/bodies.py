"""Checks of the JSON bodies that write opportunities (create, update, status,
upsert, followers). Each returns typed values or raises one 422 listing every
problem, worded as the live API words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from hoop_async.sandbox.operations import NewOpportunity
from hoop_async.sandbox.records import WRITE_STATUSES
from hoop_async.sandbox.validation import (
    Issues,
    check_choice,
    read_bool,
    read_number,
    read_string,
    read_string_list,
    reject_unknown_keys,
)

CREATE_KEYS = (
    "pipelineId", "locationId", "name", "pipelineStageId", "status", "contactId",
    "monetaryValue", "assignedTo", "customFields",
)  # fmt: skip
UPDATE_KEYS = (
    "pipelineId", "name", "pipelineStageId", "status", "monetaryValue", "assignedTo",
    "customFields",
)  # fmt: skip
STATUS_KEYS = ("status", "lostReasonId")
# The spec's upsert body omits contactId, but matching and creating need it.
UPSERT_KEYS = (
    "id", "pipelineId", "locationId", "contactId", "followers", "isRemoveAllFollowers",
    "followersActionType", "name", "status", "pipelineStageId", "monetaryValue",
    "assignedTo", "lostReasonId",
)  # fmt: skip
FOLLOWERS_KEYS = ("followers",)
CUSTOM_FIELD_KEYS = ("id", "key", "field_value")
FOLLOWER_ACTIONS = ("add", "remove")
LOST_REASON_NEEDS_LOST = "lostReasonId can only be set when status is lost"


@attrs.define(kw_only=True)
class UpsertRequest:
    """A checked upsert body."""

    location_id: str
    pipeline_id: str
    opportunity_id: str | None
    contact_id: str | None
    changes: dict[str, Any]
    """Record attribute names to new values (name, status, stage, value, assignee, reason)."""
    followers: list[str] | None
    followers_action: str
    remove_all_followers: bool


def validate_create(body: Mapping[str, Any]) -> NewOpportunity:
    """Check a create body and return the new opportunity's fields."""
    issues = Issues()
    reject_unknown_keys(issues, body, CREATE_KEYS)
    pipeline_id = read_string(issues, body, "pipelineId", required=True)
    read_string(issues, body, "locationId", required=True)
    name = read_string(issues, body, "name", required=True)
    status = check_choice(issues, body.get("status"), "status", WRITE_STATUSES)
    contact_id = read_string(issues, body, "contactId", required=True)
    changes = _read_optional_fields(issues, body)
    issues.raise_if_any()

    assert pipeline_id is not None
    assert name is not None
    assert status is not None
    assert contact_id is not None
    return NewOpportunity(
        name=name,
        pipeline_id=pipeline_id,
        contact_id=contact_id,
        status=status,
        pipeline_stage_id=changes.get("pipeline_stage_id"),
        monetary_value=changes.get("monetary_value", 0),
        assigned_to=changes.get("assigned_to"),
        custom_fields=changes.get("custom_fields", []),
    )


def validate_update(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check an update body and return the changes by record attribute name."""
    issues = Issues()
    reject_unknown_keys(issues, body, UPDATE_KEYS)
    changes = _read_optional_fields(issues, body)
    _read_optional_string(issues, body, "pipelineId", "pipeline_id", changes)
    _read_optional_string(issues, body, "name", "name", changes)
    if body.get("status") is not None:
        changes["status"] = check_choice(issues, body["status"], "status", WRITE_STATUSES)
    issues.raise_if_any()
    return changes


def validate_status(body: Mapping[str, Any]) -> tuple[str, str | None]:
    """Check a status body and return (status, lost reason id or None)."""
    issues = Issues()
    reject_unknown_keys(issues, body, STATUS_KEYS)
    status = check_choice(issues, body.get("status"), "status", WRITE_STATUSES)
    lost_reason_id = read_string(issues, body, "lostReasonId")
    if lost_reason_id is not None and status is not None and status != "lost":
        issues.add(LOST_REASON_NEEDS_LOST)
    issues.raise_if_any()

    assert status is not None
    return status, lost_reason_id


def validate_upsert(body: Mapping[str, Any]) -> UpsertRequest:
    """Check an upsert body.

    The spec marks followers, isRemoveAllFollowers and followersActionType as
    required, but integrations omit them and the live API accepts that, so they
    are optional here.
    """
    issues = Issues()
    reject_unknown_keys(issues, body, UPSERT_KEYS)
    location_id = read_string(issues, body, "locationId", required=True)
    pipeline_id = read_string(issues, body, "pipelineId", required=True)
    opportunity_id = read_string(issues, body, "id")
    contact_id = read_string(issues, body, "contactId")
    changes = _read_upsert_changes(issues, body)
    followers = read_string_list(issues, body, "followers")
    remove_all = read_bool(issues, body, "isRemoveAllFollowers")
    action = body.get("followersActionType")
    if action is not None:
        check_choice(issues, action, "followersActionType", FOLLOWER_ACTIONS)
    issues.raise_if_any()

    assert location_id is not None
    assert pipeline_id is not None
    return UpsertRequest(
        location_id=location_id,
        pipeline_id=pipeline_id,
        opportunity_id=opportunity_id,
        contact_id=contact_id,
        changes=changes,
        followers=followers,
        followers_action=action or "add",
        remove_all_followers=bool(remove_all),
    )


def validate_followers(body: Mapping[str, Any], *, required: bool = True) -> list[str]:
    """Check a followers body and return the user ids (empty when optional and absent)."""
    issues = Issues()
    reject_unknown_keys(issues, body, FOLLOWERS_KEYS)
    followers = read_string_list(issues, body, "followers", required=required)
    issues.raise_if_any()
    return followers or []


def _read_upsert_changes(issues: Issues, body: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    _read_optional_string(issues, body, "name", "name", changes)
    _read_optional_string(issues, body, "pipelineStageId", "pipeline_stage_id", changes)
    _read_optional_string(issues, body, "lostReasonId", "lost_reason_id", changes)
    _read_assignee(issues, body, changes)
    if body.get("status") is not None:
        changes["status"] = check_choice(issues, body["status"], "status", WRITE_STATUSES)
    value = read_number(issues, body, "monetaryValue")
    if value is not None:
        changes["monetary_value"] = value
    status = changes.get("status")
    if "lost_reason_id" in changes and status is not None and status != "lost":
        issues.add(LOST_REASON_NEEDS_LOST)
    return changes


def _read_optional_fields(issues: Issues, body: Mapping[str, Any]) -> dict[str, Any]:
    """Read pipelineStageId, monetaryValue, assignedTo and customFields when present."""
    changes: dict[str, Any] = {}
    _read_optional_string(issues, body, "pipelineStageId", "pipeline_stage_id", changes)
    _read_assignee(issues, body, changes)
    value = read_number(issues, body, "monetaryValue")
    if value is not None:
        changes["monetary_value"] = value
    custom_fields = _read_custom_fields(issues, body)
    if custom_fields is not None:
        changes["custom_fields"] = custom_fields
    return changes


def _read_optional_string(
    issues: Issues, body: Mapping[str, Any], key: str, attribute: str, changes: dict[str, Any]
) -> None:
    value = read_string(issues, body, key)
    if value is not None:
        changes[attribute] = value


def _read_assignee(issues: Issues, body: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """Read assignedTo, where an explicit null unassigns the card."""
    if "assignedTo" not in body:
        return
    if body["assignedTo"] is None:
        changes["assigned_to"] = None
        return
    value = read_string(issues, body, "assignedTo")
    if value is not None:
        changes["assigned_to"] = value


def _read_custom_fields(issues: Issues, body: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Read customFields: a list of `{id or key, field_value}` objects."""
    items = body.get("customFields")
    if items is None:
        return None
    if not isinstance(items, list):
        issues.add("customFields must be an array")
        return None
    checked: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        prefix = f"customFields.{position}."
        if not isinstance(item, dict):
            issues.add(f"customFields.{position} must be an object")
            continue
        reject_unknown_keys(issues, item, CUSTOM_FIELD_KEYS, prefix=prefix)
        if not isinstance(item.get("id"), str) and not isinstance(item.get("key"), str):
            issues.add(f"customFields.{position} must have a string id or key")
            continue
        checked.append(dict(item))
    return checked
