"""Pipelines with their stages, and lost reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["LostReason", "Pipeline", "PipelineStage"]


@attrs.frozen(kw_only=True)
class PipelineStage:
    """A stage of a pipeline; `stage_win_probability` is a percentage (0 to 100)."""

    id: str
    name: str | None = None
    position: int | None = None
    stage_win_probability: float | None = None
    show_in_funnel: bool | None = None
    show_in_pie_chart: bool | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Pipeline:
    """A sales pipeline of a location and its stages, in the order the API lists them.

    `position` is the pipeline's own sort key, which the API sends as a string.
    """

    id: str
    name: str | None = None
    stages: tuple[PipelineStage, ...] = ()
    location_id: str | None = None
    position: str | None = None
    show_in_funnel: bool | None = None
    show_in_pie_chart: bool | None = None
    use_opportunity_probability: bool | None = None
    date_added: datetime | None = None
    date_updated: datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def stage_named(self, name: str) -> PipelineStage:
        """Return the stage called `name` (case-insensitive); KeyError lists the stage names."""
        wanted = name.casefold()
        for stage in self.stages:
            if (stage.name or "").casefold() == wanted:
                return stage
        names = ", ".join(repr(stage.name) for stage in self.stages)
        raise KeyError(f"pipeline {self.name!r} has no stage {name!r}; its stages are {names}")


@attrs.frozen(kw_only=True)
class LostReason:
    """A reason a location records for lost opportunities."""

    id: str
    name: str | None = None
    location_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
