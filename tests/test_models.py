"""Models and the converter: real samples, unknown fields, null handling, round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import SAMPLES, load_sample

from hoop_async.models import (
    ContactSummary,
    CustomField,
    LostReason,
    Opportunity,
    Pipeline,
    PipelineStage,
    SearchMeta,
    Status,
    UpsertResult,
    format_datetime,
    from_wire,
    parse_datetime,
    to_wire,
)


def contains(original: Any, written: Any) -> bool:
    """Whether `written` keeps every non-null value of `original` (null and missing are equal)."""
    if isinstance(original, dict):
        return isinstance(written, dict) and all(
            value is None or (key in written and contains(value, written[key]))
            for key, value in original.items()
        )
    if isinstance(original, list):
        return (
            isinstance(written, list)
            and len(original) == len(written)
            and all(contains(a, b) for a, b in zip(original, written, strict=True))
        )
    return bool(original == written)


def test_every_sample_is_valid_json() -> None:
    names = sorted(path.name for path in SAMPLES.glob("*.json"))
    assert len(names) == 7
    for name in names:
        assert load_sample(name) is not None


def test_create_sample_parses() -> None:
    body = load_sample("opportunity-create-response.json")
    opportunity = from_wire(body["opportunity"], Opportunity)
    assert opportunity.id == "FAKE015aBcDeFgHiJkLm"
    assert opportunity.status is Status.OPEN
    assert opportunity.monetary_value == 0
    assert opportunity.created_at == datetime(2026, 1, 15, 10, 21, 58, 368000, tzinfo=timezone.utc)
    assert opportunity.contact == ContactSummary(
        id="FAKE014aBcDeFgHiJkLm",
        name="Sam Second",
        email="sam.second@example.com",
        phone="+15555550107",
        extra={"followers": []},
    )
    assert opportunity.extra["internalSource"]["channel"] == "OAUTH"
    assert opportunity.extra["isAttribute"] is False


def test_search_sample_keeps_unknown_fields() -> None:
    body = load_sample("search-get-response.json")
    opportunity = from_wire(body["opportunities"][0], Opportunity)
    assert opportunity.pipeline_stage_uid == "00000000-0000-4000-8000-000000000101"
    assert opportunity.assigned_to == "FAKE103aBcDeFgHiJkLm"
    assert opportunity.source is None
    assert opportunity.lost_reason_id is None
    assert opportunity.extra["sort"] == [1764605190468, "FAKE104aBcDeFgHiJkLm"]
    assert opportunity.extra["indexVersion"] == 3
    assert opportunity.extra["relations"][0]["objectKey"] == "contact"
    assert opportunity.contact is not None
    assert opportunity.contact.tags == ("booked call",)
    assert opportunity.contact.extra == {"score": []}


def test_search_sample_meta_keeps_cursor_verbatim() -> None:
    body = load_sample("search-get-response.json")
    meta = from_wire(body["meta"], SearchMeta)
    assert meta.total == 23
    assert meta.start_after == 1764004064616
    assert meta.start_after_id == "FAKE104aBcDeFgHiJkLm"
    assert meta.prev_page is None
    assert from_wire({"startAfter": "1764004064616"}, SearchMeta).start_after == "1764004064616"


def test_pipelines_sample_parses() -> None:
    body = load_sample("pipelines-response.json")
    pipeline = from_wire(body["pipelines"][0], Pipeline)
    assert pipeline.position == "ZyyrrRZ"
    assert len(pipeline.stages) == 6
    assert pipeline.stages[1] == PipelineStage(
        id="00000000-0000-4000-8000-000000000009",
        name="Contacted",
        position=1,
        stage_win_probability=28.57,
        show_in_funnel=True,
        show_in_pie_chart=True,
    )
    assert pipeline.date_added == datetime(2026, 1, 15, 7, 14, 1, 269000, tzinfo=timezone.utc)
    assert pipeline.stage_named("negotiation").position == 4


def test_stage_named_lists_names_on_miss() -> None:
    pipeline = from_wire(load_sample("pipelines-response.json")["pipelines"][0], Pipeline)
    with pytest.raises(KeyError, match="'New Lead', 'Contacted'"):
        pipeline.stage_named("Won")


@pytest.mark.parametrize(
    ("sample", "path", "model"),
    [
        ("opportunity-create-response.json", ("opportunity",), Opportunity),
        ("search-get-response.json", ("opportunities", 0), Opportunity),
        ("search-get-response.json", ("meta",), SearchMeta),
        ("pipelines-response.json", ("pipelines", 0), Pipeline),
    ],
)
def test_sample_written_back_loses_nothing(sample: str, path: tuple[Any, ...], model: type) -> None:
    data = load_sample(sample)
    for step in path:
        data = data[step]
    written = to_wire(from_wire(data, model))
    assert contains(data, written)
    assert json.loads(json.dumps(written)) == written


def test_null_and_missing_are_equal() -> None:
    with_nulls = {"id": "A", "followers": None, "customFields": None, "contact": None, "name": None}
    assert from_wire(with_nulls, Opportunity) == from_wire({"id": "A"}, Opportunity)


def test_unknown_status_kept_as_text() -> None:
    opportunity = from_wire({"id": "A", "status": "archived"}, Opportunity)
    assert opportunity.status == "archived"


def test_custom_fields_parse() -> None:
    data = {"id": "A", "customFields": [{"id": "cf1", "fieldValue": ["a", "b"]}]}
    opportunity = from_wire(data, Opportunity)
    assert opportunity.custom_fields == (CustomField(id="cf1", field_value=["a", "b"]),)


def test_upsert_result_reads_new_flag() -> None:
    result = from_wire({"opportunity": {"id": "A"}, "new": True, "traceId": "t"}, UpsertResult)
    assert result.created is True
    assert result.opportunity.id == "A"
    assert result.extra == {"traceId": "t"}


def test_lost_reason_parses() -> None:
    reason = from_wire(
        {"id": "r1", "name": "Too expensive", "createdAt": "2023-06-19T12:04:22.488Z"}, LostReason
    )
    assert reason.created_at is not None
    assert reason.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-15T10:21:58.369Z", datetime(2026, 1, 15, 10, 21, 58, 369000, timezone.utc)),
        ("2026-01-15T12:21:58+02:00", datetime(2026, 1, 15, 10, 21, 58, tzinfo=timezone.utc)),
        ("2026-01-15T10:21:58", datetime(2026, 1, 15, 10, 21, 58, tzinfo=timezone.utc)),
        (1764605190468, datetime(2025, 12, 1, 16, 6, 30, 468000, tzinfo=timezone.utc)),
    ],
)
def test_parse_datetime_is_aware_utc(text: object, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_format_datetime_matches_api() -> None:
    value = datetime(2026, 1, 15, 10, 21, 58, 369000, tzinfo=timezone.utc)
    assert format_datetime(value) == "2026-01-15T10:21:58.369Z"


identifiers = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=1)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
).map(lambda value: value.replace(microsecond=value.microsecond // 1000 * 1000))
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))

opportunities = st.builds(
    Opportunity,
    id=identifiers,
    name=st.none() | st.text(max_size=20),
    monetary_value=st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False),
    pipeline_id=st.none() | identifiers,
    status=st.none() | st.sampled_from(Status),
    contact=st.none()
    | st.builds(ContactSummary, id=identifiers, tags=st.lists(st.text(max_size=5)).map(tuple)),
    custom_fields=st.lists(st.builds(CustomField, id=identifiers, field_value=json_scalars)).map(
        tuple
    ),
    followers=st.lists(identifiers, max_size=3).map(tuple),
    created_at=st.none() | timestamps,
    updated_at=st.none() | timestamps,
    extra=st.dictionaries(st.sampled_from(["relations", "sort", "isAttribute"]), json_scalars),
)


@given(opportunities)
def test_opportunity_round_trip(opportunity: Opportunity) -> None:
    wire = json.loads(json.dumps(to_wire(opportunity)))
    assert from_wire(wire, Opportunity) == opportunity


@given(
    st.builds(
        Pipeline,
        id=identifiers,
        stages=st.lists(
            st.builds(
                PipelineStage,
                id=identifiers,
                position=st.none() | st.integers(0, 50),
                stage_win_probability=st.none() | st.floats(0, 100),
            )
        ).map(tuple),
        position=st.none() | st.text(max_size=8),
        date_added=st.none() | timestamps,
    )
)
def test_pipeline_round_trip(pipeline: Pipeline) -> None:
    wire = json.loads(json.dumps(to_wire(pipeline)))
    assert from_wire(wire, Pipeline) == pipeline
