"""The one cattrs converter of hoop_async: camelCase on the wire, snake_case in Python.

Every model keeps the keys it does not know in `extra` and writes them back out,
so a record read and written again loses nothing. A missing key and `null` are
the same: both leave the field at its default.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar, get_args

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = ["converter", "format_datetime", "parse_datetime", "wire_name"]

T = TypeVar("T")

WIRE_NAME = "hoop_async.wire_name"
_EXTRA = "extra"
# Key under which the collected unknown keys reach the generated structure function;
# no API key can start with a NUL character.
_EXTRA_WIRE_KEY = "\x00extra"

# JSON has no tuples: model tuples go out as lists.
# detailed_validation=False: the generated functions skip per-field exception
# bookkeeping, which roughly halves the cost of reading a record.
converter = Converter(unstruct_collection_overrides={tuple: list}, detailed_validation=False)


def wire_name(field: attrs.Attribute[Any]) -> str:
    """Return the JSON key of a model field: its metadata override, else camelCase."""
    explicit = field.metadata.get(WIRE_NAME)
    if isinstance(explicit, str):
        return explicit
    head, *rest = field.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_API_TIMESTAMP_LENGTH = len("2026-01-15T10:21:58.369Z")


def parse_datetime(value: object) -> datetime:
    """Parse an API timestamp (ISO 8601, `Z` or offset, or epoch milliseconds) as aware UTC."""
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if not isinstance(value, str):
        raise TypeError(f"not a timestamp: {value!r}")
    if len(value) == _API_TIMESTAMP_LENGTH and value[-1] == "Z":
        # The API's own form, such as 2026-01-15T10:21:58.369Z: already UTC.
        # Python 3.11 reads the Z itself; 3.10 raises and takes the general path.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass

    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_datetime(value: datetime) -> str:
    """Format a datetime as the API writes it: UTC, milliseconds, `Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _has_extra(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and _EXTRA in attrs.fields_dict(cls)


def _make_structure(cls: Any) -> Callable[[Any, Any], Any]:
    fields = [field for field in attrs.fields(cls) if field.name != _EXTRA]
    renames = {field.name: override(rename=wire_name(field)) for field in fields}
    renames[_EXTRA] = override(rename=_EXTRA_WIRE_KEY)
    generated = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]
    known = frozenset(wire_name(field) for field in fields)

    def structure(data: Any, _: Any) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        present: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                unknown[key] = value
            elif value is not None:
                present[key] = value
        present[_EXTRA_WIRE_KEY] = unknown
        return generated(present, cls)

    return structure


def _make_unstructure(cls: Any) -> Callable[[Any], dict[str, Any]]:
    fields = [field for field in attrs.fields(cls) if field.name != _EXTRA]
    renames = {field.name: override(rename=wire_name(field)) for field in fields}
    renames[_EXTRA] = override(omit=True)
    generated = make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]

    def unstructure(obj: Any) -> dict[str, Any]:
        known = {key: value for key, value in generated(obj).items() if value is not None}
        extra: Mapping[str, Any] = getattr(obj, _EXTRA)
        return {**extra, **known}

    return unstructure


def _is_enum_or_text(type_: Any) -> bool:
    members = [arg for arg in get_args(type_) if arg is not type(None)]
    return (
        len(members) == 2
        and str in members
        and any(isinstance(arg, type) and issubclass(arg, enum.Enum) for arg in members)
    )


def _make_enum_or_text(type_: Any) -> Callable[[Any, Any], Any]:
    """Build a hook that keeps a value the enum does not know as plain text."""
    enum_class: type[enum.Enum] = next(
        arg for arg in get_args(type_) if isinstance(arg, type) and issubclass(arg, enum.Enum)
    )
    members = enum_class._value2member_map_

    def structure(value: Any, _: Any) -> Any:
        member = members.get(value)
        return member if member is not None else str(value)

    return structure


def _is_int_or_text(type_: Any) -> bool:
    members = {arg for arg in get_args(type_) if arg is not type(None)}
    return members == {int, str}


def _structure_int_or_text(value: Any, _: Any) -> int | str:
    """Keep a number-or-string value exactly as received (cursors are echoed back verbatim)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected an integer or a string, got {value!r}")
    return value


def _structure_optional_text(value: Any, _: Any) -> str | None:
    # The hot path of every record: most fields are optional strings.
    return value if value is None or isinstance(value, str) else str(value)


def _structure_text_tuple(value: Any, _: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(item if isinstance(item, str) else str(item) for item in value)


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _structure_opaque(value: Any, _: Any) -> Any:
    return value


converter.register_structure_hook_factory(_has_extra, _make_structure)
converter.register_unstructure_hook_factory(_has_extra, _make_unstructure)
converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook_factory(_is_enum_or_text, _make_enum_or_text)
converter.register_structure_hook_func(_is_int_or_text, _structure_int_or_text)
converter.register_structure_hook_func(
    lambda type_: type_ == (str | None), _structure_optional_text
)
converter.register_structure_hook_func(
    lambda type_: type_ == tuple[str, ...], _structure_text_tuple
)
# `extra` contains the unknown keys as received; copying them through the generic
# mapping hook would cost more than the known fields.
converter.register_structure_hook_func(
    lambda type_: type_ == dict[str, Any], lambda value, _: value
)
converter.register_structure_hook_func(
    lambda type_: type_ == (datetime | None),
    lambda value, _: None if value is None else parse_datetime(value),
)
converter.register_structure_hook_func(
    lambda type_: type_ == (float | None),
    lambda value, _: None if value is None else _structure_float(value, float),
)
converter.register_structure_hook_func(lambda type_: type_ is Any, _structure_opaque)
