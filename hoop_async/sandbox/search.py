"""Search over one location's opportunities: which rows match (criteria), in
which order (sort fields), from where (cursor or offset), and how many match in
all. Rows inside the index lag stay invisible.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from hoop_async.sandbox.filters import RowPredicate
from hoop_async.sandbox.records import OpportunityRecord
from hoop_async.sandbox.store import Location

SORT_VALUES: dict[str, Callable[[OpportunityRecord], Any]] = {
    "date_added": lambda record: record.created_ms,
    "date_updated": lambda record: record.updated_ms,
    "monetary_value": lambda record: record.monetary_value,
    "name": lambda record: record.name,
}
SORT_FIELDS = tuple(SORT_VALUES)
NUMERIC_SORT_FIELDS = ("date_added", "date_updated", "monetary_value")
DIRECTIONS = ("asc", "desc")


@attrs.define(kw_only=True, frozen=True)
class Criteria:
    """Conditions that rows must match. None means no condition on that attribute."""

    text: str | None = None
    """Lowercase text to find in the opportunity name or the contact's name, email, phone."""
    pipeline_id: str | None = None
    pipeline_stage_id: str | None = None
    contact_id: str | None = None
    status: str | None = None
    assigned_to: str | None = None
    campaign_id: str | None = None
    opportunity_id: str | None = None
    country: str | None = None
    created_from_ms: int | None = None
    created_before_ms: int | None = None
    filters: RowPredicate | None = attrs.field(default=None, eq=False)
    filters_signature: str = ""
    """Canonical text of `filters`, so equal filters share a cached total."""

    def is_empty(self) -> bool:
        """Return whether every row matches."""
        return self == Criteria()


@attrs.define(kw_only=True, frozen=True)
class SortField:
    """One sort item of POST search."""

    field: str
    descending: bool


NEWEST_FIRST = (SortField(field="date_added", descending=True),)


@attrs.define(kw_only=True, frozen=True)
class Page:
    """Rows of one page, each with its sort value, and the count of all matches."""

    rows: list[tuple[OpportunityRecord, list[Any]]]
    total: int


def build_matcher(criteria: Criteria, location: Location) -> RowPredicate:
    """Return a predicate that checks whether a row matches `criteria`."""
    equalities = _equality_checks(criteria)
    contact_texts: dict[str, str] = {}

    text, country, filters = criteria.text, criteria.country, criteria.filters

    def matches(record: OpportunityRecord) -> bool:
        for attribute, wanted in equalities:
            if getattr(record, attribute) != wanted:
                return False
        if not _created_within(record, criteria):
            return False
        if text is not None and not _text_matches(record, text, location, contact_texts):
            return False
        if country is not None and not _country_matches(record, country, location):
            return False
        return filters is None or filters(record)

    return matches


def _equality_checks(criteria: Criteria) -> list[tuple[str, str]]:
    pairs = [
        ("pipeline_id", criteria.pipeline_id),
        ("pipeline_stage_id", criteria.pipeline_stage_id),
        ("contact_id", criteria.contact_id),
        ("status", criteria.status),
        ("assigned_to", criteria.assigned_to),
        ("campaign_id", criteria.campaign_id),
        ("id", criteria.opportunity_id),
    ]
    return [(attribute, wanted) for attribute, wanted in pairs if wanted is not None]


def _created_within(record: OpportunityRecord, criteria: Criteria) -> bool:
    if criteria.created_from_ms is not None and record.created_ms < criteria.created_from_ms:
        return False
    return criteria.created_before_ms is None or record.created_ms < criteria.created_before_ms


def _text_matches(
    record: OpportunityRecord, text: str, location: Location, cache: dict[str, str]
) -> bool:
    """Match the opportunity name and the contact's name, email and phone (not custom fields)."""
    if text in record.name.lower():
        return True
    contact_text = cache.get(record.contact_id)
    if contact_text is None:
        contact = location.contacts.get(record.contact_id)
        contact_text = contact.search_text() if contact is not None else ""
        cache[record.contact_id] = contact_text
    return text in contact_text


def _country_matches(record: OpportunityRecord, country: str, location: Location) -> bool:
    contact = location.contacts.get(record.contact_id)
    return contact is not None and (contact.country or "").lower() == country.lower()


def visible(rows: Iterable[OpportunityRecord], now: float) -> Iterator[OpportunityRecord]:
    """Yield the rows that searches can see at wall-clock time `now`."""
    return (record for record in rows if record.visible_at <= now)


def count_matches(location: Location, criteria: Criteria, now: float) -> int:
    """Return how many visible rows match, reusing a total while nothing changed."""
    index = location.opportunities
    hidden = index.hidden_count(now)
    if criteria.is_empty():
        return len(index) - hidden

    cache_key = attrs.astuple(criteria, filter=_cacheable)
    if hidden == 0 and cache_key in index.cached_totals:
        return index.cached_totals[cache_key]
    matcher = build_matcher(criteria, location)
    total = sum(1 for record in visible(index.newest_first(), now) if matcher(record))
    if hidden == 0:
        if len(index.cached_totals) >= TOTALS_CACHE_SIZE:
            index.cached_totals.clear()
        index.cached_totals[cache_key] = total
    return total


TOTALS_CACHE_SIZE = 256


def _cacheable(attribute: attrs.Attribute[Any], value: Any) -> bool:
    return attribute.name != "filters"


def date_sorted_page(
    location: Location,
    criteria: Criteria,
    *,
    now: float,
    limit: int,
    skip: int = 0,
    after: tuple[int, str] | None = None,
    ascending: bool = False,
) -> Page:
    """Return a page in creation order (newest first unless `ascending`), read from the index.

    `after` is a (createdAt ms, id) cursor, and the page starts with the row right after it.
    """
    index = location.opportunities
    ordered = index.oldest_first(after) if ascending else index.newest_first(after)
    matcher = build_matcher(criteria, location)
    matching = (record for record in visible(ordered, now) if matcher(record))
    records = list(itertools.islice(matching, skip, skip + limit))
    rows = [(record, [record.created_ms, record.id]) for record in records]
    return Page(rows=rows, total=count_matches(location, criteria, now))


def field_sorted_page(
    location: Location,
    criteria: Criteria,
    sort: Sequence[SortField],
    *,
    now: float,
    limit: int,
    skip: int = 0,
    after: Sequence[Any] | None = None,
) -> Page:
    """Return a page in an arbitrary sort order, at the cost of sorting all matches.

    Each row's sort value is its sort fields' values followed by its id. The
    id breaks ties in the direction of the first sort field.
    """
    matcher = build_matcher(criteria, location)
    matching = [
        record for record in visible(location.opportunities.newest_first(), now) if matcher(record)
    ]
    keyed = [(_sort_value(record, sort), record) for record in matching]
    directions = [field.descending for field in sort] + [sort[0].descending]

    def order(left: tuple[list[Any], OpportunityRecord], right: tuple[list[Any], Any]) -> int:
        return _compare(left[0], right[0], directions=directions)

    keyed.sort(key=functools.cmp_to_key(order))
    if after is not None:
        start = list(after)
        keyed = [item for item in keyed if _compare(item[0], start, directions=directions) > 0]
    selected = keyed[skip : skip + limit]
    rows = [(record, value) for value, record in selected]
    return Page(rows=rows, total=len(matching))


def _sort_value(record: OpportunityRecord, sort: Sequence[SortField]) -> list[Any]:
    return [SORT_VALUES[field.field](record) for field in sort] + [record.id]


def _compare(left: Sequence[Any], right: Sequence[Any], *, directions: Sequence[bool]) -> int:
    """Compare two sort values field by field, reversing the order of descending fields."""
    for left_value, right_value, descending in zip(left, right, directions, strict=False):
        if left_value == right_value:
            continue
        order = -1 if left_value < right_value else 1
        return -order if descending else order
    return 0


def is_creation_order(sort: Sequence[SortField]) -> bool:
    """Return whether `sort` is plain creation order, which the index serves directly."""
    return len(sort) == 1 and sort[0].field == "date_added"
