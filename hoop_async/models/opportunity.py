"""Opportunity records: the status enum, the contact summary, custom fields, the opportunity."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from hoop_async.models._converter import WIRE_NAME

__all__ = ["ContactSummary", "CustomField", "CustomFieldValue", "Opportunity", "Status"]


class Status(str, enum.Enum):
    """Status of an opportunity. Searches also accept the filter value "all"."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    ABANDONED = "abandoned"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class ContactSummary:
    """The contact an opportunity belongs to, as embedded in opportunity responses."""

    id: str | None = None
    name: str | None = None
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class CustomField:
    """A custom field value as the API returns it: the field id and its value."""

    id: str | None = None
    field_value: Any = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class CustomFieldValue:
    """A custom field value to write, addressed by field `id` or by field `key`.

    The API takes `field_value` in snake_case here, unlike every other body key.
    """

    id: str | None = None
    key: str | None = None
    value: Any = attrs.field(default=None, metadata={WIRE_NAME: "field_value"})
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Opportunity:
    """An opportunity (a deal card in a pipeline). Timestamps are aware UTC datetimes."""

    id: str
    name: str | None = None
    monetary_value: float | None = None
    pipeline_id: str | None = None
    pipeline_stage_id: str | None = None
    pipeline_stage_uid: str | None = attrs.field(
        default=None, metadata={WIRE_NAME: "pipelineStageUId"}
    )
    assigned_to: str | None = None
    status: Status | str | None = None
    source: str | None = None
    lost_reason_id: str | None = None
    contact_id: str | None = None
    location_id: str | None = None
    contact: ContactSummary | None = None
    custom_fields: tuple[CustomField, ...] = ()
    followers: tuple[Any, ...] = ()
    last_status_change_at: datetime | None = None
    last_stage_change_at: datetime | None = None
    last_action_date: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
