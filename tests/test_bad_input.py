"""Bad arguments raise InvalidRequestError before any request is sent."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from hoop_async import HoopClient, HoopError, InvalidRequestError
from hoop_async.resources import Opportunities

# Nothing listens on the discard port, so a request that did go out would fail
# with TransportError instead of the InvalidRequestError these tests expect.
UNREACHABLE = "http://127.0.0.1:9"

Call = Callable[[Opportunities], Awaitable[Any]]

VALID_CREATE: dict[str, Any] = {"name": "Deal", "pipeline_id": "P1", "contact_id": "C1"}


def create(**changes: Any) -> Call:
    return lambda api: api.create(**{**VALID_CREATE, **changes})


async def drain(search: Any) -> None:
    async for _ in search:
        pass


CASES: list[tuple[str, Call, str]] = [
    ("create without name", create(name=""), "name"),
    ("create blank name", create(name="   "), "name"),
    ("create without pipeline", create(pipeline_id=""), "pipeline_id"),
    ("create without contact", create(contact_id=None), "contact_id"),
    ("create bad status", create(status="closed"), "status"),
    ("create status all", create(status="all"), "status"),
    ("create negative value", create(monetary_value=-1), "monetary_value"),
    ("create nan value", create(monetary_value=math.nan), "monetary_value"),
    ("create infinite value", create(monetary_value=math.inf), "monetary_value"),
    ("create text value", create(monetary_value="100"), "monetary_value"),
    ("create bool value", create(monetary_value=True), "monetary_value"),
    ("create custom field no id", create(custom_fields=[{"value": 1}]), "custom_fields"),
    ("create custom field bad key", create(custom_fields=[{"id": "a", "val": 1}]), "custom_fields"),
    ("create custom fields dict", create(custom_fields={"id": "a"}), "custom_fields"),
    ("create empty location", create(location_id=""), "location_id"),
    ("get empty id", lambda api: api.get(""), "opportunity_id"),
    ("get id with slash", lambda api: api.get("a/b"), "opportunity_id"),
    ("get non-string id", lambda api: api.get(None), "opportunity_id"),
    ("delete empty id", lambda api: api.delete("  "), "opportunity_id"),
    ("update nothing", lambda api: api.update("OPP1"), "update"),
    ("update empty name", lambda api: api.update("OPP1", name=""), "name"),
    ("update bad status", lambda api: api.update("OPP1", status="all"), "status"),
    ("update negative value", lambda api: api.update("OPP1", monetary_value=-5), "monetary_value"),
    ("update null value", lambda api: api.update("OPP1", monetary_value=None), "monetary_value"),
    ("status unknown", lambda api: api.update_status("OPP1", "done"), "status"),
    ("status all", lambda api: api.update_status("OPP1", "all"), "status"),
    (
        "lost reason with won",
        lambda api: api.update_status("OPP1", "won", lost_reason_id="LR1"),
        "lost_reason_id",
    ),
    (
        "lost reason empty",
        lambda api: api.update_status("OPP1", "lost", lost_reason_id=""),
        "lost_reason_id",
    ),
    ("upsert without match key", lambda api: api.upsert(pipeline_id="P1"), "contact_id"),
    (
        "upsert lost reason without lost",
        lambda api: api.upsert(pipeline_id="P1", contact_id="C1", lost_reason_id="LR1"),
        "lost_reason_id",
    ),
    (
        "upsert negative value",
        lambda api: api.upsert(pipeline_id="P1", contact_id="C1", monetary_value=-0.01),
        "monetary_value",
    ),
    ("followers empty", lambda api: api.add_followers("OPP1", []), "followers"),
    ("followers bare string", lambda api: api.add_followers("OPP1", "U1"), "followers"),
    ("followers blank id", lambda api: api.add_followers("OPP1", ["U1", ""]), "followers"),
    (
        "remove all with ids",
        lambda api: api.remove_followers("OPP1", ["U1"], remove_all=True),
        "followers",
    ),
    ("remove nobody", lambda api: api.remove_followers("OPP1"), "followers"),
    ("get search limit 0", lambda api: drain(api.search(page_size=0)), "page_size"),
    ("get search limit 101", lambda api: drain(api.search(page_size=101)), "page_size"),
    ("post search limit 501", lambda api: drain(api.search_advanced(page_size=501)), "page_size"),
    ("post search limit 0", lambda api: drain(api.search_advanced(page_size=0)), "page_size"),
    ("search bad status", lambda api: drain(api.search(status="closed")), "status"),
    ("search text date", lambda api: drain(api.search(date="2026-03-01")), "date"),
    ("search text end date", lambda api: drain(api.search(end_date="03-01-2026")), "end_date"),
    ("search negative max", lambda api: drain(api.search(max_items=-1)), "max_items"),
    (
        "search dates reversed",
        lambda api: drain(api.search(date=date(2026, 3, 5), end_date=date(2026, 3, 1))),
        "date",
    ),
    (
        "post filters as dict",
        lambda api: drain(api.search_advanced(filters={"field": "status"})),
        "filters",
    ),
    (
        "search start as dict",
        lambda api: drain(api.search(start={"start_after": 1, "start_after_id": "A"})),
        "start",
    ),
    ("post sort as text", lambda api: drain(api.search_advanced(sort="date_added")), "sort"),
]


@pytest.fixture
async def api() -> AsyncIterator[tuple[HoopClient, Opportunities]]:
    async with HoopClient(token="t", base_url=UNREACHABLE, location_id="LOC1") as client:
        yield client, client.opportunities


@pytest.mark.parametrize(("call", "field"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
async def test_rejected_before_request(
    api: tuple[HoopClient, Opportunities], call: Call, field: str
) -> None:
    client, opportunities = api
    with pytest.raises(InvalidRequestError) as caught:
        await call(opportunities)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, HoopError)
    assert client.stats.requests == 0


async def test_missing_location_names_the_fix() -> None:
    async with HoopClient(token="t", base_url=UNREACHABLE) as client:
        with pytest.raises(InvalidRequestError, match=r"HoopClient\(location_id=\.\.\.\)"):
            await client.opportunities.pipelines()
        assert client.stats.requests == 0


async def test_message_names_value_and_allowed(api: tuple[HoopClient, Opportunities]) -> None:
    _, opportunities = api
    with pytest.raises(InvalidRequestError) as caught:
        await opportunities.update_status("OPP1", "all")
    assert str(caught.value) == (
        "invalid status='all': expected one of open, won, lost, abandoned "
        "('all' is only a search filter)"
    )
    with pytest.raises(InvalidRequestError) as caught:
        await drain(opportunities.search(page_size=101))
    assert str(caught.value) == "invalid page_size=101: expected an integer from 1 to 100"


async def test_search_checks_arguments_at_call() -> None:
    async with HoopClient(token="t", base_url=UNREACHABLE, location_id="L") as client:
        with pytest.raises(InvalidRequestError):
            client.opportunities.search(page_size=500)
