"""Source files of an import (CSV or JSON Lines) and the rejects file written
beside them, in the same format so that `hoop import` takes it back.

Rows are numbered from 1, not counting a CSV header or blank lines. A rejects file adds two
columns, `_hoop_row` (the row number in the first file) and `_hoop_reason`.
A JSON Lines line that is not an object comes back under `_hoop_line`. An
import ignores every column whose name starts with `_hoop_`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from hoop_async.errors import MigrationError

__all__ = ["RejectsWriter", "Source", "SourceRow"]

ROW_COLUMN = "_hoop_row"
REASON_COLUMN = "_hoop_reason"
RESERVED_PREFIX = "_hoop_"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@attrs.frozen(kw_only=True)
class SourceRow:
    """One input row: its number here, its number in the first file, and its values."""

    number: int
    original: int
    values: dict[str, str]
    raw: dict[str, Any]
    """The row as read, minus `_hoop_` columns, for the rejects file."""
    error: str | None = None
    """The reason the row could not be read (a JSON Lines line that is not an object)."""

    @property
    def label(self) -> str:
        """The row as a report names it."""
        if self.original != self.number:
            return f"row {self.number} (row {self.original} of the first file)"
        return f"row {self.number}"


class Source:
    """A CSV or JSON Lines file of records, read in one pass after a counting pass."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv"
        if not path.is_file():
            raise MigrationError(f"input file {path} does not exist or is not a file")
        self.header, self.total = self._scan()

    def _scan(self) -> tuple[list[str], int]:
        """Return the column names and the row count, reading the file once.

        Reading it all before the first request means a file that is not UTF-8
        or has a broken CSV quote stops the run before anything is written.
        """
        try:
            if self.kind == "csv":
                with self._open() as handle:
                    reader = csv.reader(handle)
                    header = next(reader, None)
                    if not header:
                        raise MigrationError(f"{self.path} is empty; a CSV file needs a header row")
                    count = sum(1 for row in reader if any(cell.strip() for cell in row))
                return [name for name in header if not name.startswith(RESERVED_PREFIX)], count
            columns: dict[str, None] = {}
            count = 0
            for line in self._lines():
                if count == 0 and line.lstrip().startswith("["):
                    raise MigrationError(
                        f"{self.path} contains a JSON array; write one JSON object per line "
                        "(JSON Lines) or use CSV"
                    )
                count += 1
                record = _json_object(line)
                if record is not None:
                    columns.update(dict.fromkeys(record))
        except UnicodeDecodeError as exc:
            raise MigrationError(
                f"{self.path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "save it as UTF-8 and run again"
            ) from None
        except csv.Error as exc:
            raise MigrationError(f"{self.path} is not well-formed CSV: {exc}") from None
        return [name for name in columns if not name.startswith(RESERVED_PREFIX)], count

    def rows(self) -> Iterator[SourceRow]:
        """Yield the rows in file order; blank lines are skipped and not numbered."""
        if self.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._jsonl_rows()

    def _open(self) -> IO[str]:
        # newline="" lets the csv module handle CRLF and newlines inside quotes.
        return self.path.open(newline="", encoding="utf-8-sig")

    def _csv_rows(self) -> Iterator[SourceRow]:
        with self._open() as handle:
            reader = csv.DictReader(handle)
            number = 0
            for record in reader:
                cells = {key: value or "" for key, value in record.items() if key is not None}
                if not any(value.strip() for value in cells.values()):
                    continue
                number += 1
                yield _row(number, cells)

    def _lines(self) -> Iterator[str]:
        with self.path.open(encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    yield line

    def _jsonl_rows(self) -> Iterator[SourceRow]:
        for number, line in enumerate(self._lines(), start=1):
            record = _json_object(line)
            if record is None:
                yield SourceRow(
                    number=number,
                    original=number,
                    values={},
                    raw={"_hoop_line": line.rstrip("\r\n")},
                    error=_json_problem(line),
                )
                continue
            yield _row(number, {key: _text(value) for key, value in record.items()}, record)


def _row(number: int, cells: dict[str, str], raw: dict[str, Any] | None = None) -> SourceRow:
    original = number
    marked = (raw or cells).get(ROW_COLUMN)
    if isinstance(marked, int) and not isinstance(marked, bool):
        original = marked
    elif isinstance(marked, str) and marked.strip().isdigit():
        original = int(marked)
    source = raw if raw is not None else cells
    without_marks = {
        key: value for key, value in source.items() if not key.startswith(RESERVED_PREFIX)
    }
    values = {key: value for key, value in cells.items() if not key.startswith(RESERVED_PREFIX)}
    return SourceRow(number=number, original=original, values=values, raw=without_marks)


def _free_backup_name(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{number}")
        number += 1
    return candidate


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_problem(line: str) -> str:
    """Describe why a JSON Lines line is not an object, for the rejection reason."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        return f"the line is not valid JSON ({exc}); fix it or remove it"
    return f"the line is a JSON {type(value).__name__}, not an object; each line needs one object"


def _text(value: Any) -> str:
    """Spell a JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value)


class RejectsWriter:
    """Writes rejected rows as they come, in the source's format, with row and reason.

    Users edit a rejects file before importing it, so an existing one is never
    overwritten: it is renamed to `<name>.bak`, or `<name>.bak.2`, `.bak.3`
    and so on when that exists. With `path` None (a dry run), rows are only
    counted.
    """

    def __init__(self, path: Path | None, source: Source) -> None:
        self.path = path
        self.count = 0
        self.backup: Path | None = None
        self._source = source
        self._handle: IO[str] | None = None
        self._writer: Any = None
        if path is not None and path.resolve() == source.path.resolve():
            raise MigrationError(
                f"the rejects file {path} is the input file; pass another --rejects path"
            )
        if path is not None and path.exists():
            self.backup = _free_backup_name(path)
            os.replace(path, self.backup)

    def write(self, row: SourceRow, reason: str) -> None:
        """Append one rejected row."""
        self.count += 1
        if self.path is None:
            return
        if self._handle is None:
            self._open()
        assert self._handle is not None
        if self._source.kind == "csv":
            marks = {ROW_COLUMN: str(row.original), REASON_COLUMN: reason}
            self._writer.writerow({**row.raw, **marks})
        else:
            line = {**row.raw, ROW_COLUMN: row.original, REASON_COLUMN: reason}
            self._handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._handle.flush()

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        if self._source.kind == "csv":
            columns = [*self._source.header, ROW_COLUMN, REASON_COLUMN]
            self._writer = csv.DictWriter(self._handle, columns, extrasaction="ignore")
            self._writer.writeheader()

    def close(self) -> None:
        """Close the file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
