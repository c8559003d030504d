"""Test hooks that run after each search page is built: a test inserts, moves or
deletes records there, so the change lands between two page requests of an
iterator. `Sandbox.on_search_page` registers them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from hoop_async.sandbox import operations, seed
from hoop_async.sandbox.responses import ApiError
from hoop_async.sandbox.store import Location, SandboxState
from hoop_async.sandbox.times import datetime_to_ms

__all__ = ["SearchPageHook", "SearchPageServed", "add_hook", "page_served"]


@attrs.define(kw_only=True)
class SearchPageServed:
    """A search page the sandbox has built and not yet sent, with helpers to change the store.

    The hook runs before the response leaves, so a client cannot request the
    next page before the change is made.
    """

    method: str
    """"GET" or "POST"."""
    location_id: str
    request: Mapping[str, Any]
    """The GET query or the POST body, as received."""
    ids: tuple[str, ...]
    """Ids of the page's rows, in order."""
    number: int
    """Count of search pages served since the first hook was added, this one included."""
    _state: SandboxState = attrs.field(alias="state", repr=False)

    def insert(
        self, count: int = 1, *, created_at: datetime | None = None, spacing_seconds: float = 1.0
    ) -> list[str]:
        """Store `count` opportunities, the newest created at `created_at` (default now).

        Returns their ids, newest first. See `Sandbox.add_opportunities_bulk`.
        """
        return seed.add_opportunities_bulk(
            self._state,
            self.location_id,
            count,
            newest_ms=None if created_at is None else datetime_to_ms(created_at),
            spacing_seconds=spacing_seconds,
            name_prefix="Inserted",
        )

    def delete(self, opportunity_id: str) -> None:
        """Delete an opportunity of this location, or raise ValueError if there is none."""
        location = self._location()
        record = location.opportunities.get(opportunity_id)
        if record is None:
            raise ValueError(f"location {location.id} has no opportunity {opportunity_id!r}")
        operations.delete_opportunity(self._state, location, record)

    def update(self, opportunity_id: str, **changes: Any) -> None:
        """Change record attributes (such as pipeline_stage_id or monetary_value) as PUT does.

        The update stamps updatedAt, so it moves the record in a date_updated order.
        Raises ValueError for an unknown id or a change the API would reject.
        """
        location = self._location()
        record = location.opportunities.get(opportunity_id)
        if record is None:
            raise ValueError(f"location {location.id} has no opportunity {opportunity_id!r}")
        try:
            operations.update_opportunity(self._state, location, record, changes)
        except ApiError as error:
            raise ValueError(error.message_text) from error

    def _location(self) -> Location:
        return self._state.location(self.location_id)


SearchPageHook = Callable[[SearchPageServed], None]


@attrs.define
class _Hooks:
    callbacks: list[SearchPageHook] = attrs.field(factory=list)
    served: int = 0


# Hooks per sandbox state; an entry goes away with its state.
_HOOKS: weakref.WeakKeyDictionary[SandboxState, _Hooks] = weakref.WeakKeyDictionary()


def add_hook(state: SandboxState, callback: SearchPageHook) -> Callable[[], None]:
    """Register `callback` for every search page of `state`; return a function that removes it."""
    hooks = _HOOKS.setdefault(state, _Hooks())
    hooks.callbacks.append(callback)

    def remove() -> None:
        if callback in hooks.callbacks:
            hooks.callbacks.remove(callback)

    return remove


def page_served(
    state: SandboxState,
    *,
    method: str,
    location_id: str,
    request: Mapping[str, Any],
    ids: tuple[str, ...],
) -> None:
    """Count a built search page and run the registered hooks on it, in registration order.

    An exception from a hook propagates, and the request then fails with 500.
    """
    hooks = _HOOKS.get(state)
    if hooks is None:
        return
    hooks.served += 1
    served = SearchPageServed(
        method=method,
        location_id=location_id,
        request=request,
        ids=ids,
        number=hooks.served,
        state=state,
    )
    for callback in list(hooks.callbacks):
        callback(served)
