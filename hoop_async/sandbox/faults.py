"""Fault injection: added latency, 5xx responses, dropped connections and hangs.

Rules in `SandboxConfig.faults` apply per route; the first rule whose routes
match a request decides its fate. Draws come from one seeded random generator
per sandbox, so a test with the same seed and request order sees the same faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

import attrs
from aiohttp import web

__all__ = ["FaultRule", "apply_fault", "pick_fault"]

logger = logging.getLogger("hoop_async.sandbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}  # fmt: skip


def _rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a share from 0 to 1, got {value!r}")


@attrs.define(kw_only=True)
class FaultRule:
    """Faults for the routes it names; an empty `routes` matches every route.

    Routes are "METHOD template" strings such as "POST /opportunities/" or
    "GET /opportunities/{id}". Rates are shares of matching requests (0 to 1),
    drawn in this order: hang, error, reset before, reset after.
    """

    routes: tuple[str, ...] = ()
    latency: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    """Seconds added before every matching request is handled."""

    error_rate: float = attrs.field(default=0.0, validator=_rate)
    """Share that receives one of `error_statuses` instead of being handled."""

    error_statuses: tuple[int, ...] = (500, 502, 503)
    reset_before_rate: float = attrs.field(default=0.0, validator=_rate)
    """Share whose connection is dropped before the handler runs: nothing happened."""

    reset_after_rate: float = attrs.field(default=0.0, validator=_rate)
    """Share whose connection is dropped after the handler ran: a write did happen."""

    hang_rate: float = attrs.field(default=0.0, validator=_rate)
    """Share that gets no response for `hang_seconds`, then a dropped connection."""

    hang_seconds: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))

    def matches(self, route: str) -> bool:
        return not self.routes or route in self.routes


def pick_fault(
    rules: Sequence[FaultRule], route: str, draw: random.Random
) -> tuple[FaultRule, str] | None:
    """Return the rule that applies to `route` and the fault it draws ("none" when clean)."""
    for rule in rules:
        if rule.matches(route):
            return rule, _draw_kind(rule, draw)
    return None


def _draw_kind(rule: FaultRule, draw: random.Random) -> str:
    chances = (
        ("hang", rule.hang_rate),
        ("error", rule.error_rate),
        ("reset-before", rule.reset_before_rate),
        ("reset-after", rule.reset_after_rate),
    )
    for kind, rate in chances:
        if rate and draw.random() < rate:
            return kind
    return "none"


async def apply_fault(
    request: web.Request,
    handler: Handler,
    rule: FaultRule,
    kind: str,
    draw: random.Random,
    stopping: asyncio.Event,
) -> web.StreamResponse:
    """Serve the request with the drawn fault.

    A hang ends early when `stopping` is set, so closing the sandbox does not
    wait for hanging requests.
    """
    if rule.latency:
        await asyncio.sleep(rule.latency)
    if kind == "hang":
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=rule.hang_seconds)
        return _drop(request)
    if kind == "error":
        status = draw.choice(rule.error_statuses)
        body = {"statusCode": status, "message": _REASONS.get(status, "Server Error")}
        return web.json_response(body, status=status)
    if kind == "reset-before":
        return _drop(request)

    response = await handler(request)
    if kind == "reset-after":
        return _drop(request)
    return response


def _drop(request: web.Request) -> web.Response:
    """Abort the connection so the client sees it reset; the returned response is never sent."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)
