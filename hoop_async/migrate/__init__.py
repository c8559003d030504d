"""Moving opportunities in and out of a location: `hoop import`, `hoop export`.

The command line in `hoop_async.migrate.commands` wraps `run_import` and
`run_export`, which scripts may call directly with their own client.
"""

from hoop_async.migrate.exporter import ExportOptions, ExportSummary, run_export
from hoop_async.migrate.importer import ImportOptions, run_import
from hoop_async.migrate.mapping import ImportMapping, load_mapping, parse_mapping
from hoop_async.migrate.report import ImportSummary

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
