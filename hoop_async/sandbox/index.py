"""Per-location opportunity storage, ordered for cheap newest-first pages.

Records are kept in a list of (createdAt ms, id) keys sorted with bisect, so a
cursor page starts in O(log n) and costs O(page) plus the filter work.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Iterator

from hoop_async.sandbox.records import OpportunityRecord

SortKey = tuple[int, str]


class OpportunityIndex:
    """Opportunities of one location, by id, by contact and in creation order."""

    def __init__(self) -> None:
        self._keys: list[SortKey] = []
        self._records: dict[str, OpportunityRecord] = {}
        self._by_contact: dict[str, dict[str, None]] = {}
        self._pending: dict[str, float] = {}
        self.cached_totals: dict[tuple[object, ...], int] = {}
        """Search totals by criteria, emptied on every change."""

    def __len__(self) -> int:
        return len(self._records)

    def get(self, opportunity_id: str) -> OpportunityRecord | None:
        """Return the record with this id, or None."""
        return self._records.get(opportunity_id)

    def add(self, record: OpportunityRecord) -> None:
        """Insert one record at its place in creation order."""
        bisect.insort(self._keys, record.sort_key)
        self._register(record)
        self.mark_changed(record)

    def extend(self, records: Iterable[OpportunityRecord]) -> None:
        """Insert many records with one sort at the end (bulk seeding)."""
        for record in records:
            self._keys.append(record.sort_key)
            self._register(record)
            self._track_pending(record)
        self._keys.sort()
        self._changed()

    def remove(self, record: OpportunityRecord) -> None:
        """Delete a record from every view of the index."""
        position = bisect.bisect_left(self._keys, record.sort_key)
        del self._keys[position]
        del self._records[record.id]
        self._by_contact[record.contact_id].pop(record.id, None)
        self._pending.pop(record.id, None)
        self._changed()

    def move_contact(self, record: OpportunityRecord, contact_id: str) -> None:
        """Change the contact of a record and its entry in the by-contact view."""
        self._by_contact[record.contact_id].pop(record.id, None)
        record.contact_id = contact_id
        self._by_contact.setdefault(contact_id, {})[record.id] = None

    def mark_changed(self, record: OpportunityRecord) -> None:
        """Record that `record` changed, so totals are recounted and lag is tracked."""
        self._track_pending(record)
        self._changed()

    def for_contact(self, contact_id: str) -> list[OpportunityRecord]:
        """Return the contact's records, oldest first."""
        ids = self._by_contact.get(contact_id, {})
        records = [self._records[opportunity_id] for opportunity_id in ids]
        records.sort(key=lambda record: record.sort_key)
        return records

    def newest_first(self, after: SortKey | None = None) -> Iterator[OpportunityRecord]:
        """Yield records by (createdAt, id) descending, strictly after `after` if given."""
        start = len(self._keys) if after is None else bisect.bisect_left(self._keys, after)
        for position in range(start - 1, -1, -1):
            yield self._records[self._keys[position][1]]

    def oldest_first(self, after: SortKey | None = None) -> Iterator[OpportunityRecord]:
        """Yield records by (createdAt, id) ascending, strictly after `after` if given."""
        start = 0 if after is None else bisect.bisect_right(self._keys, after)
        for position in range(start, len(self._keys)):
            yield self._records[self._keys[position][1]]

    def hidden_count(self, now: float) -> int:
        """Return how many records searches cannot see yet at wall-clock time `now`."""
        expired = [key for key, visible_at in self._pending.items() if visible_at <= now]
        for key in expired:
            del self._pending[key]
        return len(self._pending)

    def _changed(self) -> None:
        self.cached_totals.clear()

    def _register(self, record: OpportunityRecord) -> None:
        self._records[record.id] = record
        self._by_contact.setdefault(record.contact_id, {})[record.id] = None

    def _track_pending(self, record: OpportunityRecord) -> None:
        if record.visible_at > time.time():
            self._pending[record.id] = record.visible_at
        else:
            self._pending.pop(record.id, None)
