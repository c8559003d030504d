"""The `hoop import`, `hoop export` and `hoop pipelines` commands.

Exit statuses: 0 done, 1 an API, network or authorization failure, 2 bad usage
(missing file, bad mapping or flag, unknown pipeline, stage, field or
location), 3 done with rejected rows, 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hoop_async.errors import LocationAccessError, MigrationError
from hoop_async.migrate.config import (
    ENVIRONMENT_HELP,
    add_connection_flags,
    location_of,
    open_client,
)
from hoop_async.migrate.mapping import load_mapping, parse_mapping
from hoop_async.migrate.progress import ProgressBar

__all__ = ["add_commands"]

EXIT_FAILED = 1
EXIT_REJECTS = 3
EXIT_INTERRUPTED = 130
MAPPED_FIELDS = ("name", "stage", "status", "monetary_value", "contact", "assigned_to")


def add_commands(commands: Any) -> None:
    """Add import, export and pipelines to the `hoop` subcommand parsers."""
    _add_import(commands)
    _add_export(commands)
    _add_pipelines(commands)


def _add_import(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="create or update opportunities from a CSV or JSON Lines file",
        description=(
            "Import FILE into a location. Each row's external id is kept in an opportunity "
            "custom field, so a rerun updates or skips what an earlier run wrote and never "
            "creates a record twice. Every row ends imported, updated, unchanged or "
            "rejected; rejected rows go to a file in the input's format, which this "
            "command takes back once fixed. Ctrl-C stops after the rows in flight; run "
            "the same command again to finish."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="CSV (with a header row) or JSON Lines file")
    parser.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="JSON file mapping source columns to opportunity fields (see below); without "
        "it, give at least --external-id, --pipeline and --map contact=COLUMN",
    )
    parser.add_argument(
        "--pipeline", metavar="NAME", help="pipeline name for every row (overrides the mapping)"
    )
    parser.add_argument(
        "--external-id", metavar="COLUMN", help="column that contains each row's id"
    )
    parser.add_argument(
        "--external-id-field",
        metavar="KEY",
        help="key, name or id of the opportunity custom field that stores the external id "
        "(default: external_id)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"read FIELD from COLUMN; FIELD is one of {', '.join(MAPPED_FIELDS)} "
        "(repeatable, overrides the mapping)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="PATH",
        help="JSON Lines report, one line per row (default: ./<file stem>.report.jsonl; "
        "a dry run writes one only when this is given)",
    )
    parser.add_argument(
        "--rejects",
        type=Path,
        metavar="PATH",
        help="file for rejected rows (default: ./<file stem>.rejects<suffix>; an existing one "
        "is moved to <name>.bak; a dry run writes one only when this is given)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and report what would happen; reads the location and writes "
        "nothing to it",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        default=10,
        help="requests in flight at once (default 10; the rate limit still applies)",
    )
    add_connection_flags(parser)
    parser.set_defaults(run=_run_import)


def _add_export(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="write a location's opportunities to CSV or JSON Lines",
        description=(
            "Stream every opportunity of a location, newest first, to a file, with pipeline "
            "and stage names and one column per custom field (custom.<key>). A state file "
            "next to the output records the position after each page; --resume finishes an "
            "interrupted export."
        ),
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="PATH",
        help="file to write (.csv or .jsonl)",
    )
    parser.add_argument(
        "--format", choices=("csv", "jsonl"), help="output format (default: from the suffix)"
    )
    parser.add_argument("--pipeline", metavar="NAME", help="only this pipeline (name or id)")
    parser.add_argument(
        "--status", choices=("open", "won", "lost", "abandoned", "all"), help="only this status"
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=100,
        metavar="N",
        help="records per request, 1 to 100 (default 100)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted export of --output"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    add_connection_flags(parser)
    parser.set_defaults(run=_run_export)


def _add_pipelines(commands: Any) -> None:
    parser = commands.add_parser(
        "pipelines",
        help="list a location's pipelines and stages",
        description="Print each pipeline of a location with its stages, in order, and their ids.",
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_connection_flags(parser)
    parser.set_defaults(run=_run_pipelines)


def _epilog() -> str:
    from hoop_async.migrate import mapping

    example = (mapping.__doc__ or "").split("\n\n")
    reference = "The full reference is docs/migration.md in the project's repository."
    mapping_help = "\n\n".join(example[1:])
    return f"mapping file:\n{mapping_help}\n{reference}\n\n{ENVIRONMENT_HELP}"


async def _run_import(args: argparse.Namespace) -> int:
    from hoop_async.migrate.importer import ImportOptions, run_import

    location_id = location_of(args)
    default_report = Path(f"{args.file.stem}.report.jsonl")
    default_rejects = Path(f"{args.file.stem}.rejects{args.file.suffix}")
    options = ImportOptions(
        source=args.file,
        mapping=parse_mapping(_mapping_data(args)),
        location_id=location_id,
        report_path=args.report or (None if args.dry_run else default_report),
        rejects_path=args.rejects or (None if args.dry_run else default_rejects),
        dry_run=args.dry_run,
        concurrency=_positive(args.concurrency, "--concurrency"),
    )
    stop = asyncio.Event()
    bar = ProgressBar(None, label="importing")
    interrupts = _Interrupts(stop.set)
    async with open_client(args, location_id) as client:
        with interrupts.handled(), _location_hint(location_id):
            try:
                summary = await run_import(client, options, stop=stop, on_progress=bar.advance)
            except asyncio.CancelledError:
                if interrupts.presses < 2:
                    raise
                print(
                    "\nstopped at once: requests in flight may have been written. Wait a "
                    "minute, then run the same command again to finish the import.",
                    file=sys.stderr,
                )
                return EXIT_INTERRUPTED
            finally:
                bar.close()
    print(summary.format())
    if summary.error:
        return EXIT_FAILED
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_REJECTS if summary.outcomes.get("rejected") else 0


def _mapping_data(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = load_mapping(args.mapping) if args.mapping else {}
    if args.pipeline:
        data["pipeline"] = args.pipeline
    if args.external_id or args.external_id_field:
        external = dict(data.get("external_id") or {})
        if args.external_id:
            external["column"] = args.external_id
        if args.external_id_field:
            external["field"] = args.external_id_field
        data["external_id"] = external
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep or field not in MAPPED_FIELDS or not column:
            raise MigrationError(
                f"--map {item!r} must be FIELD=COLUMN with FIELD one of {', '.join(MAPPED_FIELDS)}"
            )
        data[field] = {"column": column}
    return data


async def _run_export(args: argparse.Namespace) -> int:
    from hoop_async.migrate.exporter import ExportOptions, run_export

    location_id = location_of(args)
    output_format = args.format or (
        "jsonl" if args.output.suffix in (".jsonl", ".ndjson") else "csv"
    )
    options = ExportOptions(
        location_id=location_id,
        output=args.output,
        format=output_format,
        pipeline=args.pipeline,
        status=args.status,
        resume=args.resume,
        overwrite=args.overwrite,
        page_size=_page_size(args.page_size),
    )
    stop = asyncio.Event()
    interrupts = _Interrupts(stop.set)
    bar = ProgressBar(None, label="exporting", failures_label="pages")
    pages = 0

    def progress(rows: int, total: int | None) -> None:
        nonlocal pages
        pages += 1
        bar.advance(rows, pages, total)

    async with open_client(args, location_id) as client:
        with interrupts.handled(), _location_hint(location_id):
            try:
                summary = await run_export(
                    client, options, should_stop=stop.is_set, on_progress=progress
                )
            except asyncio.CancelledError:
                if interrupts.presses < 2:
                    raise
                print("\nstopped; run the same command with --resume to finish", file=sys.stderr)
                return EXIT_INTERRUPTED
            finally:
                bar.close()
    print(summary.format(options.output))
    return 0 if summary.complete else EXIT_INTERRUPTED


async def _run_pipelines(args: argparse.Namespace) -> int:
    location_id = location_of(args)
    async with open_client(args, location_id) as client:
        with _location_hint(location_id):
            pipelines = await client.opportunities.pipelines(location_id)
    if not pipelines:
        print(f"location {location_id} has no pipelines")
        return 0
    for pipeline in pipelines:
        print(f"{pipeline.name}  ({pipeline.id})")
        width = max((len(stage.name or "") for stage in pipeline.stages), default=0)
        for position, stage in enumerate(pipeline.stages, start=1):
            print(f"  {position:>2}. {stage.name or '':<{width}}  {stage.id}")
        print()
    return 0


def _page_size(value: int) -> int:
    if not 1 <= value <= 100:
        raise MigrationError(f"--page-size must be 1 to 100 (the API's maximum), not {value}")
    return value


def _positive(value: int, flag: str) -> int:
    if value < 1:
        raise MigrationError(f"{flag} must be 1 or more, not {value}")
    return value


@contextmanager
def _location_hint(location_id: str) -> Iterator[None]:
    """Turn a 403 for the location into a usage error that names it."""
    try:
        yield
    except LocationAccessError as exc:
        raise MigrationError(
            f"the token has no access to location {location_id!r} ({exc.message}); "
            "check --location or HOOP_LOCATION_ID"
        ) from None


class _Interrupts:
    """Ctrl-C handling: the first press requests a clean stop, the second cancels the run."""

    def __init__(self, request_stop: Callable[[], None]) -> None:
        self.presses = 0
        self._request_stop = request_stop
        self._task: asyncio.Task[Any] | None = None

    def _on_interrupt(self) -> None:
        self.presses += 1
        if self.presses == 1:
            print(
                "\nstopping after the requests in flight; press Ctrl-C again to stop now",
                file=sys.stderr,
            )
            self._request_stop()
        elif self._task is not None:
            self._task.cancel()

    @contextmanager
    def handled(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            loop.add_signal_handler(signal.SIGINT, self._on_interrupt)
        except (NotImplementedError, RuntimeError):
            # No signal handlers on this platform or thread: Ctrl-C stops at once.
            yield
            return
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGINT)
