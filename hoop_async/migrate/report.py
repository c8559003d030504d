"""The import report: one JSON line per row as its outcome becomes final, then
a summary line. Lines are flushed as they are written, so an interrupted run
leaves a report too.

A rerun reads the previous report for the ids of the opportunities it wrote.
Search may lag behind writes by a few seconds on the live API, and these ids
let the rerun find, by GET, records that search does not show yet.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import IO, Any

import attrs

__all__ = ["OUTCOMES", "ImportSummary", "ReportWriter", "written_ids"]

IMPORTED = "imported"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"
OUTCOMES = (IMPORTED, UPDATED, UNCHANGED, REJECTED)


@attrs.define(kw_only=True)
class ImportSummary:
    """Counts of one import run."""

    total: int
    outcomes: Counter[str] = attrs.field(factory=Counter)
    reasons: Counter[str] = attrs.field(factory=Counter)
    """Rejected rows by reason kind."""
    interrupted: bool = False
    dry_run: bool = False
    error: str | None = None
    """The reason the run stopped early (an authorization or quota failure), or None."""
    external_id_field: str | None = None
    seconds: float = 0.0
    report_path: Path | None = None
    rejects_path: Path | None = None
    rejects_written: int = 0
    rejects_backup: Path | None = None
    """The new path of the earlier run's rejects file, or None when there was none."""
    repeated_ids: int = 0
    """External ids that more than one opportunity of the location carries."""

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def not_processed(self) -> int:
        return self.total - self.processed

    @property
    def complete(self) -> bool:
        return self.not_processed == 0 and self.error is None

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "outcomes": {name: self.outcomes.get(name, 0) for name in OUTCOMES},
            "reasons": dict(self.reasons.most_common()),
            "not_processed": self.not_processed,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "dry_run": self.dry_run,
            "error": self.error,
            "external_id_field": self.external_id_field,
            "repeated_ids": self.repeated_ids,
            "seconds": round(self.seconds, 3),
        }

    def format(self) -> str:
        """Return the plain-text summary printed at the end of a run."""
        checked = "checked (dry run)" if self.dry_run else "processed"
        lines = [f"{self.total:,} rows in the input; {self.processed:,} {checked}:"]
        for name in OUTCOMES:
            lines.append(f"  {name:<14} {self.outcomes.get(name, 0):>8,}")
            if name == REJECTED:
                for kind, count in self.reasons.most_common():
                    lines.append(f"    {count:>8,}  {kind}")
        if self.not_processed:
            lines.append(f"  {'not processed':<14} {self.not_processed:>8,}")
        if self.repeated_ids:
            lines.append(
                f"warning: {self.repeated_ids:,} external ids are on more than one opportunity "
                "of the location; rows updated the oldest of each"
            )
        if self.dry_run:
            lines.append("dry run: nothing was written to the API")
        if self.error:
            lines.append(f"stopped: {self.error}")
        elif self.interrupted:
            lines.append("interrupted: run the same command again to finish the import")
        if self.rejects_written and self.rejects_path is not None:
            lines.append(
                f"{self.rejects_written:,} rejected rows written to {self.rejects_path}; "
                "fix them and import that file"
            )
        if self.rejects_backup is not None:
            lines.append(f"the earlier rejects file was moved to {self.rejects_backup}")
        if self.report_path is not None:
            lines.append(f"report: {self.report_path}")
        lines.append(f"{self.seconds:.1f} s")
        return "\n".join(lines)


class ReportWriter:
    """Appends row outcomes to the report file, flushing each line.

    The first line names the location and the input file. With `path` None
    (a dry run without --report), nothing is written.
    """

    def __init__(self, path: Path | None, *, location_id: str, source: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("w", encoding="utf-8")
        header = {"location_id": location_id, "source": str(source)}
        self._handle.write(json.dumps(header, ensure_ascii=False) + "\n")

    def row(
        self,
        *,
        row: int,
        external_id: str | None,
        outcome: str,
        opportunity_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        if self._handle is None:
            return
        line = {
            "row": row,
            "external_id": external_id,
            "outcome": outcome,
            "opportunity_id": opportunity_id,
            "reason": reason,
        }
        self._handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self, summary: ImportSummary) -> None:
        if self._handle is None:
            return
        self._handle.write(json.dumps({"summary": summary.as_json()}) + "\n")
        self._handle.close()


def written_ids(path: Path | None, location_id: str) -> dict[str, str]:
    """Return opportunity ids by external id from an earlier report for this location.

    A missing report, or one written for another location, gives {}.
    """
    found: dict[str, str] = {}
    if path is None:
        return found
    try:
        handle = path.open(encoding="utf-8")
    except OSError:
        return found
    with handle:
        try:
            header = json.loads(handle.readline())
        except ValueError:
            return found
        if not isinstance(header, dict) or header.get("location_id") != location_id:
            return found
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short when the earlier run was killed
            if not isinstance(entry, dict):
                continue
            external_id = entry.get("external_id")
            opportunity_id = entry.get("opportunity_id")
            if isinstance(external_id, str) and isinstance(opportunity_id, str):
                found[external_id] = opportunity_id
    return found
