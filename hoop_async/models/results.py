"""Results of upserts and follower changes, and the metadata of search pages."""

from __future__ import annotations

from typing import Any

import attrs

from hoop_async.models._converter import WIRE_NAME
from hoop_async.models.opportunity import Opportunity

__all__ = ["FollowersAdded", "FollowersRemoved", "SearchMeta", "UpsertResult"]

# The GET search cursor value: epoch milliseconds, sent by the API as a number or
# a string. It is echoed back exactly as received, so it is never converted.
CursorValue = int | str


@attrs.frozen(kw_only=True)
class UpsertResult:
    """The opportunity an upsert wrote, and whether the upsert created it."""

    opportunity: Opportunity
    created: bool = attrs.field(default=False, metadata={WIRE_NAME: "new"})
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class FollowersAdded:
    """Followers of an opportunity after an add, and the ones the call added."""

    followers: tuple[str, ...] = ()
    followers_added: tuple[str, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class FollowersRemoved:
    """Followers of an opportunity after a removal, and the ones the call removed."""

    followers: tuple[str, ...] = ()
    followers_removed: tuple[str, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class SearchMeta:
    """The `meta` object of a GET search page.

    `total` is approximate and `next_page_url` drops filters, so neither decides
    where paging stops; the `start_after` and `start_after_id` pair does.
    """

    total: int | None = None
    start_after: CursorValue | None = None
    start_after_id: str | None = None
    next_page_url: str | None = None
    current_page: int | None = None
    next_page: int | None = None
    prev_page: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
