"""The import mapping: which source columns become which opportunity fields.

A mapping is a JSON object, usually kept in a file and given to
`hoop import --mapping`. Every key is optional except where noted:

    {
      "pipeline": "Deals",                            # required; or {"column": ...}
      "external_id": {"column": "opportunity_id",     # required
                      "field": "external_id"},        # custom field key or id
      "name": {"template": "{account}: {product}"},   # or {"column": "name"}
      "stage": {"column": "deal_stage",
                "values": {"Won": {"stage": "Won", "status": "won"}}},
      "status": {"column": "status"},
      "monetary_value": {"column": "close_value",
                         "when_empty": {"column": "product", "lookup": "prices"}},
      "contact": {"column": "account", "lookup": "contacts"},   # required
      "assigned_to": {"column": "sales_agent", "lookup": "users"},
      "lookups": {"prices": {"file": "products.csv", "key": "product",
                             "value": "sales_price"}}
    }

Without `stage.values` the stage column contains stage names. Without a stage
column every record goes to the pipeline's first stage. The status comes from
the stage value, else the status column, else "open".
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hoop_async.errors import MigrationError
from hoop_async.migrate.lookups import LookupSpec, normalize

__all__ = [
    "STATUSES",
    "ColumnRule",
    "ImportMapping",
    "StageValue",
    "load_mapping",
    "parse_mapping",
]

STATUSES = ("open", "won", "lost", "abandoned")
TOP_KEYS = (
    "pipeline",
    "external_id",
    "name",
    "stage",
    "status",
    "monetary_value",
    "contact",
    "assigned_to",
    "lookups",
)


@attrs.frozen(kw_only=True)
class ColumnRule:
    """A field read from a column, translated through a lookup table when one is named."""

    column: str
    lookup: str | None = None


@attrs.frozen(kw_only=True)
class StageValue:
    """The target of one source stage value: a stage name (None: the column's
    value is the stage name) and a status (None: from the status rule)."""

    stage: str | None = None
    status: str | None = None


@attrs.frozen(kw_only=True)
class ImportMapping:
    """A checked mapping. Column names are as the source file spells them."""

    external_id: str
    external_id_field: str
    contact: ColumnRule
    pipeline: str | None = None
    pipeline_column: str | None = None
    name_template: str | None = None
    name_column: str | None = None
    stage_column: str | None = None
    stage_values: dict[str, StageValue] = attrs.field(factory=dict)
    """Stage values by normalized source value (see `lookups.normalize`)."""
    status_column: str | None = None
    value: ColumnRule | None = None
    value_when_empty: ColumnRule | None = None
    assigned_to: ColumnRule | None = None
    lookups: dict[str, LookupSpec] = attrs.field(factory=dict)

    def columns(self) -> set[str]:
        """Return every source column the mapping reads."""
        rules = (self.contact, self.value, self.value_when_empty, self.assigned_to)
        names = {rule.column for rule in rules if rule is not None}
        names.add(self.external_id)
        for column in (self.pipeline_column, self.name_column, self.stage_column):
            if column is not None:
                names.add(column)
        if self.status_column is not None:
            names.add(self.status_column)
        if self.name_template is not None:
            names.update(template_columns(self.name_template))
        return names

    def check_columns(self, header: list[str], source: str, *, strict: bool = True) -> None:
        """Raise MigrationError naming every mapped column that `header` lacks.

        Not `strict` (JSON Lines, whose objects may leave out empty keys), only
        a mapping of which no column appears at all is an error.
        """
        mapped = self.columns()
        missing = sorted(mapped - set(header))
        if not strict and len(missing) < len(mapped):
            return
        if missing:
            raise MigrationError(
                f"{source} has no column {', '.join(repr(name) for name in missing)}; "
                f"its columns are {', '.join(repr(name) for name in header)}. "
                "Fix the column names in the mapping file or in the --map and "
                "--external-id flags."
            )

    def stage_value(self, raw: str) -> StageValue | None:
        """Return the stage value entry for a source value, or None when it has none."""
        return self.stage_values.get(normalize(raw))


def template_columns(template: str) -> list[str]:
    """Return the column names a `{column}` template refers to."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def load_mapping(path: Path, *, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read a mapping file (a JSON object), laying it over `base`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MigrationError(f"mapping file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"cannot read mapping file {path}: {exc}") from None
    except ValueError as exc:
        raise MigrationError(f"mapping file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MigrationError(f"mapping file {path} must hold a JSON object")
    return {**(base or {}), **data}


def parse_mapping(data: Mapping[str, Any]) -> ImportMapping:
    """Check a mapping object and return it; MigrationError names the bad key and the fix."""
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise MigrationError(
            f"mapping has unknown keys {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(TOP_KEYS)}"
        )
    external = _object(data, "external_id", required=True, flag="--external-id COLUMN")
    pipeline, pipeline_column = _pipeline(data.get("pipeline"))
    name_template, name_column = _name(data.get("name"))
    stage = _object(data, "stage")
    value = _object(data, "monetary_value")
    status = _object(data, "status")
    assigned = _object(data, "assigned_to")
    lookups = _lookups(data.get("lookups"))
    mapping = ImportMapping(
        external_id=_text(external, "column", "external_id"),
        external_id_field=_text(external, "field", "external_id", default="external_id"),
        contact=_rule(
            _object(data, "contact", required=True, flag="--map contact=COLUMN"), "contact"
        ),
        pipeline=pipeline,
        pipeline_column=pipeline_column,
        name_template=name_template,
        name_column=name_column,
        stage_column=_text(stage, "column", "stage") if stage else None,
        stage_values=_stage_values(stage.get("values")) if stage else {},
        status_column=_text(status, "column", "status") if status else None,
        value=_rule(value, "monetary_value") if value else None,
        value_when_empty=_when_empty(value),
        assigned_to=_rule(assigned, "assigned_to") if assigned else None,
        lookups=lookups,
    )
    _check_lookup_names(mapping)
    return mapping


def _object(
    data: Mapping[str, Any], key: str, *, required: bool = False, flag: str = ""
) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise MigrationError(
                f'mapping needs "{key}", e.g. "{key}": {{"column": "<source column>"}} '
                f"in the --mapping file, or {flag} on the command line"
            )
        return {}
    if not isinstance(value, dict):
        raise MigrationError(f'mapping "{key}" must be an object such as {{"column": "..."}}')
    return value


def _text(obj: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MigrationError(f'mapping "{where}.{key}" must be a non-empty string, not {value!r}')
    return value


def _rule(obj: Mapping[str, Any], where: str) -> ColumnRule:
    extra = sorted(set(obj) - {"column", "lookup", "when_empty"})
    if extra:
        raise MigrationError(
            f'mapping "{where}" has unknown keys {", ".join(map(repr, extra))}; '
            'use "column" and, optionally, "lookup"'
            + (' and "when_empty"' if where == "monetary_value" else "")
        )
    lookup = obj.get("lookup")
    if lookup is not None and not isinstance(lookup, str):
        raise MigrationError(f'mapping "{where}.lookup" must name a table in "lookups"')
    return ColumnRule(column=_text(obj, "column", where), lookup=lookup)


def _when_empty(value: Mapping[str, Any]) -> ColumnRule | None:
    fallback = value.get("when_empty")
    if fallback is None:
        return None
    if not isinstance(fallback, dict):
        raise MigrationError(
            'mapping "monetary_value.when_empty" must be an object such as '
            '{"column": "product", "lookup": "prices"}'
        )
    return _rule(fallback, "monetary_value.when_empty")


def _pipeline(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        raise MigrationError(
            'mapping needs "pipeline": a pipeline name, or {"column": "<source column>"}, '
            "in the --mapping file, or --pipeline NAME on the command line"
        )
    if isinstance(value, str) and value.strip():
        return value, None
    if isinstance(value, dict) and set(value) == {"column"}:
        return None, _text(value, "column", "pipeline")
    raise MigrationError(
        f'mapping "pipeline" must be a pipeline name or {{"column": "..."}}, not {value!r}'
    )


def _name(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dict) and set(value) == {"template"}:
        template = _text(value, "template", "name")
        try:
            template_columns(template)
        except ValueError as exc:
            raise MigrationError(
                f'mapping "name.template" {template!r} is malformed: {exc}'
            ) from None
        return template, None
    if isinstance(value, dict) and set(value) == {"column"}:
        return None, _text(value, "column", "name")
    raise MigrationError(
        'mapping "name" must be {"column": "..."} or {"template": "{column} text"}, '
        f"not {value!r}"
    )


def _stage_values(values: Any) -> dict[str, StageValue]:
    if values is None:
        return {}
    if not isinstance(values, dict) or not values:
        raise MigrationError(
            'mapping "stage.values" must be an object from source values to '
            '{"stage": "<stage name>", "status": "open|won|lost|abandoned"}'
        )
    checked: dict[str, StageValue] = {}
    for source, target in values.items():
        where = f"stage.values.{source}"
        if not isinstance(target, dict) or not set(target) <= {"stage", "status"} or not target:
            raise MigrationError(
                f'mapping "{where}" must be an object with "stage" and/or "status"'
            )
        stage = target.get("stage")
        if stage is not None and (not isinstance(stage, str) or not stage.strip()):
            raise MigrationError(f'mapping "{where}.stage" must be a stage name')
        status = target.get("status")
        if status is not None and status not in STATUSES:
            raise MigrationError(
                f'mapping "{where}.status" is {status!r}; use one of {", ".join(STATUSES)}'
            )
        checked[normalize(source)] = StageValue(stage=stage, status=status)
    return checked


def _lookups(value: Any) -> dict[str, LookupSpec]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MigrationError('mapping "lookups" must be an object of named tables')
    return {name: LookupSpec.parse(name, spec) for name, spec in value.items()}


def _check_lookup_names(mapping: ImportMapping) -> None:
    rules = (mapping.contact, mapping.value, mapping.value_when_empty, mapping.assigned_to)
    for rule in rules:
        if rule is not None and rule.lookup is not None and rule.lookup not in mapping.lookups:
            known = ", ".join(map(repr, mapping.lookups)) or "none"
            raise MigrationError(
                f"mapping names lookup {rule.lookup!r} for column {rule.column!r}, but "
                f'"lookups" defines {known}'
            )
