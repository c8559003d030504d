"""The one cattrs converter of hoop_async: camelCase on the wire, snake_case in Python.

Every model keeps the keys it does not know in `extra` and writes them back out,
so a record read and written again loses nothing. A missing key and `null` are
the same: both leave the field at its default.
"""

from __future__ import annotations

import enum
import functools
import math
import operator
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar, get_args, get_origin

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_unstructure_fn, override

__all__ = ["converter", "format_datetime", "parse_datetime", "wire_name"]

T = TypeVar("T")

WIRE_NAME = "hoop_async.wire_name"
_EXTRA = "extra"

# JSON has no tuples: model tuples go out as lists.
# detailed_validation=False: the generated unstructure functions and cattrs'
# own hooks skip per-field exception bookkeeping.
converter = Converter(unstruct_collection_overrides={tuple: list}, detailed_validation=False)


def wire_name(field: attrs.Attribute[Any]) -> str:
    """Return the JSON key of a model field: its metadata override, else camelCase."""
    explicit = field.metadata.get(WIRE_NAME)
    if isinstance(explicit, str):
        return explicit
    head, *rest = field.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# From Python 3.11 datetime.fromisoformat reads most ISO 8601 forms, `Z` included,
# but 3.10 rejects `Z`.
_FROMISOFORMAT_READS_Z = sys.version_info >= (3, 11)


def parse_datetime(value: object) -> datetime:
    """Parse an API timestamp (ISO 8601, `Z` or offset, or epoch milliseconds) as aware UTC."""
    if _FROMISOFORMAT_READS_Z and value.__class__ is str:
        # The API's own form, such as 2026-01-15T10:21:58.369Z, needs nothing more.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is timezone.utc:
                return parsed
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if not isinstance(value, str):
        raise TypeError(f"not a timestamp: {value!r}")

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


def _without_none(type_: Any) -> Any:
    """Return `type_` without None, because null values never reach a structure hook."""
    members = [arg for arg in get_args(type_) if arg is not type(None)]
    if len(members) == len(get_args(type_)):
        return type_
    return functools.reduce(operator.or_, members)


# Reader of one wire key: the field's name, its hook, and the type the hook takes.
# A hook of None marks a text field, which the loop reads without a call.
_Reader = tuple[str, Callable[[Any, Any], Any] | None, Any]


def _make_structure(cls: Any) -> Callable[[Any, Any], Any]:
    """Build the structure hook of a model with `extra`, which reads a record in one pass.

    cattrs' generated functions look up every field by name and would need a
    copy of the record without its nulls and unknown keys first, so one loop
    over the record's own keys does less work.
    """
    attrs.resolve_types(cls)
    readers: dict[str, _Reader] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        if field.name == _EXTRA:
            continue
        type_ = _without_none(field.type)
        hook = None if type_ is str else converter.get_structure_hook(type_)
        readers[wire_name(field)] = (field.name, hook, type_)
        if field.default is attrs.NOTHING:
            required.append(wire_name(field))

    def structure(data: Any, _: Any) -> Any:
        if data.__class__ is not dict and not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        for key, value in data.items():
            reader = readers.get(key)
            if reader is None:
                unknown[key] = value
            elif value is not None:
                name, hook, type_ = reader
                if hook is None:
                    values[name] = value if isinstance(value, str) else str(value)
                else:
                    values[name] = hook(value, type_)
        try:
            return cls(**values, extra=unknown)
        except TypeError:
            # A required key that is missing or null raises KeyError with its wire name.
            for key in required:
                if data.get(key) is None:
                    raise KeyError(key) from None
            raise

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


def _structure_text_tuple(value: Any, _: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple([item if isinstance(item, str) else str(item) for item in value])


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _make_tuple(type_: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    """Build a hook for `tuple[X, ...]` that resolves the hook of X once, not per call."""
    item_type = get_args(type_)[0]
    if item_type is Any:
        return lambda value, _: tuple(value)
    item_hook = converter.get_structure_hook(item_type)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        return tuple([item_hook(item, item_type) for item in value])

    return structure


def _structure_datetime(value: Any, _: Any) -> datetime:
    return parse_datetime(value)


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _structure_opaque(value: Any, _: Any) -> Any:
    return value


converter.register_structure_hook_factory(_has_extra, _make_structure)
converter.register_unstructure_hook_factory(_has_extra, _make_unstructure)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook_factory(_is_enum_or_text, _make_enum_or_text)
converter.register_structure_hook_func(_is_int_or_text, _structure_int_or_text)
converter.register_structure_hook_factory(_is_homogeneous_tuple, _make_tuple)
# cattrs tries the hooks registered last first, so tuple[str, ...] gets this one.
converter.register_structure_hook_func(
    lambda type_: type_ == tuple[str, ...], _structure_text_tuple
)
# `extra` contains the unknown keys as received; copying them through the generic
# mapping hook would cost more than the known fields.
converter.register_structure_hook_func(
    lambda type_: type_ == dict[str, Any], lambda value, _: value
)
converter.register_structure_hook_func(lambda type_: type_ is Any, _structure_opaque)
