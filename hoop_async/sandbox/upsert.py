"""Handler of POST /opportunities/upsert: match a card by id, else by contact and
pipeline, then overwrite the given fields or create the card.
"""

from __future__ import annotations

from aiohttp import web

from hoop_async.sandbox import bodies, operations, responses
from hoop_async.sandbox.context import authorize_location, origin_of, read_json_object, state_of
from hoop_async.sandbox.records import OpportunityRecord
from hoop_async.sandbox.render import opportunity_json
from hoop_async.sandbox.store import Location, SandboxState


async def upsert_opportunity(request: web.Request) -> web.Response:
    """POST /opportunities/upsert: 200 with `{opportunity, new}`, where `new` is true on creation.

    An `id` that matches no card of the location is a 404. Without `id`, the
    newest card of contactId in pipelineId is updated. Creating needs
    contactId. The name defaults to the contact's name and the status to open.
    """
    body = await read_json_object(request)
    authorize_location(request, body.get("locationId"))
    upsert = bodies.validate_upsert(body)
    state = state_of(request)
    location = state.api_location(upsert.location_id)

    record = _match(state, location, upsert)
    _check_lost_reason(upsert, record)
    created = record is None
    if record is None:
        record = _create(state, location, upsert, request)
    else:
        _update(state, location, record, upsert)
    _apply_followers(record, upsert)
    body_out = {"opportunity": opportunity_json(record, location), "new": created}
    return responses.ok(body_out)


def _match(
    state: SandboxState, location: Location, upsert: bodies.UpsertRequest
) -> OpportunityRecord | None:
    if upsert.opportunity_id is not None:
        record = state.find_opportunity(upsert.opportunity_id)
        if record is None or record.location_id != location.id:
            raise responses.opportunity_not_found()
        return record
    if upsert.contact_id is None:
        raise responses.unprocessable(["contactId must be a string"])
    return operations.find_upsert_match(location, upsert.contact_id, upsert.pipeline_id)


def _check_lost_reason(upsert: bodies.UpsertRequest, record: OpportunityRecord | None) -> None:
    """Reject lostReasonId unless the card ends up lost."""
    if "lost_reason_id" not in upsert.changes:
        return
    current = record.status if record is not None else "open"
    if upsert.changes.get("status", current) != "lost":
        raise responses.unprocessable([bodies.LOST_REASON_NEEDS_LOST])


def _create(
    state: SandboxState, location: Location, upsert: bodies.UpsertRequest, request: web.Request
) -> OpportunityRecord:
    assert upsert.contact_id is not None
    contact = operations.require_contact(location, upsert.contact_id)
    changes = upsert.changes
    fields = operations.NewOpportunity(
        name=changes.get("name", contact.name),
        pipeline_id=upsert.pipeline_id,
        contact_id=contact.id,
        pipeline_stage_id=changes.get("pipeline_stage_id"),
        status=changes.get("status", "open"),
        monetary_value=changes.get("monetary_value", 0),
        assigned_to=changes.get("assigned_to"),
        lost_reason_id=changes.get("lost_reason_id"),
    )
    return operations.create_opportunity(
        state, location, fields, origin_of(request), check_duplicates=True
    )


def _update(
    state: SandboxState,
    location: Location,
    record: OpportunityRecord,
    upsert: bodies.UpsertRequest,
) -> None:
    changes = dict(upsert.changes)
    changes["pipeline_id"] = upsert.pipeline_id
    if upsert.contact_id is not None:
        changes["contact_id"] = upsert.contact_id
    operations.update_opportunity(state, location, record, changes)


def _apply_followers(record: OpportunityRecord, upsert: bodies.UpsertRequest) -> None:
    if upsert.remove_all_followers:
        operations.remove_followers(record, [], remove_all=True)
    if not upsert.followers:
        return
    if upsert.followers_action == "remove":
        operations.remove_followers(record, upsert.followers, remove_all=False)
    else:
        operations.add_followers(record, upsert.followers)
