"""The JSON shapes of stored entities, as the live API returns them: opportunity
rows with their contact summary and relations, pipelines, lost reasons.
"""

from __future__ import annotations

from typing import Any

from hoop_async.sandbox.records import (
    Contact,
    CustomFieldDefinition,
    LostReason,
    OpportunityRecord,
    Pipeline,
)
from hoop_async.sandbox.store import Location
from hoop_async.sandbox.times import iso_ms

CONTACT_ASSOCIATION = "OPPORTUNITIES_CONTACTS_ASSOCIATION"


def contact_summary(contact: Contact) -> dict[str, Any]:
    """Return the `contact` object embedded in an opportunity row."""
    return {
        "id": contact.id,
        "name": contact.name,
        "companyName": contact.company_name,
        "email": contact.email,
        "phone": contact.phone,
        "tags": list(contact.tags),
    }


def contact_relation(record: OpportunityRecord, contact: Contact) -> dict[str, Any]:
    """Return the primary contact entry of an opportunity's `relations`."""
    return {
        "associationId": CONTACT_ASSOCIATION,
        "relationId": record.id,
        "primary": True,
        "objectKey": "contact",
        "recordId": contact.id,
        "fullName": contact.name,
        "contactName": contact.name,
        "companyName": contact.company_name,
        "email": contact.email,
        "phone": contact.phone,
        "tags": list(contact.tags),
        "attributed": True,
    }


def opportunity_json(
    record: OpportunityRecord, location: Location, *, sort: list[Any] | None = None
) -> dict[str, Any]:
    """Return an opportunity row, with `sort` added for search rows."""
    row: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "monetaryValue": record.monetary_value,
        "pipelineId": record.pipeline_id,
        "pipelineStageId": record.pipeline_stage_id,
        "pipelineStageUId": record.pipeline_stage_id,
        "assignedTo": record.assigned_to,
        "status": record.status,
        "source": record.source,
        "lastStatusChangeAt": iso_ms(record.last_status_change_ms),
        "lastStageChangeAt": iso_ms(record.last_stage_change_ms),
        "lastActionDate": iso_ms(record.last_action_ms),
        "createdAt": iso_ms(record.created_ms),
        "updatedAt": iso_ms(record.updated_ms),
        "indexVersion": record.index_version,
        "contactId": record.contact_id,
        "locationId": record.location_id,
        "customFields": [dict(field) for field in record.custom_fields],
        "lostReasonId": record.lost_reason_id,
        "followers": list(record.followers),
        "isAttribute": False,
        "internalSource": dict(record.internal_source),
    }
    _add_contact(row, record, location.contacts.get(record.contact_id))
    if sort is not None:
        row["sort"] = sort
    row["attributions"] = [dict(item) for item in record.attributions]
    return row


def _add_contact(row: dict[str, Any], record: OpportunityRecord, contact: Contact | None) -> None:
    if contact is None:
        row["relations"] = []
        row["contact"] = {"id": record.contact_id}
        return
    row["relations"] = [contact_relation(record, contact)]
    row["contact"] = contact_summary(contact)


def stage_win_probability(position: int, stage_count: int) -> float:
    """Return the default win probability of a stage: evenly spread below 100 %."""
    return round((position + 1) * 100 / (stage_count + 1), 2)


def pipeline_json(pipeline: Pipeline) -> dict[str, Any]:
    """Return a pipeline as GET /opportunities/pipelines lists it."""
    stage_count = len(pipeline.stages)
    stages = [
        {
            "id": stage.id,
            "name": stage.name,
            "showInFunnel": True,
            "showInPieChart": True,
            "position": stage.position,
            "stageWinProbability": stage_win_probability(stage.position, stage_count),
        }
        for stage in pipeline.stages
    ]
    return {
        "id": pipeline.id,
        "name": pipeline.name,
        "showInFunnel": True,
        "showInPieChart": True,
        "useOpportunityProbability": False,
        "dateAdded": iso_ms(pipeline.created_ms),
        "dateUpdated": iso_ms(pipeline.created_ms),
        "stages": stages,
        "locationId": pipeline.location_id,
        "position": pipeline.position,
    }


def lost_reason_json(reason: LostReason) -> dict[str, Any]:
    """Return a lost reason as GET /opportunities/lost-reason lists it."""
    return {
        "id": reason.id,
        "name": reason.name,
        "locationId": reason.location_id,
        "createdAt": iso_ms(reason.created_ms),
        "updatedAt": iso_ms(reason.created_ms),
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    """Return a contact as the seeding API lists it (the embedded summary shape)."""
    return contact_summary(contact)


def custom_field_json(field: CustomFieldDefinition) -> dict[str, Any]:
    """Return a custom field definition as GET /locations/{locationId}/customFields lists it."""
    return {
        "id": field.id,
        "name": field.name,
        "fieldKey": f"opportunity.{field.key}",
        "placeholder": "",
        "dataType": field.data_type,
        "position": field.position,
        "locationId": field.location_id,
        "model": "opportunity",
    }
