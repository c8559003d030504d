"""Fixtures shared by the client tests: the sandbox, a client on it, a recording server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hoop_async import HoopClient
from hoop_async.sandbox import Sandbox

pytest_plugins = ["hoop_async.sandbox.pytest_plugin"]


@pytest.fixture
async def client(hoop_sandbox: Sandbox) -> AsyncIterator[HoopClient]:
    async with HoopClient(
        token=hoop_sandbox.token,
        base_url=hoop_sandbox.url,
        location_id=hoop_sandbox.location_id,
    ) as opened:
        yield opened


@attrs.define
class Recorded:
    """One request as the recording server saw it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


@attrs.define
class Recorder:
    """A loopback server that records requests and returns queued responses."""

    url: str = ""
    requests: list[Recorded] = attrs.field(factory=list)
    responses: list[tuple[int, Any, dict[str, str]]] = attrs.field(factory=list)
    default: tuple[int, Any, dict[str, str]] = (200, {}, {})

    def respond(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Queue the response to the next request."""
        self.responses.append((status, body, headers or {}))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            Recorded(
                method=request.method,
                path=request.path,
                query=list(request.query.items()),
                headers=dict(request.headers),
                body=json.loads(raw) if raw else None,
            )
        )
        status, body, headers = self.responses.pop(0) if self.responses else self.default
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(
            status=status, text=text, content_type="application/json", headers=headers
        )


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recording = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recording.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    recording.url = str(server.make_url("")).rstrip("/")
    try:
        yield recording
    finally:
        await server.close()


@pytest.fixture
async def recorded_client(recorder: Recorder) -> AsyncIterator[HoopClient]:
    async with HoopClient(
        token="secret-token-123", base_url=recorder.url, location_id="LOC1"
    ) as opened:
        yield opened


# -- Redis: one redis-server per test session, for the tests/test_redis_*.py files --


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a redis-server on 127.0.0.1 that this test session started; skips without one."""
    from redis_support import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
