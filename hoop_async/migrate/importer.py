"""`hoop import`: rows of a file become opportunities, once each.

The external id of a row is kept in a custom field of the opportunity. Before
writing, the importer reads every opportunity of the location and indexes
them by that field, so a row whose id is already there is compared and then
left alone or updated, and only new ids are created. A rerun therefore creates
nothing twice, whether the earlier run finished, was interrupted or failed.

Every row ends imported, updated, unchanged or rejected. Rows that hit a
transient failure (5xx, a dropped connection) are tried again after the main
pass. Before a create whose outcome is unknown is tried again, the location is
searched for it, so that it is not created twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import attrs

from hoop_async.bulk import BulkRun
from hoop_async.client import HoopClient
from hoop_async.errors import (
    AuthenticationError,
    DuplicateOpportunityError,
    HoopError,
    MigrationError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitError,
    ServerError,
    TokenError,
    TransportError,
)
from hoop_async.migrate.lookups import Lookup
from hoop_async.migrate.mapping import ImportMapping
from hoop_async.migrate.outcomes import (
    Done,
    Stored,
    api_rejection,
    changes_for,
    done,
    duplicate,
    rejected,
)
from hoop_async.migrate.plan import Planned, Planner, Rejection
from hoop_async.migrate.report import (
    IMPORTED,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportSummary,
    ReportWriter,
    written_ids,
)
from hoop_async.migrate.source import RejectsWriter, Source, SourceRow
from hoop_async.models import CustomFieldDefinition, Opportunity, Status

__all__ = ["ImportOptions", "run_import"]

RETRY_PASSES = 5
"""Extra passes over rows that failed transiently, after the main pass. Creates
get no retries within a request, so these passes are their retries."""
RETRY_PAUSE = 0.25
"""Seconds before the first extra pass, doubling before each next one."""

_LATEST = datetime.max.replace(tzinfo=timezone.utc)
TRANSIENT = (ServerError, TransportError, RateLimitError)
FATAL = (AuthenticationError, PermissionDeniedError, TokenError, QuotaExhaustedError)


@attrs.frozen(kw_only=True)
class ImportOptions:
    """Settings of one import: source, mapping, location, and the report and rejects paths."""

    source: Path
    mapping: ImportMapping
    location_id: str
    report_path: Path | None
    rejects_path: Path | None
    dry_run: bool = False
    concurrency: int = 10


class _Retry(Exception):
    """A transient failure: the row goes to the next pass."""

    def __init__(self, planned: Planned, error: HoopError) -> None:
        super().__init__(str(error))
        self.planned = planned
        self.error = error


async def run_import(
    client: HoopClient,
    options: ImportOptions,
    *,
    stop: asyncio.Event | None = None,
    on_progress: Callable[[int, int, int], object] | None = None,
) -> ImportSummary:
    """Import `options.source`; setting `stop` ends the run cleanly after the rows in flight.

    `on_progress(done, rejected, total)` is called after each row's outcome.

    Raises MigrationError, before anything is written, for a missing file, a
    mapping that names absent columns, unknown pipeline or stage names and an
    undefined custom field.
    """
    started = time.monotonic()
    source = Source(options.source)
    options.mapping.check_columns(source.header, str(options.source), strict=source.kind == "csv")
    lookups = {
        name: spec.load(options.location_id, options.source.parent)
        for name, spec in options.mapping.lookups.items()
    }
    run = _ImportRun(client, options, source, lookups, stop or asyncio.Event(), on_progress)
    await run.prepare()
    summary = ImportSummary(
        total=source.total,
        dry_run=options.dry_run,
        external_id_field=run.field.id,
        report_path=options.report_path,
        rejects_path=options.rejects_path,
    )
    run.started = started
    await run.execute(summary)
    return summary


class _ImportRun:
    def __init__(
        self,
        client: HoopClient,
        options: ImportOptions,
        source: Source,
        lookups: Mapping[str, Lookup],
        stop: asyncio.Event,
        on_progress: Callable[[int, int, int], object] | None,
    ) -> None:
        self.api = client.opportunities
        self.options = options
        self.source = source
        self.lookups = lookups
        self.stop = stop
        self.on_progress = on_progress
        self.existing: dict[str, Stored] = {}
        self.field = CustomFieldDefinition(id="")
        self.planner: Planner | None = None
        self.fatal: HoopError | None = None
        self.done = 0
        self.rejected = 0
        self.started = time.monotonic()
        self.repeated_ids = 0
        self.maybe_created: set[str] = set()
        """External ids whose create may have happened although no response came."""

    async def prepare(self) -> None:
        """Read the pipelines, the external id field and the location's records."""
        location_id = self.options.location_id
        pipelines = await self.api.pipelines(location_id)
        self.planner = Planner(self.options.mapping, pipelines, self.lookups)
        self.field = await self._external_id_field()
        await self._load_existing()

    async def _external_id_field(self) -> CustomFieldDefinition:
        field_name = self.options.mapping.external_id_field
        fields = await self.api.custom_fields(self.options.location_id)
        for field in fields:
            if field.matches(field_name):
                return field
        names = ", ".join(repr(f.field_key or f.id) for f in fields) or "none"
        raise MigrationError(
            f"location {self.options.location_id} has no opportunity custom field "
            f"{field_name!r} to keep external ids in; create a text field with that key "
            f"(`hoop sandbox --custom-field {field_name}` does it in the sandbox), or name an "
            f"existing one in mapping external_id.field. Its fields are {names}"
        )

    async def _load_existing(self) -> None:
        """Index the location's opportunities by external id.

        Ids from the previous report that search does not list yet are read by
        id; ids that no longer exist (deleted since) are dropped.
        """
        self.existing = await self._scan()
        earlier = written_ids(self.options.report_path, self.options.location_id)
        for external_id, opportunity_id in earlier.items():
            if self.stop.is_set():
                return
            if external_id in self.existing:
                continue
            try:
                record = await self.api.get(opportunity_id)
            except NotFoundError:
                continue
            same_location = record.location_id in (None, self.options.location_id)
            if same_location and self._external_id_of(record) == external_id:
                self.existing[external_id] = Stored.of(record)

    async def _scan(self) -> dict[str, Stored]:
        """Read every opportunity of the location and index them by external id.

        Several records can share one external id when another tool made them,
        or when a create was retried during a search lag. Rows then update the
        oldest, and the summary counts such ids.
        """
        found: dict[str, Stored] = {}
        created: dict[str, datetime] = {}
        repeated: set[str] = set()
        async for record in self.api.search_advanced(location_id=self.options.location_id):
            if self.stop.is_set():
                # Nothing is written after a stop, so an index cut short is never used.
                break
            external_id = self._external_id_of(record)
            if external_id is None:
                continue
            when = record.created_at or _LATEST
            if external_id in found:
                repeated.add(external_id)
                if when >= created[external_id]:
                    continue
            found[external_id] = Stored.of(record)
            created[external_id] = when
        self.repeated_ids = len(repeated)
        return found

    def _external_id_of(self, record: Opportunity) -> str | None:
        for field in record.custom_fields:
            if field.id == self.field.id and field.field_value not in (None, ""):
                return str(field.field_value)
        return None

    async def execute(self, summary: ImportSummary) -> None:
        rejects = RejectsWriter(self.options.rejects_path, self.source)
        report = ReportWriter(
            self.options.report_path,
            location_id=self.options.location_id,
            source=self.options.source,
        )
        try:
            retry = await self._pass(self._planned(self.source.rows()), summary, report, rejects)
            for number in range(RETRY_PASSES):
                if not retry or self._stopping():
                    break
                await asyncio.sleep(RETRY_PAUSE * 2**number)
                if any(isinstance(item.error, OutcomeUnknownError) for item in retry):
                    self.existing.update(await self._scan())
                items = [item.planned for item in retry]
                retry = await self._pass(_aiter(items), summary, report, rejects)
            if not self._stopping():
                for item in retry:
                    self._finish(summary, report, rejects, api_rejection(item.planned, item.error))
        finally:
            summary.interrupted = self.stop.is_set() and self.fatal is None
            summary.error = str(self.fatal) if self.fatal else None
            summary.rejects_written = rejects.count
            summary.rejects_backup = rejects.backup
            summary.repeated_ids = self.repeated_ids
            summary.seconds = time.monotonic() - self.started
            rejects.close()
            report.close(summary)

    def _stopping(self) -> bool:
        return self.stop.is_set() or self.fatal is not None

    async def _planned(self, rows: Iterable[SourceRow]) -> AsyncIterator[Planned | Rejection]:
        assert self.planner is not None
        for row in rows:
            if self._stopping():
                return
            yield self.planner.plan(row)

    async def _pass(
        self,
        items: AsyncIterator[Planned | Rejection],
        summary: ImportSummary,
        report: ReportWriter,
        rejects: RejectsWriter,
    ) -> list[_Retry]:
        retry: list[_Retry] = []
        run = BulkRun(items, self._write, concurrency=self.options.concurrency)
        async for result in run:
            if isinstance(result.value, Done):
                self._finish(summary, report, rejects, result.value)
            elif isinstance(result.value, _Retry):
                retry.append(result.value)
        return retry

    async def _write(self, item: Planned | Rejection) -> tuple[str, Done | _Retry]:
        """Write one row; the result's value is its outcome or a retry request."""
        if isinstance(item, Rejection):
            return REJECTED, rejected(item.row, item.external_id, item.kind, item.detail)
        if self._stopping():
            return "skipped", _Retry(item, HoopError("the run was stopped"))
        try:
            return "written", await self._apply(item)
        except DuplicateOpportunityError as exc:
            return REJECTED, duplicate(item, exc)
        except TRANSIENT as exc:
            if isinstance(exc, OutcomeUnknownError):
                self.maybe_created.add(item.external_id)
            return "retry", _Retry(item, exc)
        except FATAL as exc:
            self.fatal = exc
            return "skipped", _Retry(item, exc)
        except HoopError as exc:
            return REJECTED, api_rejection(item, exc)

    async def _apply(self, planned: Planned) -> Done:
        current = self.existing.get(planned.external_id)
        if current is None:
            return await self._create(planned)
        if current.contact_id not in (None, planned.contact_id):
            return rejected(
                planned.row,
                planned.external_id,
                "contact changed",
                f"opportunity {current.id} with this external id belongs to contact "
                f"{current.contact_id}, and the API cannot move it to {planned.contact_id!r}. "
                f"If column {self.options.mapping.contact.column!r} holds contact names rather "
                "than ids, map it through a lookup table; otherwise map the row to the "
                "opportunity's contact",
            )
        # A create whose response was lost and which the rescan then found was made by this run.
        made_here = planned.external_id in self.maybe_created
        changes = changes_for(current, planned)
        if not changes:
            return done(planned, IMPORTED if made_here else UNCHANGED, current.id)
        if not self.options.dry_run:
            try:
                updated = await self.api.update(current.id, **changes)
            except NotFoundError:
                # Deleted since the scan: the row becomes a new record.
                self.existing.pop(planned.external_id, None)
                return await self._create(planned)
            self.existing[planned.external_id] = Stored.of(updated)
        return done(planned, IMPORTED if made_here else UPDATED, current.id)

    async def _create(self, planned: Planned) -> Done:
        if self.options.dry_run:
            return done(planned, IMPORTED, None)
        created = await self.api.create(
            location_id=self.options.location_id,
            name=planned.name,
            pipeline_id=planned.pipeline.id,
            pipeline_stage_id=planned.stage.id,
            contact_id=planned.contact_id,
            status=Status(planned.status),
            monetary_value=planned.monetary_value,
            assigned_to=planned.assigned_to,
            custom_fields=[{"id": self.field.id, "field_value": planned.external_id}],
        )
        self.existing[planned.external_id] = Stored.of(created)
        return done(planned, IMPORTED, created.id)

    def _finish(
        self, summary: ImportSummary, report: ReportWriter, rejects: RejectsWriter, done: Done
    ) -> None:
        summary.outcomes[done.outcome] += 1
        if done.outcome == REJECTED:
            summary.reasons[done.kind or "rejected"] += 1
            rejects.write(done.row, done.reason or "")
            self.rejected += 1
        report.row(
            row=done.row.original,
            external_id=done.external_id,
            outcome=done.outcome,
            opportunity_id=done.opportunity_id,
            reason=done.reason,
        )
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(self.done, self.rejected, self.source.total)


async def _aiter(items: Iterable[Planned]) -> AsyncIterator[Planned]:
    for item in items:
        yield item
