"""State of one sandbox: locations with their pipelines, lost reasons, users,
contacts and opportunities, the token registry, the rate limiter and the
request counters.
"""

from __future__ import annotations

import random
from collections import Counter

import attrs

from hoop_async.sandbox import responses
from hoop_async.sandbox.auth import OAuthApp, TokenRegistry
from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.ids import IdFactory
from hoop_async.sandbox.index import OpportunityIndex
from hoop_async.sandbox.ratelimit import RateLimiter
from hoop_async.sandbox.records import (
    Contact,
    CustomFieldDefinition,
    LostReason,
    OpportunityRecord,
    Pipeline,
)


@attrs.define(kw_only=True)
class Location:
    """A location (sub-account) and everything the Opportunities API shows of it."""

    id: str
    name: str
    company_id: str
    created_ms: int
    allow_duplicate_opportunity: bool = False
    pipelines: dict[str, Pipeline] = attrs.field(factory=dict)
    lost_reasons: dict[str, LostReason] = attrs.field(factory=dict)
    users: dict[str, str] = attrs.field(factory=dict)
    """User names by user id."""
    contacts: dict[str, Contact] = attrs.field(factory=dict)
    custom_fields: dict[str, CustomFieldDefinition] = attrs.field(factory=dict)
    """Custom field definitions by field key. A key written before it was defined
    is defined on first use, as a text field named after the key."""
    opportunities: OpportunityIndex = attrs.field(factory=OpportunityIndex)


class SandboxState:
    """Everything one sandbox stores, shared by the server and the seeding API."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.ids = IdFactory(config.seed)
        self.company_id = self.ids.record_id()
        self.locations: dict[str, Location] = {}
        self.opportunity_locations: dict[str, str] = {}
        """Location id of every opportunity id, for the routes that take only an id."""
        self.tokens = TokenRegistry(self.ids)
        self.app: OAuthApp = self.tokens.register_app()
        self.rate_limiter = RateLimiter(config)
        self.requests: Counter[tuple[str, str]] = Counter()
        """Requests served, by (method, route template) such as ("POST", "/opportunities/")."""
        self.token_requests = 0
        self.faults: Counter[tuple[str, str]] = Counter()
        """Faults injected, by (kind, route) such as ("reset-after", "POST /opportunities/")."""
        self.fault_random = random.Random(config.fault_seed)
        self.contacts_created = 0
        """Count of generated contacts, which numbers their emails and phones."""
        self.default_location_id = ""
        self.default_token = ""

    def location(self, location_id: str) -> Location:
        """Return the location, or raise ValueError naming the unknown id."""
        location = self.locations.get(location_id)
        if location is None:
            raise ValueError(f"unknown location id {location_id!r}")
        return location

    def api_location(self, location_id: str) -> Location:
        """Return the location for a request, or raise a 400 naming the unknown id."""
        location = self.locations.get(location_id)
        if location is None:
            raise responses.bad_request(f"Location {location_id} not found.")
        return location

    def find_opportunity(self, opportunity_id: str) -> OpportunityRecord | None:
        """Return the opportunity with this id in any location, or None."""
        location_id = self.opportunity_locations.get(opportunity_id)
        if location_id is None:
            return None
        return self.locations[location_id].opportunities.get(opportunity_id)

    def new_record_id(self) -> str:
        """Return a record id that no opportunity uses yet."""
        while True:
            candidate = self.ids.record_id()
            if candidate not in self.opportunity_locations:
                return candidate
