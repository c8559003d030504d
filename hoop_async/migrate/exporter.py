"""`hoop export`: a location's opportunities to CSV or JSON Lines, page by page.

After each page is written and flushed, a state file beside the output records
the cursor of the next page and the output's length in bytes. `--resume` cuts
the output back to that length, dropping a page that was written only in part,
and goes on from that cursor, so an interrupted export finishes without a gap
or a repeated row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from hoop_async.client import HoopClient
from hoop_async.errors import MigrationError
from hoop_async.models import CustomFieldDefinition, Opportunity, Pipeline, Status, format_datetime
from hoop_async.pagination import GetSearchCursor

__all__ = ["BASE_COLUMNS", "ExportOptions", "ExportSummary", "run_export", "state_path"]

BASE_COLUMNS = (
    "id",
    "name",
    "pipeline",
    "stage",
    "status",
    "monetary_value",
    "contact_id",
    "contact_name",
    "contact_company",
    "assigned_to",
    "lost_reason_id",
    "source",
    "created_at",
    "updated_at",
)
CUSTOM_PREFIX = "custom."
"""Custom fields become columns named "custom.<field key>"."""


@attrs.frozen(kw_only=True)
class ExportOptions:
    """Settings of one export: location, output file, format, filters and resume mode."""

    location_id: str
    output: Path
    format: str = "csv"
    pipeline: str | None = None
    status: str | None = None
    resume: bool = False
    overwrite: bool = False
    page_size: int = 100


@attrs.define(kw_only=True)
class ExportSummary:
    """Counts of one export run."""

    rows: int = 0
    pages: int = 0
    resumed_at: int = 0
    complete: bool = False
    interrupted: bool = False
    seconds: float = 0.0

    def format(self, output: Path) -> str:
        lines = [f"{self.rows:,} opportunities in {output} ({self.pages:,} pages this run)"]
        if self.resumed_at:
            lines.append(f"resumed after row {self.resumed_at:,}")
        if not self.complete:
            lines.append(
                f"interrupted: run the same command with --resume to finish ({state_path(output)})"
            )
        lines.append(f"{self.seconds:.1f} s")
        return "\n".join(lines)


def state_path(output: Path) -> Path:
    """Return the state file of an export: the output's name plus ".state.json"."""
    return output.with_name(output.name + ".state.json")


async def run_export(
    client: HoopClient,
    options: ExportOptions,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int, int | None], object] | None = None,
) -> ExportSummary:
    """Export the location's opportunities; `should_stop` is asked between pages."""
    started = time.monotonic()
    api = client.opportunities
    pipelines = await api.pipelines(options.location_id)
    pipeline_id = _pipeline_id(pipelines, options.pipeline)
    fields = await api.custom_fields(options.location_id)
    columns = [*BASE_COLUMNS, *(CUSTOM_PREFIX + (f.key or f.id) for f in fields)]
    filters = {"pipeline": options.pipeline, "status": options.status}
    state = _start_state(options, filters, columns)
    summary = ExportSummary(rows=state["rows"], resumed_at=state["rows"])
    if state["complete"]:
        summary.complete = True
        return summary
    names = _Names(pipelines, fields)
    cursor = _cursor(state["cursor"])
    with _open_output(options, state) as handle:
        if state["bytes"] == 0 and options.format == "csv":
            state["bytes"] += _write(handle, _csv_text([columns]))
        search = api.search(
            location_id=options.location_id,
            pipeline_id=pipeline_id,
            status=Status(options.status) if options.status not in (None, "all") else None,
            page_size=options.page_size,
            start=cursor,
        )
        async for page in search.pages():
            rows = [names.row(record) for record in page.items]
            if options.format == "csv":
                text = _csv_text([[row.get(column, "") for column in columns] for row in rows])
            else:
                text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            state["bytes"] += _write(handle, text)
            state["rows"] += len(rows)
            state["cursor"] = _cursor_json(page.next_cursor)
            state["complete"] = page.next_cursor is None
            _save_state(options.output, state)
            summary.rows = state["rows"]
            summary.pages += 1
            if on_progress is not None:
                on_progress(summary.rows, page.total)
            if should_stop() and not state["complete"]:
                summary.interrupted = True
                break
    state["complete"] = not summary.interrupted
    _save_state(options.output, state)
    summary.complete = state["complete"]
    summary.seconds = time.monotonic() - started
    return summary


class _Names:
    """Turns a record into an export row with pipeline, stage and field names."""

    def __init__(self, pipelines: list[Pipeline], fields: list[CustomFieldDefinition]) -> None:
        self.pipelines = {p.id: p.name for p in pipelines}
        self.stages = {s.id: s.name for p in pipelines for s in p.stages}
        self.fields = {f.id: CUSTOM_PREFIX + (f.key or f.id) for f in fields}

    def row(self, record: Opportunity) -> dict[str, Any]:
        status = record.status.value if isinstance(record.status, Status) else record.status
        contact = record.contact
        row: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "pipeline": self.pipelines.get(record.pipeline_id or "", record.pipeline_id),
            "stage": self.stages.get(record.pipeline_stage_id or "", record.pipeline_stage_id),
            "status": status,
            "monetary_value": record.monetary_value,
            "contact_id": record.contact_id,
            "contact_name": contact.name if contact else None,
            "contact_company": contact.company_name if contact else None,
            "assigned_to": record.assigned_to,
            "lost_reason_id": record.lost_reason_id,
            "source": record.source,
            "created_at": _time(record.created_at),
            "updated_at": _time(record.updated_at),
        }
        for field in record.custom_fields:
            if field.id is not None:
                row[self.fields.get(field.id, CUSTOM_PREFIX + field.id)] = field.field_value
        return row


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def _pipeline_id(pipelines: list[Pipeline], name: str | None) -> str | None:
    if name is None:
        return None
    for pipeline in pipelines:
        if (pipeline.name or "").casefold() == name.casefold() or pipeline.id == name:
            return pipeline.id
    names = ", ".join(repr(p.name) for p in pipelines) or "none"
    raise MigrationError(f"the location has no pipeline named {name!r}; its pipelines are {names}")


def _start_state(
    options: ExportOptions, filters: dict[str, Any], columns: list[str]
) -> dict[str, Any]:
    fresh = {
        "location_id": options.location_id,
        "format": options.format,
        "filters": filters,
        "columns": columns,
        "cursor": None,
        "rows": 0,
        "bytes": 0,
        "complete": False,
    }
    state_file = state_path(options.output)
    if not options.resume:
        if options.output.exists() and not options.overwrite:
            hint = " or --resume to finish it" if state_file.exists() else ""
            raise MigrationError(f"{options.output} exists; pass --overwrite to replace it{hint}")
        return fresh
    try:
        state: dict[str, Any] = json.loads(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MigrationError(
            f"nothing to resume: {state_file} does not exist; run without --resume"
        ) from None
    except ValueError as exc:
        raise MigrationError(f"{state_file} is damaged ({exc}); run with --overwrite") from None
    for key in ("location_id", "format", "filters", "columns"):
        if state.get(key) != fresh[key]:
            raise MigrationError(
                f"cannot resume: the interrupted export ran with {_described(key, state.get(key))} "
                f"and this run has {_described(key, fresh[key])}; run with the same options, "
                "or with --overwrite to start again"
            )
    return state


def _described(key: str, value: Any) -> str:
    """Spell a resumable setting as the options that set it."""
    if key == "filters" and isinstance(value, dict):
        flags = [f"--{name} {setting}" for name, setting in value.items() if setting is not None]
        return " ".join(flags) if flags else "no --pipeline or --status"
    if key == "columns":
        return "other custom fields" if value else "no columns"
    flag = {"location_id": "--location", "format": "--format"}[key]
    return f"{flag} {value}"


def _open_output(options: ExportOptions, state: dict[str, Any]) -> BinaryIO:
    options.output.parent.mkdir(parents=True, exist_ok=True)
    if state["bytes"] == 0:
        return options.output.open("wb")
    handle = options.output.open("r+b")
    # Drop whatever an interrupted run wrote after the last recorded page.
    handle.truncate(state["bytes"])
    handle.seek(state["bytes"])
    return handle


def _write(handle: BinaryIO, text: str) -> int:
    data = text.encode("utf-8")
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())
    return len(data)


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return buffer.getvalue()


def _save_state(output: Path, state: dict[str, Any]) -> None:
    path = state_path(output)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _cursor_json(cursor: GetSearchCursor | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    return {"start_after": cursor.start_after, "start_after_id": cursor.start_after_id}


def _cursor(data: Any) -> GetSearchCursor | None:
    if not isinstance(data, dict):
        return None
    return GetSearchCursor(start_after=data["start_after"], start_after_id=data["start_after_id"])
