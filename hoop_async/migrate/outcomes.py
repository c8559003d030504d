"""A row's outcome: the snapshot of a stored record it is compared with, the
changes that would make them equal, and the rejections with their reasons.
"""

from __future__ import annotations

from typing import Any

import attrs

from hoop_async.errors import (
    BadRequestError,
    DuplicateOpportunityError,
    HoopError,
    UnprocessableError,
)
from hoop_async.migrate.plan import Planned
from hoop_async.migrate.report import REJECTED
from hoop_async.migrate.source import SourceRow
from hoop_async.models import Opportunity, Status

__all__ = ["Done", "Stored", "api_rejection", "changes_for", "done", "duplicate", "rejected"]

VALUE_TOLERANCE = 0.005
"""Monetary values closer than this count as equal (half a cent)."""


@attrs.frozen(kw_only=True)
class Done:
    """A row's final outcome."""

    row: SourceRow
    outcome: str
    external_id: str | None = None
    opportunity_id: str | None = None
    kind: str | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True, slots=True)
class Stored:
    """The fields of a stored opportunity that a row is compared with.

    The importer keeps one per record of the location, so it keeps these few
    fields rather than whole models (a few hundred bytes instead of kilobytes).
    """

    id: str
    name: str | None
    pipeline_id: str | None
    pipeline_stage_id: str | None
    status: str | None
    monetary_value: float | None
    assigned_to: str | None
    contact_id: str | None

    @classmethod
    def of(cls, record: Opportunity) -> Stored:
        status = record.status
        return cls(
            id=record.id,
            name=record.name,
            pipeline_id=record.pipeline_id,
            pipeline_stage_id=record.pipeline_stage_id,
            status=status.value if isinstance(status, Status) else status,
            monetary_value=record.monetary_value,
            assigned_to=record.assigned_to,
            contact_id=record.contact_id,
        )


def changes_for(current: Stored, planned: Planned) -> dict[str, Any]:
    """Return the update arguments that would make `current` match the row."""
    changes: dict[str, Any] = {}
    if current.name != planned.name:
        changes["name"] = planned.name
    if current.pipeline_id != planned.pipeline.id:
        changes["pipeline_id"] = planned.pipeline.id
    if current.pipeline_stage_id != planned.stage.id:
        changes["pipeline_stage_id"] = planned.stage.id
    if current.status != planned.status:
        changes["status"] = planned.status
    if planned.monetary_value is not None and (
        current.monetary_value is None
        or abs(current.monetary_value - planned.monetary_value) > VALUE_TOLERANCE
    ):
        changes["monetary_value"] = planned.monetary_value
    if planned.assigned_to is not None and current.assigned_to != planned.assigned_to:
        changes["assigned_to"] = planned.assigned_to
    return changes


def done(planned: Planned, outcome: str, opportunity_id: str | None) -> Done:
    return Done(
        row=planned.row,
        outcome=outcome,
        external_id=planned.external_id,
        opportunity_id=opportunity_id,
    )


def rejected(row: SourceRow, external_id: str | None, kind: str, detail: str) -> Done:
    return Done(
        row=row, outcome=REJECTED, external_id=external_id, kind=kind, reason=f"{kind}: {detail}"
    )


def duplicate(planned: Planned, error: DuplicateOpportunityError) -> Done:
    return rejected(
        planned.row,
        planned.external_id,
        "duplicate opportunity",
        f"the location allows one opportunity per contact and contact {planned.contact_id} "
        f"already has {error.existing_id}; allow duplicate opportunities in the location's "
        "settings, or map the row to another contact",
    )


def api_rejection(planned: Planned, error: HoopError) -> Done:
    if isinstance(error, (BadRequestError, UnprocessableError)):
        kind = "rejected by the API"
    else:
        kind = "API failure"
    return rejected(planned.row, planned.external_id, kind, str(error))
