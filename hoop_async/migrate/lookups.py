"""Lookup tables of an import: source names to ids or values (accounts to contact
ids, agents to user ids, products to list prices).

A table comes from a CSV file (a key column and a value column) or from a JSON
file (an object of names to values, found by following `path` from the top).
Keys match ignoring case, spaces and punctuation, so "GTXPro" finds "GTX Pro".
In `file` and `path`, "{location}" stands for the location id of the run. In
`file`, "{input_dir}" stands for the folder of the file being imported, and
environment variables ($NAME or ${NAME}) and ~ are expanded; other relative
paths start from the current directory.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hoop_async.errors import MigrationError

__all__ = ["Lookup", "LookupSpec", "normalize"]

_NOT_ALNUM = re.compile(r"[\W_]+")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def normalize(text: str) -> str:
    """Return the form names are compared in: casefolded, without spaces or punctuation."""
    return _NOT_ALNUM.sub("", text.casefold())


@attrs.frozen(kw_only=True)
class LookupSpec:
    """The source of a named lookup table: a file, and its columns or JSON path."""

    name: str
    file: str
    key: str | None = None
    value: str | None = None
    path: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, spec: Any) -> LookupSpec:
        """Check one entry of the mapping's "lookups" object."""
        where = f'mapping "lookups.{name}"'
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            raise MigrationError(f'{where} must be an object with a "file"')
        extra = sorted(set(spec) - {"file", "key", "value", "path"})
        if extra:
            raise MigrationError(
                f"{where} has unknown keys {', '.join(map(repr, extra))}; "
                'a CSV table takes "file", "key", "value"; a JSON table takes "file", "path"'
            )
        path = spec.get("path", [])
        if not isinstance(path, list) or not all(isinstance(part, str) for part in path):
            raise MigrationError(f'{where}.path must be a list of keys, such as ["contacts"]')
        is_csv = spec["file"].lower().endswith(".csv")
        if is_csv and not (isinstance(spec.get("key"), str) and isinstance(spec.get("value"), str)):
            raise MigrationError(f'{where} reads a CSV file and needs "key" and "value" columns')
        return cls(
            name=name,
            file=spec["file"],
            key=spec.get("key"),
            value=spec.get("value"),
            path=tuple(path),
        )

    def load(self, location_id: str, input_dir: Path) -> Lookup:
        """Read the table; MigrationError names the file and what is wrong with it."""
        name = self.file.replace("{location}", location_id).replace("{input_dir}", str(input_dir))
        expanded = os.path.expanduser(os.path.expandvars(name))
        unset = _VARIABLE.search(expanded)
        if unset:
            raise MigrationError(
                f"lookup {self.name!r}: file {self.file!r} uses environment variable "
                f"{unset.group(1) or unset.group(2)}, which is not set; export it first"
            )
        path = Path(expanded)
        try:
            if path.suffix.lower() == ".csv":
                table = self._read_csv(path)
            else:
                table = self._read_json(path, location_id)
        except FileNotFoundError:
            raise MigrationError(f"lookup {self.name!r}: file {path} does not exist") from None
        except MigrationError:
            raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise MigrationError(f"lookup {self.name!r}: cannot read {path}: {exc}") from None
        return Lookup(self.name, table)

    def _read_csv(self, path: Path) -> dict[str, str]:
        assert self.key is not None
        assert self.value is not None
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            for column in (self.key, self.value):
                if column not in header:
                    raise MigrationError(
                        f"lookup {self.name!r}: {path} has no column {column!r}; "
                        f"its columns are {', '.join(map(repr, header))}"
                    )
            return {row[self.key]: row[self.value] for row in reader if row.get(self.key)}

    def _read_json(self, path: Path, location_id: str) -> dict[str, str]:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        for part in self.path:
            key = part.replace("{location}", location_id)
            if not isinstance(data, dict) or key not in data:
                hint = "; is --location right?" if "{location}" in part else ""
                raise MigrationError(
                    f"lookup {self.name!r}: {path} has nothing at {'.'.join(self.path)} "
                    f"(no key {key!r}{hint})"
                )
            data = data[key]
        if not isinstance(data, dict):
            raise MigrationError(
                f"lookup {self.name!r}: {path} at {'.'.join(self.path) or 'the top'} "
                "must be an object of names to values"
            )
        return {str(name): str(value) for name, value in data.items()}


class Lookup:
    """A loaded table with forgiving key matching."""

    def __init__(self, name: str, table: Mapping[str, str]) -> None:
        self.name = name
        self._names = list(table)
        self._values: dict[str, str] = {}
        for key, value in table.items():
            self._values.setdefault(normalize(key), value)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: str) -> str | None:
        """Return the value for `key`, or None when the table lacks it."""
        return self._values.get(normalize(key))

    def closest(self, key: str) -> str | None:
        """Return the table's name most like `key`, for a hint in a rejection reason."""
        matches = difflib.get_close_matches(key, self._names, n=1, cutoff=0.6)
        return matches[0] if matches else None
