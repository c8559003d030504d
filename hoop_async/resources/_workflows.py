"""Work built from several Opportunities calls: bulk upserts, followers, deal moves by name.

Each bulk operation turns one input into one call and reports an outcome per
input through the bulk runner. Single-record helpers (`set_followers`,
`move_to_stage`, `find_or_create`) read first and send only what changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hoop_async.bulk import BulkRun, Progress
from hoop_async.errors import DuplicateOpportunityError, HoopError, InvalidRequestError
from hoop_async.models import Opportunity, Status, UpsertResult
from hoop_async.resources._checks import check_status, check_user_ids

if TYPE_CHECKING:
    from hoop_async.resources.opportunities import Opportunities

__all__ = ["FollowersChange", "Workflows"]

Inputs = Iterable[Any] | AsyncIterable[Any]
ProgressCallback = Callable[[Progress], object] | None

# Keys an upsert record may carry: the keyword arguments of Opportunities.upsert,
# plus pipeline and stage by name.
UPSERT_KEYS = frozenset(
    {
        "pipeline_id",
        "contact_id",
        "opportunity_id",
        "location_id",
        "name",
        "status",
        "pipeline_stage_id",
        "monetary_value",
        "assigned_to",
        "lost_reason_id",
        "pipeline_name",
        "stage_name",
    }
)


# Fields of a create that find_or_create writes onto the existing opportunity.
_REOPEN_FIELDS = ("name", "pipeline_stage_id", "monetary_value", "assigned_to", "custom_fields")


@attrs.frozen(kw_only=True)
class FollowersChange:
    """Followers after `set_followers`, and the user ids it added and removed."""

    followers: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class Workflows:
    """Multi-call helpers over one Opportunities API."""

    def __init__(self, api: Opportunities) -> None:
        self._api = api

    # -- bulk -----------------------------------------------------------------

    def bulk_upsert(
        self,
        records: Inputs,
        *,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: ProgressCallback = None,
    ) -> BulkRun[Opportunity]:
        async def upsert(record: Any) -> tuple[str, Opportunity]:
            result = await self._api.upsert(**await self._upsert_arguments(record))
            return ("created" if result.created else "updated"), result.opportunity

        return BulkRun(
            records,
            upsert,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    async def _upsert_arguments(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise InvalidRequestError("record", record, "expected a mapping of upsert fields")
        unknown = sorted(set(record) - UPSERT_KEYS)
        if unknown:
            allowed = ", ".join(sorted(UPSERT_KEYS))
            raise InvalidRequestError(
                "record", dict(record), f"unknown keys {unknown}; use {allowed}"
            )
        arguments = dict(record)
        pipeline_name = arguments.pop("pipeline_name", None)
        stage_name = arguments.pop("stage_name", None)
        if pipeline_name is not None:
            location_id = self._api.location_of(arguments.get("location_id"))
            catalog = self._api.catalog
            if stage_name is None:
                arguments["pipeline_id"] = (await catalog.pipeline(location_id, pipeline_name)).id
            else:
                pipeline, stage = await catalog.stage(location_id, pipeline_name, stage_name)
                arguments["pipeline_id"] = pipeline.id
                arguments["pipeline_stage_id"] = stage.id
        elif stage_name is not None:
            raise InvalidRequestError("stage_name", stage_name, "give pipeline_name with it")
        if "pipeline_id" not in arguments:
            raise InvalidRequestError("pipeline_id", None, "give pipeline_id or pipeline_name")
        return arguments

    def bulk_update_status(
        self,
        opportunity_ids: Inputs,
        status: Status | str,
        *,
        lost_reason: str | None = None,
        location_id: str | None = None,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: ProgressCallback = None,
    ) -> BulkRun[None]:
        """Set one status on many opportunities: won, lost (with a lost reason by name
        or id), abandoned, or open to reopen them."""
        checked = check_status(status)
        if lost_reason is not None and checked is not Status.LOST:
            raise InvalidRequestError(
                "lost_reason",
                lost_reason,
                f"a lost reason goes only with status='lost', not {checked}",
            )
        lost_reason_id = _Once(self._lost_reason_resolver(lost_reason, location_id))

        async def update(opportunity_id: Any) -> tuple[str, None]:
            reason_id = await lost_reason_id()
            await self._api.update_status(opportunity_id, checked, lost_reason_id=reason_id)
            return "updated", None

        return BulkRun(
            opportunity_ids,
            update,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    def _lost_reason_resolver(
        self, lost_reason: str | None, location_id: str | None
    ) -> Callable[[], Awaitable[str | None]]:
        async def resolve() -> str | None:
            if lost_reason is None:
                return None
            location = self._api.location_of(location_id)
            return await self._api.catalog.lost_reason_id(location, lost_reason)

        return resolve

    def bulk_followers(
        self,
        changes: Inputs,
        *,
        remove: bool = False,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: ProgressCallback = None,
    ) -> BulkRun[tuple[str, ...]]:
        """Add (or with `remove=True` remove) followers; each input is
        `(opportunity_id, user_ids)` or `{"opportunity_id": ..., "followers": [...]}`."""

        async def change(item: Any) -> tuple[str, tuple[str, ...]]:
            opportunity_id, user_ids = _followers_input(item)
            if remove:
                removed = await self._api.remove_followers(opportunity_id, user_ids)
                changed = removed.followers_removed
            else:
                added = await self._api.add_followers(opportunity_id, user_ids)
                changed = added.followers_added
            return ("updated" if changed else "unchanged"), changed

        return BulkRun(
            changes,
            change,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    # -- single records -------------------------------------------------------

    async def set_followers(self, opportunity_id: str, user_ids: Iterable[str]) -> FollowersChange:
        wanted = check_user_ids("user_ids", user_ids, allow_empty=True)
        current = (await self._api.get(opportunity_id)).followers
        current_ids = [str(user) for user in current]
        to_add = [user for user in dict.fromkeys(wanted) if user not in current_ids]
        to_remove = [user for user in current_ids if user not in wanted]

        followers: tuple[str, ...] = tuple(current_ids)
        if to_add:
            followers = (await self._api.add_followers(opportunity_id, to_add)).followers
        if to_remove:
            followers = (await self._api.remove_followers(opportunity_id, to_remove)).followers
        return FollowersChange(followers=followers, added=tuple(to_add), removed=tuple(to_remove))

    async def move_to_stage(
        self,
        opportunity_id: str,
        *,
        pipeline: str,
        stage: str,
        location_id: str | None = None,
    ) -> Opportunity:
        location = self._api.location_of(location_id)
        found_pipeline, found_stage = await self._api.catalog.stage(location, pipeline, stage)
        return await self._api.update(
            opportunity_id, pipeline_id=found_pipeline.id, pipeline_stage_id=found_stage.id
        )

    async def find_or_create(self, **fields: Any) -> UpsertResult:
        try:
            created = await self._api.create(**fields)
        except DuplicateOpportunityError as duplicate:
            if not duplicate.existing_id:
                raise
            return await self._reopen(duplicate.existing_id, fields)
        return UpsertResult(opportunity=created, created=True)

    async def _reopen(self, opportunity_id: str, fields: Mapping[str, Any]) -> UpsertResult:
        existing = await self._api.get(opportunity_id)
        if existing.status is not Status.OPEN:
            await self._api.update_status(opportunity_id, Status.OPEN)
        changes = {
            key: fields[key]
            for key in (
                "name",
                "pipeline_stage_id",
                "monetary_value",
                "assigned_to",
                "custom_fields",
            )
            if fields.get(key) is not None
        }
        if fields.get("pipeline_id") and fields["pipeline_id"] != existing.pipeline_id:
            changes["pipeline_id"] = fields["pipeline_id"]

        updated = existing
        if changes:
            updated = await self._api.update(opportunity_id, **changes)
        elif existing.status is not Status.OPEN:
            updated = await self._api.get(opportunity_id)
        return UpsertResult(opportunity=updated, created=False)


class _Once:
    """Run a lookup once on first call; later calls get its result or its error again."""

    def __init__(self, lookup: Callable[[], Awaitable[str | None]]) -> None:
        self._lookup = lookup
        self._lock = asyncio.Lock()
        self._done = False
        self._value: str | None = None
        self._error: HoopError | None = None

    async def __call__(self) -> str | None:
        async with self._lock:
            if not self._done:
                try:
                    self._value = await self._lookup()
                except HoopError as error:
                    self._error = error
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value


def _followers_input(item: Any) -> tuple[str, list[str]]:
    if isinstance(item, Mapping):
        opportunity_id, user_ids = item.get("opportunity_id"), item.get("followers")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        opportunity_id, user_ids = item
    else:
        raise InvalidRequestError(
            "followers input", item, "expected (opportunity_id, user_ids) or a mapping"
        )
    if not isinstance(opportunity_id, str):
        raise InvalidRequestError("opportunity_id", opportunity_id, "expected an id string")
    return opportunity_id, check_user_ids("followers", user_ids)
