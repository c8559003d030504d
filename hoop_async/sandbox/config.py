"""Settings of the sandbox server.

SandboxConfig contains every setting of the simulated API: token lifetime, the
duplicate rule, rate limits, search index lag and the seed of the generated data.
"""

from __future__ import annotations

from typing import Any

import attrs

from hoop_async.sandbox.faults import FaultRule

DUPLICATE_SCOPES = ("pipeline", "location")
RETRY_AFTER_MODES = ("seconds", "http-date", "none")
ACCEPTED_VERSIONS = ("2021-07-28", "2021-04-15", "2023-02-21", "v3")


def _default_rate_limit_body() -> dict[str, Any]:
    return {"statusCode": 429, "message": "Too Many Requests"}


@attrs.define(kw_only=True)
class SandboxConfig:
    """Behaviour switches of one sandbox.

    The server reads the fields on every request, so a test may change them while
    it runs. `seed`, `seed_contacts` and `seed_opportunities` act only when the
    sandbox is built.
    """

    access_token_ttl: float = attrs.field(default=86399.0, validator=attrs.validators.gt(0))
    """Lifetime of issued access tokens, in seconds (the live API uses 86,399)."""

    duplicate_scope: str = attrs.field(
        default="pipeline", validator=attrs.validators.in_(DUPLICATE_SCOPES)
    )
    """Scope of the no-duplicate rule: one card per contact per "pipeline" or
    per "location". The live API's scope is unverified, so the default is a guess."""

    rate_limit_max: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    """Requests allowed per bucket within one rate-limit interval."""

    rate_limit_interval_ms: int = attrs.field(default=10_000, validator=attrs.validators.ge(1))
    """Length of the sliding rate-limit window, in milliseconds."""

    rate_limit_daily: int = attrs.field(default=200_000, validator=attrs.validators.ge(1))
    """Requests allowed per bucket per UTC day."""

    enforce_rate_limit: bool = False
    """Switch for 429 responses past the limits. The X-RateLimit-* headers are sent either way."""

    retry_after: str = attrs.field(
        default="seconds", validator=attrs.validators.in_(RETRY_AFTER_MODES)
    )
    """Retry-After format on 429: "seconds", "http-date", or "none" (header left out).
    The live API's format is unverified."""

    rate_limit_body: dict[str, Any] = attrs.field(factory=_default_rate_limit_body)
    """JSON body of a 429 response, sent as given (the live body is unverified)."""

    index_lag: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    """Seconds a created or changed record stays invisible to both searches."""

    iam_rejects_filters: bool = False
    """Switch that rejects POST /opportunities/search with a non-empty `filters` list
    with 401, as the live API's IAM service does for some apps."""

    invalid_grant_status: int = 400
    """HTTP status of an `invalid_grant` token error (unverified on the live API)."""

    accepted_versions: tuple[str, ...] = ACCEPTED_VERSIONS
    """Values of the Version header that the server accepts."""

    seed_contacts: int = attrs.field(default=300, validator=attrs.validators.ge(0))
    """Contacts generated for the seeded location."""

    seed_opportunities: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    """Opportunities generated for the seeded location (needs seed_contacts > 0)."""

    seed: int = 0
    """Seed of every generated id and value."""

    faults: list[FaultRule] = attrs.field(factory=list)
    """Fault rules (latency, 5xx responses, dropped connections, hangs); the first rule
    whose routes match a request applies. Empty: every request is served cleanly."""

    fault_seed: int = 0
    """Seed of the random draws that decide which requests get a fault."""
