"""Sandbox: serves the simulated API on a local port and offers the seeding API
(locations, contacts, pipelines, opportunities, tokens) around one state.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from hoop_async.sandbox import operations, search_hooks, seed
from hoop_async.sandbox.app import create_app
from hoop_async.sandbox.auth import DEFAULT_SCOPES, Installation
from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.records import WRITE_STATUSES
from hoop_async.sandbox.render import (
    contact_json,
    custom_field_json,
    lost_reason_json,
    opportunity_json,
    pipeline_json,
)
from hoop_async.sandbox.responses import ApiError
from hoop_async.sandbox.times import datetime_to_ms

logger = logging.getLogger("hoop_async.sandbox")


class Sandbox:
    """A local HoopAI Opportunities API with seeded data.

    Use `async with Sandbox() as sb:` to serve on `sb.url`. The seeding methods
    are synchronous and work before and while the server runs.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.state = seed.build_state(self.config)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def __repr__(self) -> str:
        return f"Sandbox(url={self._url!r}, location_id={self.location_id!r})"

    async def start(self) -> None:
        """Serve the API. Port 0 picks a free port, which `url` then shows."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        runner = web.AppRunner(create_app(self), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._url = _base_url(self._host, runner.addresses[0][1])
        logger.info("sandbox serving on %s", self._url)

    async def close(self) -> None:
        """Stop serving. The state stays readable."""
        if self._runner is None:
            return
        await self._runner.cleanup()
        self._runner = None
        logger.info("sandbox on %s stopped", self._url)
        self._url = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """Base URL such as `http://127.0.0.1:54321`, or RuntimeError before start."""
        if self._url is None:
            raise RuntimeError("the sandbox is not serving: call start() or use async with")
        return self._url

    @property
    def token(self) -> str:
        """Access token for the seeded location with opportunities.readonly and .write."""
        return self.state.default_token

    @property
    def location_id(self) -> str:
        """Id of the seeded location."""
        return self.state.default_location_id

    @property
    def company_id(self) -> str:
        """Id of the company (agency) that owns every location of this sandbox."""
        return self.state.company_id

    @property
    def client_id(self) -> str:
        """Client id of the registered OAuth app."""
        return self.state.app.client_id

    @property
    def client_secret(self) -> str:
        """Client secret of the registered OAuth app."""
        return self.state.app.client_secret

    @property
    def requests(self) -> Counter[tuple[str, str]]:
        """Requests served, by (method, route template) such as ("POST", "/opportunities/")."""
        return self.state.requests

    @property
    def token_requests(self) -> int:
        """Number of POST /oauth/token requests served."""
        return self.state.token_requests

    def pipelines(self, location_id: str | None = None) -> list[dict[str, Any]]:
        """Return the pipelines as GET /opportunities/pipelines lists them."""
        location = self.state.location(location_id or self.location_id)
        return [pipeline_json(pipeline) for pipeline in location.pipelines.values()]

    def contacts(self, location_id: str | None = None) -> list[dict[str, Any]]:
        """Return the contacts (id, name, email, phone, companyName, tags)."""
        location = self.state.location(location_id or self.location_id)
        return [contact_json(contact) for contact in location.contacts.values()]

    def users(self, location_id: str | None = None) -> list[str]:
        """Return the user ids usable as assignedTo or followers."""
        return list(self.state.location(location_id or self.location_id).users)

    def lost_reasons(self, location_id: str | None = None) -> list[dict[str, Any]]:
        """Return the lost reasons as GET /opportunities/lost-reason lists them."""
        location = self.state.location(location_id or self.location_id)
        return [lost_reason_json(reason) for reason in location.lost_reasons.values()]

    def opportunities(self, location_id: str | None = None) -> list[dict[str, Any]]:
        """Return every stored opportunity, newest first, including ones searches cannot see yet."""
        location = self.state.location(location_id or self.location_id)
        records = location.opportunities.newest_first()
        return [opportunity_json(record, location) for record in records]

    def add_location(self, name: str = "Another Location", *, contacts: int = 0) -> str:
        """Create a location with default pipelines, lost reasons and users, and return its id."""
        return seed.add_location(self.state, name=name, contacts=contacts)

    def add_contact(
        self,
        location_id: str,
        *,
        name: str,
        email: str | None = None,
        phone: str | None = None,
        company_name: str | None = None,
        tags: Sequence[str] = (),
        country: str | None = "US",
    ) -> dict[str, Any]:
        """Create a contact and return it as `contacts()` lists it."""
        contact = seed.add_contact(
            self.state,
            location_id,
            name=name,
            email=email,
            phone=phone,
            company_name=company_name,
            tags=tags,
            country=country,
        )
        return contact_json(contact)

    def add_pipeline(
        self, location_id: str, name: str, stage_names: Sequence[str]
    ) -> dict[str, Any]:
        """Create a pipeline with stages in the given order and return it as the API shows it."""
        return pipeline_json(seed.add_pipeline(self.state, location_id, name, stage_names))

    def add_lost_reason(self, location_id: str, name: str) -> dict[str, Any]:
        """Create a lost reason and return it as the API shows it."""
        return lost_reason_json(seed.add_lost_reason(self.state, location_id, name))

    def add_user(self, location_id: str, name: str, *, user_id: str | None = None) -> str:
        """Add a user to a location and return its id.

        Users belong to the company, so passing the `user_id` of a user of
        another location adds that same user here.
        """
        return seed.add_user(self.state, location_id, name, user_id=user_id)

    def user_names(self, location_id: str | None = None) -> dict[str, str]:
        """Return the names of the location's users by user id."""
        return dict(self.state.location(location_id or self.location_id).users)

    def add_custom_field(
        self, location_id: str, key: str, *, name: str | None = None
    ) -> dict[str, Any]:
        """Define a text custom field on opportunities and return it as the API lists it.

        `key` is the short key ("external_id"); the API lists it as
        "opportunity.external_id". Defining an existing key returns that field.
        """
        location = self.state.location(location_id)
        return custom_field_json(
            operations.define_custom_field(self.state, location, key, name=name)
        )

    def custom_fields(self, location_id: str | None = None) -> list[dict[str, Any]]:
        """Return the custom field definitions as GET /locations/{id}/customFields lists them."""
        location = self.state.location(location_id or self.location_id)
        return [custom_field_json(field) for field in location.custom_fields.values()]

    def add_opportunity(
        self,
        location_id: str,
        *,
        name: str,
        pipeline_id: str,
        contact_id: str,
        pipeline_stage_id: str | None = None,
        status: str = "open",
        monetary_value: float = 0,
        created_at: datetime | None = None,
        assigned_to: str | None = None,
        source: str | None = None,
        lost_reason_id: str | None = None,
        campaign_id: str | None = None,
        custom_fields: Sequence[dict[str, Any]] = (),
        followers: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Store an opportunity and return it as GET /opportunities/{id} shows it.

        References (pipeline, stage, contact, lost reason) are checked and raise
        ValueError. The no-duplicate rule is not applied, so a test can set up
        duplicates. custom_fields items are `{id or key, field_value}`.
        """
        if status not in WRITE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(WRITE_STATUSES)}, not {status!r}")
        location = self.state.location(location_id)
        fields = operations.NewOpportunity(
            name=name,
            pipeline_id=pipeline_id,
            contact_id=contact_id,
            pipeline_stage_id=pipeline_stage_id,
            status=status,
            monetary_value=monetary_value,
            assigned_to=assigned_to,
            source=source,
            lost_reason_id=lost_reason_id,
            campaign_id=campaign_id,
            custom_fields=list(custom_fields),
            followers=list(followers),
            created_ms=None if created_at is None else datetime_to_ms(created_at),
        )
        origin = operations.Origin(client_id=self.client_id, seeded=True)
        try:
            record = operations.create_opportunity(
                self.state, location, fields, origin, check_duplicates=False
            )
        except ApiError as error:
            raise ValueError(error.message_text) from error
        return opportunity_json(record, location)

    def add_opportunities_bulk(
        self,
        location_id: str,
        count: int,
        *,
        pipeline_id: str | None = None,
        statuses: Sequence[str] = WRITE_STATUSES,
        newest_at: datetime | None = None,
        spacing_seconds: float = seed.BULK_SPACING_SECONDS,
        name_prefix: str = "Opportunity",
    ) -> list[str]:
        """Store `count` opportunities fast, without request checks or the duplicate rule.

        Contacts (the location needs at least one), stages of the pipeline,
        statuses, users and values are drawn from the seeded generator.
        The newest is created at `newest_at` (default now) and each older one
        `spacing_seconds` earlier. Returns the ids, newest first.
        """
        return seed.add_opportunities_bulk(
            self.state,
            location_id,
            count,
            pipeline_id=pipeline_id,
            statuses=statuses,
            newest_ms=None if newest_at is None else datetime_to_ms(newest_at),
            spacing_seconds=spacing_seconds,
            name_prefix=name_prefix,
        )

    def on_search_page(self, callback: search_hooks.SearchPageHook) -> Callable[[], None]:
        """Call `callback` with each GET or POST search page after it is built, before it is sent.

        The callback gets a `SearchPageServed` (method, request, ids on the page)
        whose insert, update and delete change the store before the client can
        request the next page. Returns a function that removes the callback.
        """
        return search_hooks.add_hook(self.state, callback)

    def set_location_setting(self, location_id: str, *, allow_duplicate_opportunity: bool) -> None:
        """Change a location setting: whether a contact may have several opportunities."""
        self.state.location(location_id).allow_duplicate_opportunity = allow_duplicate_opportunity

    def issue_token(
        self,
        location_ids: Sequence[str] | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        user_type: str = "Location",
        *,
        ttl: float | None = None,
    ) -> str:
        """Issue an access token, e.g. one without opportunities.write or for another location.

        location_ids defaults to the seeded location, and ttl (seconds) to the
        configured access token lifetime.
        """
        _check_user_type(user_type)
        locations = [self.location_id] if location_ids is None else list(location_ids)
        return seed.issue_token(
            self.state, location_ids=locations, scopes=scopes, user_type=user_type, ttl=ttl
        )

    def issue_auth_code(
        self,
        location_id: str | None = None,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        user_type: str = "Location",
    ) -> str:
        """Issue a one-time code for the authorization_code grant of the registered app.

        A Company code yields a token without a locationId and with access to no
        location.
        """
        _check_user_type(user_type)
        location = location_id or self.location_id
        self.state.location(location)
        installation = Installation(
            client_id=self.client_id,
            user_type=user_type,
            company_id=self.company_id,
            location_ids=(location,) if user_type == "Location" else (),
            scopes=tuple(scopes),
            user_id=self.state.ids.record_id(),
        )
        return self.state.tokens.issue_auth_code(installation)


def _check_user_type(user_type: str) -> None:
    if user_type not in ("Location", "Company"):
        raise ValueError(f"user_type must be 'Location' or 'Company', not {user_type!r}")


def _base_url(host: str, port: int) -> str:
    if ":" in host:
        return f"http://[{host}]:{port}"
    return f"http://{host}:{port}"
