"""POST /opportunities/upsert: match by id or by contact and pipeline, then
overwrite or create, with `new` true on creation."""

from __future__ import annotations

from .api import Api

UPSERT = "/opportunities/upsert"


def _upsert_body(api: Api, contact_id: str, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "locationId": api.location_id,
        "pipelineId": api.pipeline()["id"],
        "contactId": contact_id,
    }
    body.update(fields)
    return body


async def test_upsert_creates_when_no_match(api: Api) -> None:
    contact_id = api.new_contact("Uma Upsert")

    reply = await api.post(UPSERT, json=_upsert_body(api, contact_id, monetaryValue=300))

    assert reply.status == 200
    assert reply.body["new"] is True
    assert reply.body["opportunity"]["name"] == "Uma Upsert"
    assert reply.body["opportunity"]["status"] == "open"
    assert reply.body["opportunity"]["monetaryValue"] == 300
    assert "traceId" in reply.body


async def test_upsert_overwrites_contact_pipeline_match(api: Api) -> None:
    existing = await api.create(name="Old name", monetaryValue=5)
    body = _upsert_body(api, existing["contactId"], name="New name", status="won")

    reply = await api.post(UPSERT, json=body)

    record = reply.body["opportunity"]
    assert reply.status == 200
    assert reply.body["new"] is False
    assert record["id"] == existing["id"]
    assert record["name"] == "New name"
    assert record["status"] == "won"
    assert record["monetaryValue"] == 5


async def test_upsert_matches_by_id(api: Api) -> None:
    existing = await api.create()
    body = _upsert_body(api, api.new_contact(), id=existing["id"], name="By id")

    reply = await api.post(UPSERT, json=body)

    assert reply.body["new"] is False
    assert reply.body["opportunity"]["id"] == existing["id"]
    assert reply.body["opportunity"]["name"] == "By id"


async def test_upsert_unknown_id_is_404(api: Api) -> None:
    reply = await api.post(UPSERT, json=_upsert_body(api, api.new_contact(), id="missing"))

    assert reply.status == 404
    assert reply.body["code"] == "OPPORTUNITY_NOT_FOUND"


async def test_upsert_requires_location_and_pipeline(api: Api) -> None:
    reply = await api.post(UPSERT, json={"contactId": "c"})

    assert reply.status == 422
    assert reply.body["message"] == [
        "locationId should not be empty",
        "locationId must be a string",
        "pipelineId should not be empty",
        "pipelineId must be a string",
    ]


async def test_upsert_create_needs_contact(api: Api) -> None:
    body = {"locationId": api.location_id, "pipelineId": api.pipeline()["id"]}

    reply = await api.post(UPSERT, json=body)

    assert reply.status == 422
    assert reply.body["message"] == ["contactId must be a string"]


async def test_upsert_followers_applied(api: Api) -> None:
    users = api.sandbox.users()
    existing = await api.create()
    await api.post(f"/opportunities/{existing['id']}/followers", json={"followers": users[:2]})
    body = _upsert_body(
        api, existing["contactId"], followers=[users[0]], followersActionType="remove"
    )

    reply = await api.post(UPSERT, json=body)

    assert reply.body["opportunity"]["followers"] == [users[1]]


async def test_upsert_remove_all_then_add(api: Api) -> None:
    users = api.sandbox.users()
    existing = await api.create()
    await api.post(f"/opportunities/{existing['id']}/followers", json={"followers": users[:2]})
    body = _upsert_body(
        api,
        existing["contactId"],
        isRemoveAllFollowers=True,
        followers=[users[3]],
        followersActionType="add",
    )

    reply = await api.post(UPSERT, json=body)

    assert reply.body["opportunity"]["followers"] == [users[3]]


async def test_upsert_lost_reason_needs_lost(api: Api) -> None:
    reason = api.sandbox.lost_reasons()[0]["id"]
    body = _upsert_body(api, api.new_contact(), status="open", lostReasonId=reason)

    reply = await api.post(UPSERT, json=body)

    assert reply.status == 422
    assert reply.body["message"] == ["lostReasonId can only be set when status is lost"]


async def test_upsert_unknown_key_rejected(api: Api) -> None:
    reply = await api.post(UPSERT, json=_upsert_body(api, api.new_contact(), source="web"))

    assert reply.status == 422
    assert reply.body["message"] == ["property source should not exist"]
