"""Small readers and writers of the API's JSON shapes, shared by the resource modules."""

from __future__ import annotations

from typing import Any

__all__ = ["field_or_empty", "list_field", "query_value"]


def field_or_empty(data: Any, key: str) -> Any:
    """Return `data[key]` when `data` is a JSON object with a non-null value there, else {}."""
    value = data.get(key) if isinstance(data, dict) else None
    return {} if value is None else value


def list_field(data: Any, key: str) -> list[Any]:
    """Return `data[key]` when it is a list, else an empty list."""
    rows = data.get(key) if isinstance(data, dict) else None
    return rows if isinstance(rows, list) else []


def query_value(value: object) -> str:
    """Spell a query parameter value as the API expects: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
