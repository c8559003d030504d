"""Stored entities of the simulated API: contacts, pipelines and their stages,
lost reasons and opportunities, with times in epoch milliseconds.
"""

from __future__ import annotations

from typing import Any

import attrs

WRITE_STATUSES = ("open", "won", "lost", "abandoned")
SEARCH_STATUSES = (*WRITE_STATUSES, "all")


@attrs.define(kw_only=True)
class Contact:
    """A contact of a location, as far as opportunities show it."""

    id: str
    location_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    company_name: str | None = None
    tags: list[str] = attrs.field(factory=list)
    country: str | None = "US"

    def search_text(self) -> str:
        """Return the lowercase text that the `q` search matches: name, email, phone."""
        parts = (self.name, self.email or "", self.phone or "")
        return "\n".join(parts).lower()


@attrs.define(kw_only=True)
class CustomFieldDefinition:
    """A custom field of model opportunity. `key` is the short key that write
    bodies may name; the API lists it as `fieldKey` with the "opportunity." prefix.
    """

    id: str
    location_id: str
    name: str
    key: str
    data_type: str = "TEXT"
    position: int = 0


@attrs.define(kw_only=True)
class Stage:
    """A stage of a pipeline, whose `position` counts from 0."""

    id: str
    name: str
    position: int


@attrs.define(kw_only=True)
class Pipeline:
    """A pipeline of a location with its ordered stages."""

    id: str
    location_id: str
    name: str
    stages: list[Stage]
    position: str
    created_ms: int

    def stage(self, stage_id: str) -> Stage | None:
        """Return the stage with `stage_id`, or None when this pipeline has no such stage."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        return None


@attrs.define(kw_only=True)
class LostReason:
    """A reason that a lost opportunity can name."""

    id: str
    location_id: str
    name: str
    created_ms: int
    deleted: bool = False


@attrs.define(kw_only=True, slots=True)
class OpportunityRecord:
    """One opportunity (a card in a pipeline), with its search visibility.

    `visible_at` is the wall-clock second from which searches see the record's
    latest version (creation or update time plus the configured index lag).
    """

    id: str
    location_id: str
    name: str
    pipeline_id: str
    pipeline_stage_id: str
    contact_id: str
    status: str
    monetary_value: float
    assigned_to: str | None
    source: str | None
    lost_reason_id: str | None
    campaign_id: str | None
    custom_fields: list[dict[str, Any]]
    followers: list[str]
    created_ms: int
    updated_ms: int
    last_status_change_ms: int
    last_stage_change_ms: int
    last_action_ms: int
    index_version: int
    internal_source: dict[str, Any]
    attributions: list[dict[str, Any]]
    visible_at: float

    @property
    def sort_key(self) -> tuple[int, str]:
        """Position in the newest-first order: (createdAt ms, id)."""
        return (self.created_ms, self.id)
