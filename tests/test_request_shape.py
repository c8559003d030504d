"""The exact wire shape of each endpoint: method, path, query keys and JSON body."""

from __future__ import annotations

from datetime import date, datetime, timezone

from conftest import Recorder

from hoop_async import CustomFieldValue, HoopClient, Status

OPPORTUNITY = {"opportunity": {"id": "OPP1"}}


async def test_create_body(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(201, OPPORTUNITY)
    await recorded_client.opportunities.create(
        name="Deal",
        pipeline_id="PIPE1",
        contact_id="CON1",
        pipeline_stage_id="STAGE1",
        monetary_value=250.5,
        assigned_to="USER1",
        custom_fields=[CustomFieldValue(key="source_ref", value="X-1"), {"id": "cf2", "value": 3}],
    )
    sent = recorder.requests[0]
    assert (sent.method, sent.path, sent.query) == ("POST", "/opportunities/", [])
    assert sent.body == {
        "locationId": "LOC1",
        "pipelineId": "PIPE1",
        "name": "Deal",
        "status": "open",
        "contactId": "CON1",
        "pipelineStageId": "STAGE1",
        "monetaryValue": 250.5,
        "assignedTo": "USER1",
        "customFields": [
            {"key": "source_ref", "field_value": "X-1"},
            {"id": "cf2", "field_value": 3},
        ],
    }


async def test_get_and_delete_paths(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, OPPORTUNITY)
    recorder.respond(200, {"succeded": True})
    await recorded_client.opportunities.get("OPP1")
    await recorded_client.opportunities.delete("OPP1")
    assert [(r.method, r.path, r.body) for r in recorder.requests] == [
        ("GET", "/opportunities/OPP1", None),
        ("DELETE", "/opportunities/OPP1", None),
    ]


async def test_update_sends_only_given_fields(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    recorder.respond(200, OPPORTUNITY)
    recorder.respond(200, OPPORTUNITY)
    await recorded_client.opportunities.update("OPP1", name="Renamed")
    await recorded_client.opportunities.update(
        "OPP1", monetary_value=0, assigned_to=None, status=Status.WON
    )
    assert recorder.requests[0].method == "PUT"
    assert recorder.requests[0].path == "/opportunities/OPP1"
    assert recorder.requests[0].body == {"name": "Renamed"}
    assert recorder.requests[1].body == {
        "monetaryValue": 0,
        "assignedTo": None,
        "status": "won",
    }


async def test_update_status_body(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, {"succeded": True})
    recorder.respond(200, {"succeded": True})
    await recorded_client.opportunities.update_status("OPP1", "lost", lost_reason_id="LR1")
    await recorded_client.opportunities.update_status("OPP1", Status.ABANDONED)
    assert recorder.requests[0].path == "/opportunities/OPP1/status"
    assert recorder.requests[0].body == {"status": "lost", "lostReasonId": "LR1"}
    assert recorder.requests[1].body == {"status": "abandoned"}


async def test_upsert_body_and_result(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(201, {"opportunity": {"id": "OPP9", "status": "open"}, "new": True})
    result = await recorded_client.opportunities.upsert(
        pipeline_id="PIPE1", contact_id="CON1", name="Deal", status="open", monetary_value=0
    )
    assert result.created is True
    assert result.opportunity.id == "OPP9"
    assert recorder.requests[0].path == "/opportunities/upsert"
    assert recorder.requests[0].body == {
        "locationId": "LOC1",
        "pipelineId": "PIPE1",
        "contactId": "CON1",
        "name": "Deal",
        "status": "open",
        "monetaryValue": 0,
    }


async def test_followers_requests(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(201, {"followers": ["U1", "U2"], "followersAdded": ["U2"]})
    recorder.respond(200, {"followers": ["U1"], "followersRemoved": ["U2"]})
    recorder.respond(200, {"followers": [], "followersRemoved": ["U1"]})
    added = await recorded_client.opportunities.add_followers("OPP1", ["U1", "U2"])
    removed = await recorded_client.opportunities.remove_followers("OPP1", ["U2"])
    cleared = await recorded_client.opportunities.remove_followers("OPP1", remove_all=True)
    assert added.followers_added == ("U2",)
    assert removed.followers_removed == ("U2",)
    assert cleared.followers == ()
    shapes = [(r.method, r.path, r.query, r.body) for r in recorder.requests]
    assert shapes == [
        ("POST", "/opportunities/OPP1/followers", [], {"followers": ["U1", "U2"]}),
        ("DELETE", "/opportunities/OPP1/followers", [], {"followers": ["U2"]}),
        (
            "DELETE",
            "/opportunities/OPP1/followers",
            [("isRemoveAllFollowers", "true")],
            {"followers": []},
        ),
    ]


async def test_lookups_use_camel_case_location(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    recorder.respond(200, {"pipelines": [{"id": "P1", "stages": [{"id": "S1", "position": 0}]}]})
    recorder.respond(200, {"lostReasons": [{"id": "LR1", "name": "Price"}], "total": 1})
    pipelines = await recorded_client.opportunities.pipelines()
    reasons = await recorded_client.opportunities.lost_reasons(name="Price")
    assert pipelines[0].stages[0].id == "S1"
    assert reasons[0].name == "Price"
    assert recorder.requests[0].path == "/opportunities/pipelines"
    assert recorder.requests[0].query == [("locationId", "LOC1")]
    assert recorder.requests[1].path == "/opportunities/lost-reason"
    assert recorder.requests[1].query == [
        ("locationId", "LOC1"),
        ("name", "Price"),
        ("limit", "100"),
        ("skip", "0"),
    ]


async def test_lost_reasons_page_with_skip(recorder: Recorder, recorded_client: HoopClient) -> None:
    first = [{"id": f"LR{index}"} for index in range(100)]
    recorder.respond(200, {"lostReasons": first, "total": 130})
    recorder.respond(200, {"lostReasons": [{"id": f"LR{i}"} for i in range(100, 130)]})
    reasons = await recorded_client.opportunities.lost_reasons()
    assert len(reasons) == 130
    assert dict(recorder.requests[1].query)["skip"] == "100"


async def test_get_search_query_spelling(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, {"opportunities": [], "meta": {"total": 0}})
    search = recorded_client.opportunities.search(
        q="acme",
        pipeline_id="PIPE1",
        pipeline_stage_id="STAGE1",
        contact_id="CON1",
        status="all",
        assigned_to="USER1",
        campaign_id="CAMP1",
        opportunity_id="OPP1",
        order="added_desc",
        date=date(2026, 3, 1),
        end_date=datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc),
        country="US",
        get_tasks=True,
        get_notes=False,
        get_calendar_events=True,
        page_size=25,
    )
    assert await search.collect() == []
    assert recorder.requests[0].path == "/opportunities/search"
    assert dict(recorder.requests[0].query) == {
        "location_id": "LOC1",
        "q": "acme",
        "pipeline_id": "PIPE1",
        "pipeline_stage_id": "STAGE1",
        "contact_id": "CON1",
        "status": "all",
        "assigned_to": "USER1",
        "campaignId": "CAMP1",
        "id": "OPP1",
        "order": "added_desc",
        "date": "03-01-2026",
        "endDate": "03-31-2026",
        "country": "US",
        "getTasks": "true",
        "getNotes": "false",
        "getCalendarEvents": "true",
        "limit": "25",
    }


async def test_get_search_sends_cursor_pair(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    page_one = [{"id": "A"}, {"id": "B"}]
    recorder.respond(
        200,
        {
            "opportunities": page_one,
            "meta": {"total": 3, "startAfter": "1764004064616", "startAfterId": "B"},
        },
    )
    recorder.respond(200, {"opportunities": [{"id": "C"}], "meta": {"total": 3}})
    records = await recorded_client.opportunities.search(status=Status.OPEN, page_size=2).collect()
    assert [record.id for record in records] == ["A", "B", "C"]
    first, second = (dict(request.query) for request in recorder.requests)
    assert "startAfter" not in first
    assert second["startAfter"] == "1764004064616"
    assert second["startAfterId"] == "B"
    assert second["status"] == "open"


async def test_post_search_body(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(201, {"opportunities": [{"id": "A", "sort": [1, "A"]}], "total": 1})
    filters = [{"group": "AND", "filters": [{"field": "status", "operator": "eq", "value": "won"}]}]
    sort = [{"field": "date_added", "direction": "desc"}]
    search = recorded_client.opportunities.search_advanced(
        query="acme", filters=filters, sort=sort, page_size=200
    )
    records = await search.collect()
    assert [record.id for record in records] == ["A"]
    assert recorder.requests[0].method == "POST"
    assert recorder.requests[0].path == "/opportunities/search"
    assert recorder.requests[0].body == {
        "locationId": "LOC1",
        "query": "acme",
        "filters": filters,
        "sort": sort,
        "limit": 200,
        "page": 1,
    }
