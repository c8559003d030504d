"""A thin raw-HTTP helper for the sandbox tests: one aiohttp request, decoded."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from hoop_async.sandbox import Sandbox, SandboxConfig

VERSION = "2021-07-28"
USE_SANDBOX_TOKEN = "use the sandbox token"


@attrs.frozen
class Reply:
    """Status, decoded JSON body and headers of one response."""

    status: int
    body: Any
    headers: CIMultiDictProxy[str]


class Api:
    """Sends requests to one sandbox, with its token and Version header by default."""

    def __init__(self, session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
        self.session = session
        self.sandbox = sandbox
        self._names = itertools.count(1)

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = USE_SANDBOX_TOKEN,
        version: str | None = VERSION,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
    ) -> Reply:
        """Send one request. token=None or version=None leaves that header out."""
        headers = {}
        if token is not None:
            bearer = self.sandbox.token if token == USE_SANDBOX_TOKEN else token
            headers["Authorization"] = f"Bearer {bearer}"
        if version is not None:
            headers["Version"] = version
        async with self.session.request(
            method, self.sandbox.url + path, params=params, json=json, data=data, headers=headers
        ) as response:
            body = await response.json(content_type=None)
            return Reply(status=response.status, body=body, headers=response.headers)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("DELETE", path, **kwargs)

    @property
    def location_id(self) -> str:
        return self.sandbox.location_id

    def pipeline(self, position: int = 0) -> dict[str, Any]:
        """Return a seeded pipeline of the sandbox's location."""
        return self.sandbox.pipelines(self.location_id)[position]

    def new_contact(self, name: str | None = None) -> str:
        """Add a contact to the seeded location and return its id."""
        number = next(self._names)
        contact_name = name or f"Tess Contact{number}"
        contact = self.sandbox.add_contact(
            self.location_id,
            name=contact_name,
            email=f"tess.contact{number}@example.com",
            phone=f"+1555555{9000 + number:04d}",
        )
        return str(contact["id"])

    def create_body(self, **overrides: Any) -> dict[str, Any]:
        """Return a valid create body for a new contact in the first pipeline."""
        body = {
            "locationId": self.location_id,
            "pipelineId": self.pipeline()["id"],
            "contactId": self.new_contact(),
            "name": "Website redesign",
            "status": "open",
        }
        body.update(overrides)
        return body

    async def create(self, **overrides: Any) -> dict[str, Any]:
        """Create an opportunity through the API and return it; fails unless 201."""
        reply = await self.post("/opportunities/", json=self.create_body(**overrides))
        assert reply.status == 201, reply.body
        opportunity: dict[str, Any] = reply.body["opportunity"]
        return opportunity


@asynccontextmanager
async def open_api(config: SandboxConfig | None = None) -> AsyncIterator[Api]:
    """Start a sandbox with `config` and yield an Api bound to it."""
    async with Sandbox(config=config) as sandbox, aiohttp.ClientSession() as session:
        yield Api(session, sandbox)
