"""Moving opportunities in and out of a location: `hoop import`, `hoop export`.

The command line in `hoop_async.migrate.commands` wraps `run_import` and
`run_export`, which scripts may call directly with their own client.
"""

from typing import TYPE_CHECKING

from hoop_async._lazy import lazy_attributes

if TYPE_CHECKING:
    from hoop_async.migrate.exporter import ExportOptions, ExportSummary, run_export
    from hoop_async.migrate.importer import ImportOptions, run_import
    from hoop_async.migrate.mapping import ImportMapping, load_mapping, parse_mapping
    from hoop_async.migrate.report import ImportSummary
else:
    # The importer and exporter load on first use, so other `hoop` commands
    # do not pay for them.
    __getattr__, __dir__ = lazy_attributes(
        __name__,
        {
            "hoop_async.migrate.exporter": ("ExportOptions", "ExportSummary", "run_export"),
            "hoop_async.migrate.importer": ("ImportOptions", "run_import"),
            "hoop_async.migrate.mapping": ("ImportMapping", "load_mapping", "parse_mapping"),
            "hoop_async.migrate.report": ("ImportSummary",),
        },
    )

__all__ = [
    "ExportOptions",
    "ExportSummary",
    "ImportMapping",
    "ImportOptions",
    "ImportSummary",
    "load_mapping",
    "parse_mapping",
    "run_export",
    "run_import",
]
