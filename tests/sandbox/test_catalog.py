"""GET /opportunities/pipelines and /opportunities/lost-reason."""

from __future__ import annotations

import json
from pathlib import Path

from .api import Api

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


async def test_pipelines_shape(api: Api) -> None:
    reply = await api.get("/opportunities/pipelines", params={"locationId": api.location_id})

    assert reply.status == 200
    pipelines = reply.body["pipelines"]
    assert [pipeline["name"] for pipeline in pipelines] == ["Sales Pipeline", "Onboarding"]
    sales = pipelines[0]
    assert isinstance(sales["position"], str)
    assert [stage["position"] for stage in sales["stages"]] == [0, 1, 2, 3, 4, 5]
    assert [stage["stageWinProbability"] for stage in sales["stages"]][:2] == [14.29, 28.57]
    assert all(isinstance(stage["stageWinProbability"], float) for stage in sales["stages"])
    assert "traceId" in reply.body


async def test_pipelines_keys_match_sample(api: Api) -> None:
    sample = json.loads((SAMPLES / "pipelines-response.json").read_text())

    reply = await api.get("/opportunities/pipelines", params={"locationId": api.location_id})

    pipeline, expected = reply.body["pipelines"][0], sample["pipelines"][0]
    assert set(pipeline) == set(expected)
    assert set(pipeline["stages"][0]) == set(expected["stages"][0])


async def test_added_pipeline_listed(api: Api) -> None:
    added = api.sandbox.add_pipeline(api.location_id, "Renewals", ["Due", "Renewed"])

    reply = await api.get("/opportunities/pipelines", params={"locationId": api.location_id})

    assert reply.body["pipelines"][-1] == added


async def test_pipelines_need_location(api: Api) -> None:
    reply = await api.get("/opportunities/pipelines")

    assert reply.status == 422
    assert reply.body["message"] == [
        "locationId should not be empty",
        "locationId must be a string",
    ]


async def test_lost_reasons_shape(api: Api) -> None:
    reply = await api.get("/opportunities/lost-reason", params={"locationId": api.location_id})

    assert reply.status == 200
    assert reply.body["total"] == 4
    reason = reply.body["lostReasons"][0]
    assert set(reason) == {"id", "name", "locationId", "createdAt", "updatedAt"}
    assert reason["locationId"] == api.location_id


async def test_lost_reasons_filters(api: Api) -> None:
    api.sandbox.add_lost_reason(api.location_id, "Price changed")
    base = {"locationId": api.location_id}

    by_query = await api.get("/opportunities/lost-reason", params={**base, "query": "PRICE"})
    by_name = await api.get("/opportunities/lost-reason", params={**base, "name": "no budget"})
    paged = await api.get(
        "/opportunities/lost-reason", params={**base, "skip": "1", "limit": "2", "getCount": "true"}
    )
    deleted = await api.get("/opportunities/lost-reason", params={**base, "deleted": "true"})

    assert [reason["name"] for reason in by_query.body["lostReasons"]] == [
        "Price too high",
        "Price changed",
    ]
    assert [reason["name"] for reason in by_name.body["lostReasons"]] == ["No budget"]
    assert len(paged.body["lostReasons"]) == 2
    assert paged.body["total"] == 5
    assert deleted.body == {"lostReasons": [], "total": 0, "traceId": deleted.body["traceId"]}


async def test_lost_reasons_bad_params(api: Api) -> None:
    params = {"locationId": api.location_id, "skip": "-1", "deleted": "maybe"}

    reply = await api.get("/opportunities/lost-reason", params=params)

    assert reply.status == 422
    assert reply.body["message"] == [
        "deleted must be a boolean value",
        "skip must not be less than 0",
    ]
