"""The `hoop demo` scenario: a tour of every Opportunities endpoint through the public API.

`run_demo` works against any server given a client, a location and contact
ids; the CLI runs it against an embedded sandbox by default. It returns a
summary instead of printing, and `format_summary` renders that summary as text.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

import attrs

from hoop_async.client import HoopClient
from hoop_async.errors import DuplicateOpportunityError, NotFoundError
from hoop_async.models import Opportunity, Pipeline, Status

__all__ = ["DemoSummary", "format_summary", "run_demo"]

T = TypeVar("T")
R = TypeVar("R")

# Requests in flight at once. This is enough to finish a few hundred calls in
# seconds against the sandbox, which enforces no rate limit by default.
_CONCURRENCY = 20


@attrs.define
class DemoSummary:
    """Summary of the demo: counts of each step, and the deals per stage and status afterwards."""

    created: int = 0
    already_existed: int = 0
    upserted_again: int = 0
    upsert_created: int = 0
    duplicate_existing_id: str | None = None
    search_pages: int = 0
    found_in_pipeline: int = 0
    found_by_status: dict[str, int] = attrs.field(factory=dict)
    moved: int = 0
    won: int = 0
    lost: int = 0
    followers_added: int = 0
    followers_removed: int = 0
    deleted_id: str | None = None
    stage_rows: list[tuple[str, int, float]] = attrs.field(factory=list)
    status_rows: list[tuple[str, int, float]] = attrs.field(factory=list)
    requests: int = 0
    seconds: float = 0.0


async def run_demo(
    client: HoopClient,
    *,
    location_id: str,
    contact_ids: Sequence[str],
    user_ids: Sequence[str] = (),
    count: int = 300,
) -> DemoSummary:
    """Run the demo scenario and return its summary."""
    started = time.perf_counter()
    summary = DemoSummary()
    api = client.opportunities

    pipelines = await api.pipelines(location_id)
    lost_reasons = await api.lost_reasons(location_id)
    pipeline = max(pipelines, key=lambda item: len(item.stages))
    contacts = list(contact_ids)[:count]

    opportunities = await _create_all(client, summary, location_id, pipeline, contacts)
    moving, closing, following, upserting = _portions(opportunities)
    await _show_duplicate_rule(client, summary, location_id, pipeline, contacts[0])
    await _upsert_again(client, summary, location_id, pipeline, upserting)
    await _move_stages(client, summary, pipeline, moving)
    await _close_deals(client, summary, closing, lost_reasons[0].id)
    await _search(client, summary, location_id, pipeline)
    if user_ids:
        await _followers(client, summary, following, user_ids)
    await _delete_one(client, summary, opportunities[-1])

    await _tally(client, summary, location_id, pipelines)
    summary.requests = client.stats.requests
    summary.seconds = time.perf_counter() - started
    return summary


def _portions(
    opportunities: Sequence[Opportunity],
) -> tuple[Sequence[Opportunity], ...]:
    """Split the created deals: 40 % move stages, the next 30 % close, the next 10 % get
    followers; the first sixth is upserted again. The last one is kept for deletion."""
    count = len(opportunities) - 1
    moving_end = count * 4 // 10
    closing_end = moving_end + count * 3 // 10
    following_end = closing_end + max(1, count // 10)
    return (
        opportunities[:moving_end],
        opportunities[moving_end:closing_end],
        opportunities[closing_end:following_end],
        opportunities[: max(1, count // 6)],
    )


async def _create_all(
    client: HoopClient,
    summary: DemoSummary,
    location_id: str,
    pipeline: Pipeline,
    contact_ids: Sequence[str],
) -> list[Opportunity]:
    first_stage = pipeline.stages[0].id

    async def create(index: int) -> Opportunity:
        contact_id = contact_ids[index]
        try:
            created = await client.opportunities.create(
                location_id=location_id,
                name=f"Demo deal {index + 1:03d}",
                pipeline_id=pipeline.id,
                pipeline_stage_id=first_stage,
                contact_id=contact_id,
                monetary_value=float(500 + (index * 137) % 9500),
            )
        except DuplicateOpportunityError as exc:
            # A rerun against a long-lived server: the contact already has its opportunity.
            summary.already_existed += 1
            return await client.opportunities.get(exc.existing_id or "")
        summary.created += 1
        return created

    return await _gather_limited(create, range(len(contact_ids)))


async def _show_duplicate_rule(
    client: HoopClient, summary: DemoSummary, location_id: str, pipeline: Pipeline, contact_id: str
) -> None:
    try:
        await client.opportunities.create(
            location_id=location_id,
            name="Second opportunity for the same contact",
            pipeline_id=pipeline.id,
            contact_id=contact_id,
        )
    except DuplicateOpportunityError as exc:
        summary.duplicate_existing_id = exc.existing_id


async def _upsert_again(
    client: HoopClient,
    summary: DemoSummary,
    location_id: str,
    pipeline: Pipeline,
    opportunities: Sequence[Opportunity],
) -> None:
    async def upsert(opportunity: Opportunity) -> bool:
        result = await client.opportunities.upsert(
            location_id=location_id,
            pipeline_id=pipeline.id,
            contact_id=opportunity.contact_id,
            name=f"{opportunity.name} (upserted)",
            monetary_value=(opportunity.monetary_value or 0) + 100,
        )
        return result.created

    created = await _gather_limited(upsert, opportunities)
    summary.upserted_again = len(created)
    summary.upsert_created = sum(created)


async def _search(
    client: HoopClient, summary: DemoSummary, location_id: str, pipeline: Pipeline
) -> None:
    search = client.opportunities.search(
        location_id=location_id, pipeline_id=pipeline.id, page_size=50
    )
    async for page in search.pages():
        summary.search_pages += 1
        summary.found_in_pipeline += len(page.items)
    for status in ("open", "won", "lost"):
        matches = client.opportunities.search(location_id=location_id, status=status)
        summary.found_by_status[status] = len(await matches.collect())


async def _move_stages(
    client: HoopClient,
    summary: DemoSummary,
    pipeline: Pipeline,
    opportunities: Sequence[Opportunity],
) -> None:
    stages = pipeline.stages

    async def move(index: int) -> None:
        target = stages[1 + index % (len(stages) - 1)]
        await client.opportunities.update(opportunities[index].id, pipeline_stage_id=target.id)

    await _gather_limited(move, range(len(opportunities)))
    summary.moved = len(opportunities)


async def _close_deals(
    client: HoopClient,
    summary: DemoSummary,
    opportunities: Sequence[Opportunity],
    lost_reason_id: str,
) -> None:
    half = len(opportunities) // 2

    async def close(index: int) -> None:
        opportunity_id = opportunities[index].id
        if index < half:
            await client.opportunities.update_status(opportunity_id, Status.WON)
        else:
            await client.opportunities.update_status(
                opportunity_id, Status.LOST, lost_reason_id=lost_reason_id
            )

    await _gather_limited(close, range(len(opportunities)))
    summary.won = half
    summary.lost = len(opportunities) - half


async def _followers(
    client: HoopClient,
    summary: DemoSummary,
    opportunities: Sequence[Opportunity],
    user_ids: Sequence[str],
) -> None:
    async def add(opportunity: Opportunity) -> int:
        result = await client.opportunities.add_followers(opportunity.id, user_ids[:2])
        return len(result.followers_added)

    async def remove(opportunity: Opportunity) -> int:
        result = await client.opportunities.remove_followers(opportunity.id, user_ids[:1])
        return len(result.followers_removed)

    summary.followers_added = sum(await _gather_limited(add, opportunities))
    half = len(opportunities) // 2
    summary.followers_removed = sum(await _gather_limited(remove, opportunities[:half]))
    for opportunity in opportunities[half:]:
        result = await client.opportunities.remove_followers(opportunity.id, remove_all=True)
        summary.followers_removed += len(result.followers_removed)


async def _delete_one(client: HoopClient, summary: DemoSummary, opportunity: Opportunity) -> None:
    await client.opportunities.delete(opportunity.id)
    try:
        await client.opportunities.get(opportunity.id)
    except NotFoundError:
        summary.deleted_id = opportunity.id


async def _tally(
    client: HoopClient, summary: DemoSummary, location_id: str, pipelines: Sequence[Pipeline]
) -> None:
    stage_names = {stage.id: stage.name or stage.id for item in pipelines for stage in item.stages}
    per_stage: Counter[str] = Counter()
    per_status: Counter[str] = Counter()
    stage_value: defaultdict[str, float] = defaultdict(float)
    status_value: defaultdict[str, float] = defaultdict(float)
    async for opportunity in client.opportunities.search(location_id=location_id):
        stage = stage_names.get(opportunity.pipeline_stage_id or "", "(no stage)")
        status = str(opportunity.status)
        value = opportunity.monetary_value or 0.0
        per_stage[stage] += 1
        stage_value[stage] += value
        per_status[status] += 1
        status_value[status] += value
    # Rows follow the pipelines' stage order and the Status order, not arrival order.
    stage_order = [*dict.fromkeys(stage_names.values()), *per_stage]
    status_order = [*(status.value for status in Status), *per_status]
    summary.stage_rows = [
        (name, per_stage[name], stage_value[name])
        for name in dict.fromkeys(stage_order)
        if per_stage[name]
    ]
    summary.status_rows = [
        (name, per_status[name], status_value[name])
        for name in dict.fromkeys(status_order)
        if per_status[name]
    ]


async def _gather_limited(
    work: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int = _CONCURRENCY
) -> list[R]:
    """Run `work` on every item with at most `limit` calls in flight; results in input order."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(item: T) -> R:
        async with semaphore:
            return await work(item)

    return list(await asyncio.gather(*(bounded(item) for item in items)))


def format_summary(summary: DemoSummary) -> str:
    """Render the summary as a few plain-text tables."""
    lines = [
        f"created {_count(summary.created, 'opportunity', 'opportunities')}"
        + (f" ({summary.already_existed} already existed)" if summary.already_existed else ""),
        f"second create for one contact rejected as duplicate of {summary.duplicate_existing_id}",
        f"upserted {summary.upserted_again} again: {summary.upsert_created} created, "
        f"{summary.upserted_again - summary.upsert_created} updated in place",
        f"search by pipeline: {_count(summary.found_in_pipeline, 'opportunity', 'opportunities')} "
        f"in {summary.search_pages} pages",
        "search by status: "
        + ", ".join(f"{status} {count}" for status, count in summary.found_by_status.items()),
        f"moved {summary.moved} through stages, {summary.won} won, {summary.lost} lost",
        f"followers: {summary.followers_added} added, {summary.followers_removed} removed",
        f"deleted {summary.deleted_id} (a later GET answers 404)",
        "",
        _table("stage", summary.stage_rows),
        "",
        _table("status", summary.status_rows),
        "",
        f"{summary.requests} requests in {summary.seconds:.2f} s",
    ]
    return "\n".join(lines)


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _table(heading: str, rows: Sequence[tuple[str, int, float]]) -> str:
    width = max([len(heading), *(len(name) for name, _, _ in rows)])
    out = [f"{heading:<{width}}  {'deals':>6}  {'value':>12}"]
    out += [f"{name:<{width}}  {count:>6}  {value:>12,.2f}" for name, count, value in rows]
    total_count = sum(count for _, count, _ in rows)
    total_value = sum(value for _, _, value in rows)
    out.append(f"{'total':<{width}}  {total_count:>6}  {total_value:>12,.2f}")
    return "\n".join(out)
