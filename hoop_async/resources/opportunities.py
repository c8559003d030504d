"""`client.opportunities`: one method per Opportunities endpoint.

Methods take snake_case keyword arguments, check them before anything is sent,
and build exactly the query keys and JSON bodies the API expects: GET search
spells some filters in snake_case and others in camelCase, the pipeline and
lost-reason lookups want `locationId`, and every JSON body is camelCase.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import attrs

from hoop_async._constants import (
    GET_SEARCH_MAX_LIMIT,
    LOST_REASONS_PAGE_LIMIT,
    POST_SEARCH_MAX_LIMIT,
)
from hoop_async._sentinel import NOT_GIVEN, NotGivenOr
from hoop_async.errors import InvalidRequestError
from hoop_async.models import (
    CustomFieldDefinition,
    CustomFieldValue,
    FollowersAdded,
    FollowersRemoved,
    LostReason,
    Opportunity,
    Pipeline,
    Status,
    UpsertResult,
    from_wire,
)
from hoop_async.resources._catalog import Catalog
from hoop_async.resources._checks import (
    check_custom_fields,
    check_id,
    check_lost_reason,
    check_monetary_value,
    check_status,
    check_text,
    check_user_ids,
)
from hoop_async.resources._wire import field_or_empty, list_field, query_value
from hoop_async.session import CallOptions, Session, client_timeout

if TYPE_CHECKING:
    from hoop_async.bulk import BulkRun, Progress
    from hoop_async.pagination import GetSearchCursor, PostSearchCursor
    from hoop_async.resources._search import GetSearch, PostSearch
    from hoop_async.resources._workflows import FollowersChange, Workflows

__all__ = ["Opportunities"]

CustomFields = Iterable[CustomFieldValue | Mapping[str, Any]]
StatusArg = Status | Literal["open", "won", "lost", "abandoned"]
SearchStatusArg = StatusArg | Literal["all"]


class Opportunities:
    """The Opportunities API of one client."""

    def __init__(
        self,
        session: Session,
        *,
        default_location_id: str | None = None,
        options: CallOptions | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self._session = session
        self._default_location_id = default_location_id
        self._options = options
        self.catalog = catalog or Catalog(self.pipelines, self.lost_reasons)
        """Pipelines, stages and lost reasons by name, cached per location."""
        self._workflows_instance: Workflows | None = None

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout | None = None,
        max_tries: int | None = None,
        max_time: float | None = None,
    ) -> Opportunities:
        """Return a view of this API whose calls use another timeout or retry limits.

        `timeout` is total seconds per request (or an aiohttp.ClientTimeout);
        `max_tries` and `max_time` override the client's RetryPolicy:

            await client.opportunities.with_options(timeout=5, max_tries=1).get(opportunity_id)
        """
        retry = self._options.retry if self._options and self._options.retry else None
        retry = retry or self._session.retry
        if max_tries is not None:
            retry = attrs.evolve(retry, max_tries=max_tries)
        if max_time is not None:
            retry = attrs.evolve(retry, max_time=max_time)
        current = self._options.timeout if self._options else None
        options = CallOptions(
            timeout=current if timeout is None else client_timeout(timeout), retry=retry
        )
        return Opportunities(
            self._session,
            default_location_id=self._default_location_id,
            options=options,
            catalog=self.catalog,
        )

    @property
    def _workflows(self) -> Workflows:
        # Imported on first use, because single calls never use the bulk runner.
        if self._workflows_instance is None:
            from hoop_async.resources._workflows import Workflows

            self._workflows_instance = Workflows(self)
        return self._workflows_instance

    def _request(self, method: str, path: str, **kwargs: Any) -> Awaitable[Any]:
        # A plain function returning the session's coroutine, so no frame of its
        # own stays on the await chain while the request runs.
        return self._session.request(method, path, options=self._options, **kwargs)

    # -- single records -------------------------------------------------------

    async def create(
        self,
        *,
        name: str,
        pipeline_id: str,
        contact_id: str,
        status: StatusArg = Status.OPEN,
        location_id: str | None = None,
        pipeline_stage_id: str | None = None,
        monetary_value: float | None = None,
        assigned_to: str | None = None,
        custom_fields: CustomFields | None = None,
    ) -> Opportunity:
        """Create an opportunity (POST /opportunities/).

        Raises DuplicateOpportunityError, carrying `existing_id`, when the location
        allows one opportunity per contact and the contact already has one.
        """
        body: dict[str, Any] = {
            "locationId": self._location(location_id),
            "pipelineId": check_id("pipeline_id", pipeline_id),
            "name": check_text("name", name),
            "status": check_status(status).value,
            "contactId": check_id("contact_id", contact_id),
        }
        body.update(
            _optional_fields(
                pipeline_stage_id=pipeline_stage_id,
                monetary_value=monetary_value,
                assigned_to=assigned_to,
                custom_fields=custom_fields,
            )
        )
        data = await self._request(
            "POST",
            "/opportunities/",
            json_body=body,
            location_id=body["locationId"],
            idempotent=False,
        )
        return _opportunity_from(data)

    async def get(self, opportunity_id: str) -> Opportunity:
        """Read one opportunity by id (GET /opportunities/{id})."""
        path = _record_path(opportunity_id)
        data = await self._request("GET", path, location_id=self._default_location_id)
        return _opportunity_from(data)

    async def update(
        self,
        opportunity_id: str,
        *,
        name: NotGivenOr[str] = NOT_GIVEN,
        pipeline_id: NotGivenOr[str] = NOT_GIVEN,
        pipeline_stage_id: NotGivenOr[str] = NOT_GIVEN,
        status: NotGivenOr[StatusArg] = NOT_GIVEN,
        monetary_value: NotGivenOr[float] = NOT_GIVEN,
        assigned_to: NotGivenOr[str | None] = NOT_GIVEN,
        custom_fields: NotGivenOr[CustomFields] = NOT_GIVEN,
    ) -> Opportunity:
        """Change the given fields of an opportunity (PUT /opportunities/{id}).

        Only arguments passed are sent. `assigned_to=None` sends null, which
        unassigns the opportunity; to zero the value pass `monetary_value=0`.
        """
        path = _record_path(opportunity_id)
        body = _update_body(
            name=name,
            pipeline_id=pipeline_id,
            pipeline_stage_id=pipeline_stage_id,
            status=status,
            monetary_value=monetary_value,
            assigned_to=assigned_to,
            custom_fields=custom_fields,
        )
        if not body:
            raise InvalidRequestError(
                "update", "no fields", "pass at least one field to change, e.g. name=..."
            )
        data = await self._request(
            "PUT", path, json_body=body, location_id=self._default_location_id
        )
        return _opportunity_from(data)

    async def delete(self, opportunity_id: str) -> None:
        """Delete an opportunity (DELETE /opportunities/{id})."""
        path = _record_path(opportunity_id)
        await self._request("DELETE", path, location_id=self._default_location_id)

    async def update_status(
        self,
        opportunity_id: str,
        status: StatusArg,
        *,
        lost_reason_id: str | None = None,
    ) -> None:
        """Set the status of an opportunity (PUT /opportunities/{id}/status).

        `lost_reason_id` is accepted only with status lost.
        """
        path = _record_path(opportunity_id) + "/status"
        checked = check_status(status)
        body: dict[str, Any] = {"status": checked.value}
        reason = check_lost_reason(checked, lost_reason_id)
        if reason is not None:
            body["lostReasonId"] = reason
        await self._request("PUT", path, json_body=body, location_id=self._default_location_id)

    async def upsert(
        self,
        *,
        pipeline_id: str,
        contact_id: str | None = None,
        opportunity_id: str | None = None,
        location_id: str | None = None,
        name: str | None = None,
        status: StatusArg | None = None,
        pipeline_stage_id: str | None = None,
        monetary_value: float | None = None,
        assigned_to: str | None = None,
        lost_reason_id: str | None = None,
    ) -> UpsertResult:
        """Create or update the opportunity of a contact in a pipeline (POST /opportunities/upsert).

        The API matches on `opportunity_id` when given, else on contact and
        pipeline, and overwrites the matched opportunity with the given fields.
        `result.created` is True when the upsert created a new one.
        """
        if contact_id is None and opportunity_id is None:
            raise InvalidRequestError(
                "contact_id", None, "pass contact_id (or opportunity_id) so the API can match"
            )
        checked_status = None if status is None else check_status(status)
        body: dict[str, Any] = {
            "locationId": self._location(location_id),
            "pipelineId": check_id("pipeline_id", pipeline_id),
        }
        if contact_id is not None:
            body["contactId"] = check_id("contact_id", contact_id)
        if opportunity_id is not None:
            body["id"] = check_id("opportunity_id", opportunity_id)
        if name is not None:
            body["name"] = check_text("name", name)
        if checked_status is not None:
            body["status"] = checked_status.value
        reason = check_lost_reason(checked_status, lost_reason_id)
        if reason is not None:
            body["lostReasonId"] = reason
        body.update(
            _optional_fields(
                pipeline_stage_id=pipeline_stage_id,
                monetary_value=monetary_value,
                assigned_to=assigned_to,
            )
        )
        data = await self._request(
            "POST", "/opportunities/upsert", json_body=body, location_id=body["locationId"]
        )
        return from_wire(data, UpsertResult)

    # -- followers ------------------------------------------------------------

    async def add_followers(self, opportunity_id: str, followers: Iterable[str]) -> FollowersAdded:
        """Add users as followers of an opportunity (POST /opportunities/{id}/followers)."""
        path = _record_path(opportunity_id) + "/followers"
        body = {"followers": check_user_ids("followers", followers)}
        data = await self._request(
            "POST", path, json_body=body, location_id=self._default_location_id
        )
        return from_wire(data, FollowersAdded)

    async def remove_followers(
        self,
        opportunity_id: str,
        followers: Iterable[str] = (),
        *,
        remove_all: bool = False,
    ) -> FollowersRemoved:
        """Remove followers of an opportunity, or all of them with `remove_all=True`.

        Sends DELETE /opportunities/{id}/followers; with `remove_all` the query
        carries `isRemoveAllFollowers=true` and the body an empty list.
        """
        path = _record_path(opportunity_id) + "/followers"
        if remove_all:
            if list(followers):
                raise InvalidRequestError(
                    "followers", followers, "leave followers empty when remove_all=True"
                )
            params = {"isRemoveAllFollowers": "true"}
            body: dict[str, Any] = {"followers": []}
        else:
            params = {}
            ids = check_user_ids(
                "followers", followers, when_empty=", or remove_all=True to remove every follower"
            )
            body = {"followers": ids}
        data = await self._request(
            "DELETE", path, params=params, json_body=body, location_id=self._default_location_id
        )
        return from_wire(data, FollowersRemoved)

    # -- lookups --------------------------------------------------------------

    async def pipelines(self, location_id: str | None = None) -> list[Pipeline]:
        """List the pipelines of a location with their stages (GET /opportunities/pipelines)."""
        params = {"locationId": self._location(location_id)}
        data = await self._request(
            "GET", "/opportunities/pipelines", params=params, location_id=params["locationId"]
        )
        return [from_wire(item, Pipeline) for item in list_field(data, "pipelines")]

    async def custom_fields(self, location_id: str | None = None) -> list[CustomFieldDefinition]:
        """List the location's custom fields of model opportunity.

        Calls GET /locations/{locationId}/customFields?model=opportunity, part of
        the Locations API, which needs the `locations/customFields.readonly` scope.
        Records name their custom fields by id only; the definitions map ids to keys.
        """
        location_id = self._location(location_id)
        path = f"/locations/{check_id('location_id', location_id)}/customFields"
        data = await self._request(
            "GET", path, params={"model": "opportunity"}, location_id=location_id
        )
        return [from_wire(item, CustomFieldDefinition) for item in list_field(data, "customFields")]

    async def lost_reasons(
        self,
        location_id: str | None = None,
        *,
        name: str | None = None,
        query: str | None = None,
        deleted: bool | None = None,
    ) -> list[LostReason]:
        """List the lost reasons of a location (GET /opportunities/lost-reason), every page."""
        base = {"locationId": self._location(location_id)}
        base.update(_optional_query(name=name, query=query, deleted=deleted))
        reasons: list[LostReason] = []
        while True:
            params = {**base, "limit": str(LOST_REASONS_PAGE_LIMIT), "skip": str(len(reasons))}
            data = await self._request(
                "GET", "/opportunities/lost-reason", params=params, location_id=base["locationId"]
            )
            rows = list_field(data, "lostReasons")
            reasons.extend(from_wire(item, LostReason) for item in rows)
            total = field_or_empty(data, "total")
            if len(rows) < LOST_REASONS_PAGE_LIMIT or (
                isinstance(total, (int, float)) and len(reasons) >= total
            ):
                return reasons

    # -- searches -------------------------------------------------------------

    def search(
        self,
        *,
        location_id: str | None = None,
        q: str | None = None,
        pipeline_id: str | None = None,
        pipeline_stage_id: str | None = None,
        contact_id: str | None = None,
        status: SearchStatusArg | None = None,
        assigned_to: str | None = None,
        campaign_id: str | None = None,
        opportunity_id: str | None = None,
        order: str | None = None,
        date: date | None = None,
        end_date: date | None = None,
        country: str | None = None,
        get_tasks: bool | None = None,
        get_notes: bool | None = None,
        get_calendar_events: bool | None = None,
        page_size: int = GET_SEARCH_MAX_LIMIT,
        start: GetSearchCursor | None = None,
        max_items: int | None = None,
        prefetch: int = 1,
    ) -> GetSearch:
        """Search opportunities (GET /opportunities/search), newest first, every page.

        `date` and `end_date` filter on creation day, both inclusive. `start`
        resumes from a page's `next_cursor`. `prefetch` is how many pages are
        requested ahead while the caller works (0: none). Arguments are checked
        here, before the first page is requested.
        """
        # The search iterators load on the first search, because single calls never use them.
        from hoop_async.resources._search import get_search

        filters: dict[str, Any] = {
            "location_id": self._location(location_id),
            "q": q,
            "pipeline_id": pipeline_id,
            "pipeline_stage_id": pipeline_stage_id,
            "contact_id": contact_id,
            "status": status,
            "assigned_to": assigned_to,
            "campaign_id": campaign_id,
            "opportunity_id": opportunity_id,
            "order": order,
            "date": date,
            "end_date": end_date,
            "country": country,
            "get_tasks": get_tasks,
            "get_notes": get_notes,
            "get_calendar_events": get_calendar_events,
        }
        return get_search(
            self._request,
            filters,
            page_size=page_size,
            start=start,
            max_items=max_items,
            prefetch=prefetch,
        )

    def search_advanced(
        self,
        *,
        location_id: str | None = None,
        query: str | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        sort: Sequence[Mapping[str, Any]] | None = None,
        additional_details: Mapping[str, bool] | None = None,
        page_size: int = POST_SEARCH_MAX_LIMIT,
        start: PostSearchCursor | None = None,
        max_items: int | None = None,
        prefetch: int = 1,
    ) -> PostSearch:
        """Search opportunities (POST /opportunities/search), every page.

        `filters` and `sort` are sent as given, in the API's own shape, on every
        page. Paging switches from `page` to `searchAfter` past the API's
        10,000-record window. A `sort` on a field other than date_added makes
        the iterator remember every id it yields (about 110 bytes per record).
        """
        from hoop_async.resources._search import post_search

        body: dict[str, Any] = {"locationId": self._location(location_id)}
        if query is not None:
            body["query"] = query
        if filters is not None:
            body["filters"] = _check_mappings("filters", filters)
        if sort is not None:
            body["sort"] = _check_mappings("sort", sort)
        if additional_details is not None:
            body["additionalDetails"] = dict(additional_details)
        return post_search(
            self._request,
            body,
            page_size=page_size,
            start=start,
            max_items=max_items,
            prefetch=prefetch,
        )

    # -- several calls --------------------------------------------------------

    def bulk_upsert(
        self,
        records: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> BulkRun[Opportunity]:
        """Upsert many records, `concurrency` at a time; await the run for its report.

        Each record is a mapping of `upsert` arguments (`pipeline_id`,
        `contact_id`, `name`, ...), or `pipeline_name` and `stage_name` in
        place of ids. Every record ends as one result, in input order:
        "created", "updated" or "failed" with its error.
        """
        return self._workflows.bulk_upsert(
            records,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    def bulk_update_status(
        self,
        opportunity_ids: Iterable[str] | AsyncIterable[str],
        status: StatusArg,
        *,
        lost_reason: str | None = None,
        location_id: str | None = None,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> BulkRun[None]:
        """Set one status on many opportunities: won, lost, abandoned, or open to reopen.

        `lost_reason` (with status lost) is a lost reason's name or id.
        """
        return self._workflows.bulk_update_status(
            opportunity_ids,
            status,
            lost_reason=lost_reason,
            location_id=location_id,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    def bulk_add_followers(
        self,
        changes: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> BulkRun[tuple[str, ...]]:
        """Add followers to many opportunities; each input is `(opportunity_id, user_ids)`."""
        return self._workflows.bulk_followers(
            changes,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    def bulk_remove_followers(
        self,
        changes: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 10,
        stop_on_failure: bool = False,
        on_progress: Callable[[Progress], object] | None = None,
    ) -> BulkRun[tuple[str, ...]]:
        """Remove followers from many opportunities; each input is `(opportunity_id, user_ids)`."""
        return self._workflows.bulk_followers(
            changes,
            remove=True,
            concurrency=concurrency,
            stop_on_failure=stop_on_failure,
            on_progress=on_progress,
        )

    async def set_followers(self, opportunity_id: str, user_ids: Iterable[str]) -> FollowersChange:
        """Make `user_ids` the followers: read the current ones and send only the difference."""
        return await self._workflows.set_followers(opportunity_id, user_ids)

    async def move_to_stage(
        self, opportunity_id: str, *, pipeline: str, stage: str, location_id: str | None = None
    ) -> Opportunity:
        """Move an opportunity to a stage given by pipeline name and stage name.

        Raises NameNotFoundError listing the names that exist when either is unknown.
        """
        return await self._workflows.move_to_stage(
            opportunity_id, pipeline=pipeline, stage=stage, location_id=location_id
        )

    async def find_or_create(self, **fields: Any) -> UpsertResult:
        """Create an opportunity, or reopen and update the contact's existing one.

        Takes the arguments of `create`. When the location allows one
        opportunity per contact, the duplicate error's existing id is read,
        reopened and updated with the given fields. `created` is False in that case.
        """
        return await self._workflows.find_or_create(**fields)

    # -- helpers --------------------------------------------------------------

    def location_of(self, location_id: str | None) -> str:
        """Return `location_id`, or the client's default location when it is None."""
        return self._location(location_id)

    def _location(self, location_id: str | None) -> str:
        if location_id is None:
            location_id = self._default_location_id
        if location_id is None:
            raise InvalidRequestError(
                "location_id",
                None,
                "pass location_id=... or create the client with HoopClient(location_id=...)",
            )
        return check_id("location_id", location_id)


def _record_path(opportunity_id: str) -> str:
    return "/opportunities/" + check_id("opportunity_id", opportunity_id)


def _opportunity_from(data: Any) -> Opportunity:
    record = data.get("opportunity") if isinstance(data, dict) else None
    return from_wire(record, Opportunity)


def _optional_fields(
    *,
    pipeline_stage_id: str | None = None,
    monetary_value: float | None = None,
    assigned_to: str | None = None,
    custom_fields: CustomFields | None = None,
) -> dict[str, Any]:
    """Body keys for the optional fields of create and upsert that were given."""
    fields: dict[str, Any] = {}
    if pipeline_stage_id is not None:
        fields["pipelineStageId"] = check_id("pipeline_stage_id", pipeline_stage_id)
    if monetary_value is not None:
        fields["monetaryValue"] = check_monetary_value(monetary_value)
    if assigned_to is not None:
        fields["assignedTo"] = check_id("assigned_to", assigned_to)
    if custom_fields is not None:
        fields["customFields"] = check_custom_fields(custom_fields)
    return fields


def _update_body(
    *,
    name: NotGivenOr[str],
    pipeline_id: NotGivenOr[str],
    pipeline_stage_id: NotGivenOr[str],
    status: NotGivenOr[StatusArg],
    monetary_value: NotGivenOr[float],
    assigned_to: NotGivenOr[str | None],
    custom_fields: NotGivenOr[CustomFields],
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if name is not NOT_GIVEN:
        body["name"] = check_text("name", name)
    if pipeline_id is not NOT_GIVEN:
        body["pipelineId"] = check_id("pipeline_id", pipeline_id)
    if pipeline_stage_id is not NOT_GIVEN:
        body["pipelineStageId"] = check_id("pipeline_stage_id", pipeline_stage_id)
    if status is not NOT_GIVEN:
        body["status"] = check_status(status).value
    if monetary_value is not NOT_GIVEN:
        body["monetaryValue"] = check_monetary_value(monetary_value)
    if assigned_to is not NOT_GIVEN:
        body["assignedTo"] = None if assigned_to is None else check_id("assigned_to", assigned_to)
    if custom_fields is not NOT_GIVEN:
        body["customFields"] = check_custom_fields(custom_fields)
    return body


def _check_mappings(field: str, values: object) -> list[Any]:
    """Return `values` as a list of JSON objects, as the API wants `filters` and `sort`."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidRequestError(
            field, values, 'expected a list of objects, e.g. [{"field": ..., ...}]'
        )
    items = list(values)
    if not all(isinstance(item, Mapping) for item in items):
        raise InvalidRequestError(field, items, "expected every item to be an object (a mapping)")
    return items


def _optional_query(**values: str | bool | None) -> dict[str, str]:
    return {key: query_value(value) for key, value in values.items() if value is not None}
