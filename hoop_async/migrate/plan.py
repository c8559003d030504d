"""Turning a source row into the opportunity it should become, or into a
rejection with a reason, without any request.

Reasons have a short kind, which the summary counts, and a detail that names
the column, the value and the fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import attrs

from hoop_async.errors import MigrationError
from hoop_async.migrate.lookups import Lookup, normalize
from hoop_async.migrate.mapping import STATUSES, ColumnRule, ImportMapping
from hoop_async.migrate.source import SourceRow
from hoop_async.models import Pipeline, PipelineStage

__all__ = ["Planned", "Planner", "Rejection"]

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?$")


@attrs.frozen(kw_only=True)
class Planned:
    """The opportunity a row should become."""

    row: SourceRow
    external_id: str
    name: str
    pipeline: Pipeline
    stage: PipelineStage
    status: str
    monetary_value: float | None
    contact_id: str
    assigned_to: str | None


@attrs.frozen(kw_only=True)
class Rejection:
    """Why a row cannot be imported: a kind for the counts and a detail for the reader."""

    row: SourceRow
    kind: str
    detail: str
    external_id: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}"


class _Reject(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class Planner:
    """Plans rows against a location's pipelines and the loaded lookup tables.

    It remembers each external id it has planned, so a second row with the same
    id is rejected instead of overwriting the first.
    """

    def __init__(
        self,
        mapping: ImportMapping,
        pipelines: Sequence[Pipeline],
        lookups: Mapping[str, Lookup],
    ) -> None:
        self._mapping = mapping
        self._pipelines = {normalize(p.name or ""): p for p in pipelines}
        self._pipeline_names = [p.name or p.id for p in pipelines]
        self._lookups = lookups
        self._seen: dict[str, int] = {}
        self._fixed = self._check_names()

    def _check_names(self) -> Pipeline | None:
        """Check the names the mapping fixes (pipeline, stage values) before any row."""
        mapping = self._mapping
        if mapping.pipeline is None:
            return None
        pipeline = self._pipelines.get(normalize(mapping.pipeline))
        if pipeline is None:
            raise MigrationError(
                f"the location has no pipeline named {mapping.pipeline!r}; its pipelines are "
                f"{', '.join(map(repr, self._pipeline_names)) or 'none'}"
            )
        for value in mapping.stage_values.values():
            if value.stage is not None and _stage(pipeline, value.stage) is None:
                raise MigrationError(
                    f"pipeline {pipeline.name!r} has no stage {value.stage!r} (named in "
                    f"mapping stage.values); its stages are {_stage_names(pipeline)}"
                )
        return pipeline

    def plan(self, row: SourceRow) -> Planned | Rejection:
        """Return what `row` becomes.

        The first row with an external id reserves it even when that row is
        rejected, so a later row with the same id never takes its place.
        """
        if row.error is not None:
            return Rejection(row=row, kind="unreadable row", detail=row.error)
        external_id = row.values.get(self._mapping.external_id, "").strip() or None
        if external_id is not None:
            first = self._seen.setdefault(external_id, row.original)
            if first != row.original:
                return Rejection(
                    row=row,
                    kind="duplicate external id",
                    detail=f"{external_id!r} is also the external id of row {first}; "
                    "give each row its own id",
                    external_id=external_id,
                )
        try:
            return self._plan(row)
        except _Reject as reject:
            return Rejection(
                row=row, kind=reject.kind, detail=reject.detail, external_id=external_id
            )

    def _plan(self, row: SourceRow) -> Planned:
        mapping = self._mapping
        values = row.values
        external_id = values.get(mapping.external_id, "").strip()
        if not external_id:
            raise _Reject(
                "missing external id",
                f"column {mapping.external_id!r} is empty; every row needs its own id there",
            )
        pipeline = self._pipeline(values)
        stage, status = self._stage_and_status(pipeline, values)
        return Planned(
            row=row,
            external_id=external_id,
            name=self._name(values),
            pipeline=pipeline,
            stage=stage,
            status=status,
            monetary_value=self._value(values),
            contact_id=self._looked_up(mapping.contact, values, "contact"),
            assigned_to=self._assignee(values),
        )

    def _pipeline(self, values: Mapping[str, str]) -> Pipeline:
        if self._fixed is not None:
            return self._fixed
        column = self._mapping.pipeline_column
        assert column is not None
        name = values.get(column, "").strip()
        pipeline = self._pipelines.get(normalize(name))
        if pipeline is None:
            raise _Reject(
                "unknown pipeline",
                f"column {column!r} names pipeline {name!r}; the location's pipelines are "
                f"{', '.join(map(repr, self._pipeline_names))}",
            )
        return pipeline

    def _stage_and_status(
        self, pipeline: Pipeline, values: Mapping[str, str]
    ) -> tuple[PipelineStage, str]:
        mapping = self._mapping
        status: str | None = None
        if mapping.stage_column is None:
            if not pipeline.stages:
                raise _Reject("unknown stage", f"pipeline {pipeline.name!r} has no stages")
            stage = pipeline.stages[0]
        else:
            raw = values.get(mapping.stage_column, "").strip()
            stage_name = raw
            if mapping.stage_values:
                entry = mapping.stage_value(raw)
                if entry is None:
                    raise _Reject(
                        "unknown stage value",
                        f"column {mapping.stage_column!r} contains {raw!r}, which mapping "
                        "stage.values does not list; add it there",
                    )
                stage_name = entry.stage or raw
                status = entry.status
            found = _stage(pipeline, stage_name)
            if found is None:
                raise _Reject(
                    "unknown stage",
                    f"pipeline {pipeline.name!r} has no stage {stage_name!r}; its stages are "
                    f"{_stage_names(pipeline)}",
                )
            stage = found
        return stage, status or self._status(values)

    def _status(self, values: Mapping[str, str]) -> str:
        column = self._mapping.status_column
        if column is None:
            return "open"
        raw = values.get(column, "").strip()
        status = raw.casefold() or "open"
        if status not in STATUSES:
            raise _Reject(
                "bad status",
                f"column {column!r} contains {raw!r}; use one of {', '.join(STATUSES)}",
            )
        return status

    def _name(self, values: Mapping[str, str]) -> str:
        mapping = self._mapping
        if mapping.name_template is not None:
            cells = {key: value.strip() for key, value in values.items()}
            name = " ".join(mapping.name_template.format_map(cells).split())
            where = f"template {mapping.name_template!r}"
        elif mapping.name_column is not None:
            name = values.get(mapping.name_column, "").strip()
            where = f"column {mapping.name_column!r}"
        else:
            return values.get(mapping.external_id, "").strip()
        if not name:
            raise _Reject("empty name", f"{where} gives an empty name for this row")
        return name

    def _value(self, values: Mapping[str, str]) -> float | None:
        mapping = self._mapping
        if mapping.value is None:
            return None
        raw = values.get(mapping.value.column, "").strip()
        if raw:
            return _number(raw, f"column {mapping.value.column!r}")
        fallback = mapping.value_when_empty
        if fallback is None:
            return None
        text = self._looked_up(fallback, values, "monetary value")
        return _number(text, f"lookup {fallback.lookup!r}" if fallback.lookup else "fallback")

    def _assignee(self, values: Mapping[str, str]) -> str | None:
        rule = self._mapping.assigned_to
        if rule is None or not values.get(rule.column, "").strip():
            return None
        return self._looked_up(rule, values, "user")

    def _looked_up(self, rule: ColumnRule, values: Mapping[str, str], role: str) -> str:
        raw = values.get(rule.column, "").strip()
        if not raw:
            raise _Reject(
                f"missing {role}", f"column {rule.column!r} is empty; fill it in and import again"
            )
        if rule.lookup is None:
            return raw
        lookup = self._lookups[rule.lookup]
        found = lookup.get(raw)
        if found is None:
            close = lookup.closest(raw)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise _Reject(
                f"unknown {role}",
                f"column {rule.column!r} contains {raw!r}, which lookup {rule.lookup!r} "
                f"does not list{hint}",
            )
        return found


def _number(text: str, where: str) -> float:
    cleaned = text.strip()
    if not _NUMBER.match(cleaned) or cleaned in ("", "+", "-", "."):
        raise _Reject("bad monetary value", f"{where} contains {text!r}, which is not a number")
    value = float(cleaned.replace(",", ""))
    if value < 0 or not math.isfinite(value):
        raise _Reject(
            "bad monetary value", f"{where} contains {text!r}, but values must be 0 or more"
        )
    return value


def _stage(pipeline: Pipeline, name: str) -> PipelineStage | None:
    expected = normalize(name)
    for stage in pipeline.stages:
        if normalize(stage.name or "") == expected:
            return stage
    return None


def _stage_names(pipeline: Pipeline) -> str:
    return ", ".join(repr(stage.name) for stage in pipeline.stages)
