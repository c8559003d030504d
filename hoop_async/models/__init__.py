"""Typed records of the Opportunities API and the converter between them and JSON."""

from __future__ import annotations

from typing import Any, TypeVar

from hoop_async.models._converter import converter, format_datetime, parse_datetime
from hoop_async.models.fields import CustomFieldDefinition
from hoop_async.models.opportunity import (
    ContactSummary,
    CustomField,
    CustomFieldValue,
    Opportunity,
    Status,
)
from hoop_async.models.pipeline import LostReason, Pipeline, PipelineStage
from hoop_async.models.results import FollowersAdded, FollowersRemoved, SearchMeta, UpsertResult

__all__ = [
    "ContactSummary",
    "CustomField",
    "CustomFieldDefinition",
    "CustomFieldValue",
    "FollowersAdded",
    "FollowersRemoved",
    "LostReason",
    "Opportunity",
    "Pipeline",
    "PipelineStage",
    "SearchMeta",
    "Status",
    "UpsertResult",
    "converter",
    "format_datetime",
    "from_wire",
    "parse_datetime",
    "to_wire",
]

T = TypeVar("T")


def from_wire(data: Any, cls: type[T]) -> T:
    """Build a model from a decoded JSON value; unknown keys land in `extra`."""
    return converter.structure(data, cls)


def to_wire(model: object) -> Any:
    """Turn a model back into JSON-ready data with camelCase keys and its unknown keys."""
    return converter.unstructure(model)
