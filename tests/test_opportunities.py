"""Every Opportunities endpoint against the sandbox over loopback HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hoop_async import (
    APIError,
    AuthenticationError,
    DuplicateOpportunityError,
    HoopClient,
    LocationAccessError,
    NotFoundError,
    Opportunity,
    Pipeline,
    ScopeError,
    Status,
    VersionHeaderError,
)
from hoop_async.sandbox import Sandbox


async def first_pipeline(client: HoopClient) -> Pipeline:
    pipelines = await client.opportunities.pipelines()
    return max(pipelines, key=lambda pipeline: len(pipeline.stages))


async def new_opportunity(
    client: HoopClient, sandbox: Sandbox, index: int = 0, **fields: object
) -> Opportunity:
    pipeline = await first_pipeline(client)
    contact = sandbox.contacts(sandbox.location_id)[index]
    return await client.opportunities.create(
        name=f"Deal {index}",
        pipeline_id=pipeline.id,
        contact_id=contact["id"],
        **fields,  # type: ignore[arg-type]
    )


async def test_pipelines_are_typed(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipelines = await client.opportunities.pipelines()
    seeded = hoop_sandbox.pipelines(hoop_sandbox.location_id)
    assert [pipeline.id for pipeline in pipelines] == [item["id"] for item in seeded]
    stages = pipelines[0].stages
    assert stages
    assert [stage.position for stage in stages] == sorted(stage.position or 0 for stage in stages)
    assert all(isinstance(stage.stage_win_probability, float) for stage in stages)


async def test_lost_reasons_listed(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    reasons = await client.opportunities.lost_reasons()
    seeded = hoop_sandbox.lost_reasons(hoop_sandbox.location_id)
    assert sorted(reason.id for reason in reasons) == sorted(item["id"] for item in seeded)
    assert all(reason.name for reason in reasons)


async def test_create_then_get(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipeline = await first_pipeline(client)
    stage = pipeline.stages[1]
    user = hoop_sandbox.users(hoop_sandbox.location_id)[0]
    created = await new_opportunity(
        client, hoop_sandbox, pipeline_stage_id=stage.id, monetary_value=1200.5, assigned_to=user
    )
    fetched = await client.opportunities.get(created.id)
    assert fetched.id == created.id
    assert fetched.name == "Deal 0"
    assert fetched.pipeline_stage_id == stage.id
    assert fetched.monetary_value == 1200.5
    assert fetched.assigned_to == user
    assert fetched.status is Status.OPEN
    assert fetched.location_id == hoop_sandbox.location_id
    assert fetched.contact is not None
    assert fetched.contact.id == fetched.contact_id
    assert fetched.created_at is not None
    assert fetched.created_at.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - fetched.created_at).total_seconds()) < 60


async def test_duplicate_create_carries_existing_id(
    client: HoopClient, hoop_sandbox: Sandbox
) -> None:
    first = await new_opportunity(client, hoop_sandbox)
    await client.opportunities.update_status(first.id, Status.LOST)
    with pytest.raises(DuplicateOpportunityError) as caught:
        await new_opportunity(client, hoop_sandbox)
    assert caught.value.existing_id == first.id
    assert caught.value.status == 400
    assert caught.value.code == "OPPORTUNITY_NO_DUPLICATE"
    assert caught.value.trace_id


async def test_duplicates_allowed_by_setting(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    hoop_sandbox.set_location_setting(hoop_sandbox.location_id, allow_duplicate_opportunity=True)
    first = await new_opportunity(client, hoop_sandbox)
    second = await new_opportunity(client, hoop_sandbox)
    assert first.id != second.id


async def test_update_changes_only_given_fields(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    created = await new_opportunity(client, hoop_sandbox, monetary_value=300)
    updated = await client.opportunities.update(created.id, name="Renamed")
    assert updated.name == "Renamed"
    assert updated.monetary_value == 300
    assert updated.pipeline_stage_id == created.pipeline_stage_id


async def test_update_moves_stage(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipeline = await first_pipeline(client)
    created = await new_opportunity(client, hoop_sandbox)
    target = pipeline.stage_named(pipeline.stages[-1].name or "")
    moved = await client.opportunities.update(created.id, pipeline_stage_id=target.id)
    assert moved.pipeline_stage_id == target.id
    assert (await client.opportunities.get(created.id)).pipeline_stage_id == target.id


async def test_status_won_then_lost_with_reason(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    created = await new_opportunity(client, hoop_sandbox)
    reason = (await client.opportunities.lost_reasons())[0]
    await client.opportunities.update_status(created.id, Status.WON)
    assert (await client.opportunities.get(created.id)).status is Status.WON
    await client.opportunities.update_status(created.id, "lost", lost_reason_id=reason.id)
    lost = await client.opportunities.get(created.id)
    assert lost.status is Status.LOST
    assert lost.lost_reason_id == reason.id


async def test_upsert_creates_then_updates(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipeline = await first_pipeline(client)
    contact_id = hoop_sandbox.contacts(hoop_sandbox.location_id)[5]["id"]
    first = await client.opportunities.upsert(
        pipeline_id=pipeline.id, contact_id=contact_id, name="Upserted", monetary_value=10
    )
    second = await client.opportunities.upsert(
        pipeline_id=pipeline.id, contact_id=contact_id, name="Upserted again", monetary_value=20
    )
    assert first.created is True
    assert second.created is False
    assert second.opportunity.id == first.opportunity.id
    assert second.opportunity.monetary_value == 20
    same_contact = await client.opportunities.search(contact_id=contact_id).collect()
    assert [record.id for record in same_contact] == [first.opportunity.id]


async def test_delete_then_get_is_not_found(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    created = await new_opportunity(client, hoop_sandbox)
    await client.opportunities.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        await client.opportunities.get(created.id)
    assert caught.value.code == "OPPORTUNITY_NOT_FOUND"
    with pytest.raises(NotFoundError):
        await client.opportunities.delete(created.id)


@pytest.mark.parametrize("method", ["get", "delete", "update_status", "add_followers"])
async def test_unknown_id_is_not_found(client: HoopClient, method: str) -> None:
    api = client.opportunities
    calls = {
        "get": lambda: api.get("NoSuchOpportunity01"),
        "delete": lambda: api.delete("NoSuchOpportunity01"),
        "update_status": lambda: api.update_status("NoSuchOpportunity01", "won"),
        "add_followers": lambda: api.add_followers("NoSuchOpportunity01", ["U1"]),
    }
    with pytest.raises(NotFoundError):
        await calls[method]()


async def test_followers_add_remove_and_clear(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    users = hoop_sandbox.users(hoop_sandbox.location_id)
    created = await new_opportunity(client, hoop_sandbox)
    added = await client.opportunities.add_followers(created.id, users[:3])
    assert set(added.followers) == set(users[:3])
    assert set(added.followers_added) == set(users[:3])
    again = await client.opportunities.add_followers(created.id, users[:1])
    assert again.followers_added == ()
    removed = await client.opportunities.remove_followers(created.id, users[:1])
    assert removed.followers_removed == (users[0],)
    assert set(removed.followers) == set(users[1:3])
    cleared = await client.opportunities.remove_followers(created.id, remove_all=True)
    assert cleared.followers == ()
    assert set(cleared.followers_removed) == set(users[1:3])
    assert (await client.opportunities.get(created.id)).followers == ()


async def test_scope_error_without_write_scope(hoop_sandbox: Sandbox) -> None:
    token = hoop_sandbox.issue_token(
        location_ids=[hoop_sandbox.location_id], scopes=["opportunities.readonly"]
    )
    async with HoopClient(
        token=token, base_url=hoop_sandbox.url, location_id=hoop_sandbox.location_id
    ) as client:
        assert await client.opportunities.pipelines()
        with pytest.raises(ScopeError) as caught:
            await new_opportunity(client, hoop_sandbox)
    assert caught.value.status == 401
    assert caught.value.message == "The token is not authorized for this scope."
    assert hoop_sandbox.opportunities(hoop_sandbox.location_id) == []


async def test_other_location_is_forbidden(hoop_sandbox: Sandbox) -> None:
    other = hoop_sandbox.add_location(name="Other office")
    async with HoopClient(token=hoop_sandbox.token, base_url=hoop_sandbox.url) as client:
        with pytest.raises(LocationAccessError) as caught:
            await client.opportunities.pipelines(other)
    assert caught.value.status == 403
    assert caught.value.message == "The token does not have access to this location."


async def test_unknown_token_is_authentication_error(hoop_sandbox: Sandbox) -> None:
    async with HoopClient(token="not-a-token", base_url=hoop_sandbox.url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.opportunities.pipelines(hoop_sandbox.location_id)
    assert caught.value.message == "Invalid JWT"


async def test_unknown_version_is_version_error(hoop_sandbox: Sandbox) -> None:
    async with HoopClient(
        token=hoop_sandbox.token, base_url=hoop_sandbox.url, version="1999-01-01"
    ) as client:
        with pytest.raises(VersionHeaderError) as caught:
            await client.opportunities.pipelines(hoop_sandbox.location_id)
    assert caught.value.message == "version header is invalid"


async def test_stage_of_other_pipeline_rejected(client: HoopClient, hoop_sandbox: Sandbox) -> None:
    pipelines = await client.opportunities.pipelines()
    contact_id = hoop_sandbox.contacts(hoop_sandbox.location_id)[0]["id"]
    with pytest.raises(APIError) as caught:
        await client.opportunities.create(
            name="Mismatch",
            pipeline_id=pipelines[0].id,
            pipeline_stage_id=pipelines[1].stages[0].id,
            contact_id=contact_id,
        )
    assert caught.value.status in (400, 422)
    assert hoop_sandbox.opportunities(hoop_sandbox.location_id) == []
