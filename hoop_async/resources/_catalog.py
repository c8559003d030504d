"""Pipelines, stages and lost reasons by name, cached per location.

A miss refreshes the location's lookup once before it fails, so a pipeline
created after the first lookup is still found; the error lists the names
that exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from hoop_async.errors import NameNotFoundError
from hoop_async.models import LostReason, Pipeline, PipelineStage

__all__ = ["Catalog"]

T = TypeVar("T")


class Catalog:
    """Per-location cache of pipelines and lost reasons, loaded on first use."""

    def __init__(
        self,
        load_pipelines: Callable[[str], Awaitable[list[Pipeline]]],
        load_lost_reasons: Callable[[str], Awaitable[list[LostReason]]],
    ) -> None:
        self._load_pipelines = load_pipelines
        self._load_lost_reasons = load_lost_reasons
        self._pipelines: dict[str, list[Pipeline]] = {}
        self._lost_reasons: dict[str, list[LostReason]] = {}
        # One lookup per location at a time, so concurrent bulk workers that all
        # miss the cache send one request instead of one each.
        self._locks: dict[str, asyncio.Lock] = {}

    async def stage(
        self, location_id: str, pipeline_name: str, stage_name: str
    ) -> tuple[Pipeline, PipelineStage]:
        """Return the pipeline and stage with these names (case-insensitive)."""
        pipeline = await self.pipeline(location_id, pipeline_name)
        stage = _named(pipeline.stages, stage_name)
        if stage is None:
            pipeline = await self.pipeline(location_id, pipeline_name, refresh=True)
            stage = _named(pipeline.stages, stage_name)
        if stage is None:
            names = [item.name or item.id for item in pipeline.stages]
            raise NameNotFoundError(f"stage in pipeline {pipeline.name!r}", stage_name, names)
        return pipeline, stage

    async def pipeline(self, location_id: str, name: str, *, refresh: bool = False) -> Pipeline:
        """Return the pipeline called `name` (case-insensitive)."""
        pipelines = await self._cached(self._pipelines, self._load_pipelines, location_id, refresh)
        found = _named(pipelines, name)
        if found is None and not refresh:
            return await self.pipeline(location_id, name, refresh=True)
        if found is None:
            raise NameNotFoundError("pipeline", name, [item.name or item.id for item in pipelines])
        return found

    async def lost_reason_id(self, location_id: str, name_or_id: str) -> str:
        """Return the id of the lost reason with this name (case-insensitive) or id."""
        for refresh in (False, True):
            reasons = await self._cached(
                self._lost_reasons, self._load_lost_reasons, location_id, refresh
            )
            for reason in reasons:
                if reason.id == name_or_id:
                    return reason.id
            found = _named(reasons, name_or_id)
            if found is not None:
                return found.id
        raise NameNotFoundError("lost reason", name_or_id, [r.name or r.id for r in reasons])

    async def _cached(
        self,
        cache: dict[str, list[T]],
        load: Callable[[str], Awaitable[list[T]]],
        location_id: str,
        refresh: bool,
    ) -> list[T]:
        seen = cache.get(location_id)
        lock = self._locks.setdefault(f"{id(cache)}:{location_id}", asyncio.Lock())
        async with lock:
            current = cache.get(location_id)
            # Reload unless another caller already loaded (or reloaded) while this one waited.
            if current is None or (refresh and current is seen):
                cache[location_id] = await load(location_id)
        return cache[location_id]


def _named(items: Sequence[T], name: str) -> T | None:
    wanted = name.strip().casefold()
    for item in items:
        item_name = getattr(item, "name", None) or ""
        if item_name.strip().casefold() == wanted:
            return item
    return None
