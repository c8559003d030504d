"""Custom field definitions: the sandbox's GET /locations/{id}/customFields and
`client.opportunities.custom_fields()`, which maps the ids records carry to keys.
"""

from __future__ import annotations

import pytest

from hoop_async import HoopClient, ScopeError
from hoop_async.sandbox import Sandbox


async def test_lists_defined_fields_with_prefixed_keys(
    hoop_sandbox: Sandbox, client: HoopClient
) -> None:
    defined = hoop_sandbox.add_custom_field(hoop_sandbox.location_id, "external_id", name="Ext")

    fields = await client.opportunities.custom_fields()

    assert [field.id for field in fields] == [defined["id"]]
    assert fields[0].field_key == "opportunity.external_id"
    assert fields[0].key == "external_id"
    assert fields[0].name == "Ext"
    assert fields[0].model == "opportunity"
    assert fields[0].matches("OPPORTUNITY.EXTERNAL_ID")
    assert fields[0].matches(defined["id"])
    assert not fields[0].matches("external")


async def test_write_by_key_lands_in_the_defined_field(
    hoop_sandbox: Sandbox, client: HoopClient
) -> None:
    defined = hoop_sandbox.add_custom_field(hoop_sandbox.location_id, "external_id")
    pipeline = (await client.opportunities.pipelines())[0]
    contact_id = hoop_sandbox.contacts()[0]["id"]

    created = await client.opportunities.create(
        pipeline_id=pipeline.id,
        contact_id=contact_id,
        name="Keyed",
        custom_fields=[{"key": "opportunity.external_id", "field_value": "E-1"}],
    )

    assert [(f.id, f.field_value) for f in created.custom_fields] == [(defined["id"], "E-1")]
    assert len(await client.opportunities.custom_fields()) == 1


async def test_undefined_key_is_defined_on_first_write(
    hoop_sandbox: Sandbox, client: HoopClient
) -> None:
    pipeline = (await client.opportunities.pipelines())[0]
    created = await client.opportunities.create(
        pipeline_id=pipeline.id,
        contact_id=hoop_sandbox.contacts()[0]["id"],
        name="Row 7",
        custom_fields=[{"key": "source_row", "field_value": "7"}],
    )

    fields = await client.opportunities.custom_fields()
    assert [(f.key, f.id) for f in fields] == [("source_row", created.custom_fields[0].id)]


async def test_needs_the_custom_fields_scope(hoop_sandbox: Sandbox) -> None:
    token = hoop_sandbox.issue_token(scopes=["opportunities.readonly"])
    async with HoopClient(
        token=token, base_url=hoop_sandbox.url, location_id=hoop_sandbox.location_id
    ) as client:
        with pytest.raises(ScopeError):
            await client.opportunities.custom_fields()
