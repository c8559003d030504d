"""HoopClient lifecycle, default headers, logging and secrecy, against a recording server."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

import aiohttp
import pytest
from conftest import Recorder

from hoop_async import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    HoopClient,
    InvalidRequestError,
    RequestTimeoutError,
    StaticToken,
    TransportError,
    __version__,
)

OPPORTUNITY = {"opportunity": {"id": "OPP1", "name": "Deal"}, "traceId": "trace-42"}


async def test_every_request_sends_default_headers(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    recorder.respond(200, OPPORTUNITY)
    await recorded_client.opportunities.get("OPP1")
    headers = recorder.requests[0].headers
    assert headers["Authorization"] == "Bearer secret-token-123"
    assert headers["Version"] == "2021-07-28"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == f"hoop-async/{__version__}"


async def test_version_is_configurable(recorder: Recorder) -> None:
    async with HoopClient(token="t", base_url=recorder.url, version="2023-02-21") as client:
        recorder.respond(200, OPPORTUNITY)
        await client.opportunities.get("OPP1")
    assert recorder.requests[0].headers["Version"] == "2023-02-21"


async def test_fixed_token_json_body_headers(
    recorder: Recorder, recorded_client: HoopClient
) -> None:
    recorder.respond(200, OPPORTUNITY)
    await recorded_client.opportunities.update("OPP1", name="Renamed")
    headers = recorder.requests[0].headers
    assert headers["Authorization"] == "Bearer secret-token-123"
    assert headers["Content-Type"] == "application/json"
    assert recorder.requests[0].body == {"name": "Renamed"}


async def test_static_token_subclass_asked_per_request(recorder: Recorder) -> None:
    class CountingToken(StaticToken):
        """A StaticToken subclass that hands out a new token on every request."""

        def __init__(self) -> None:
            super().__init__("unused")
            self.calls = 0

        async def access_token(self, location_id: str | None) -> str:
            self.calls += 1
            return f"token-{self.calls}"

    credentials = CountingToken()
    async with HoopClient(credentials=credentials, base_url=recorder.url) as client:
        recorder.respond(200, OPPORTUNITY)
        recorder.respond(200, OPPORTUNITY)
        await client.opportunities.get("OPP1")
        await client.opportunities.get("OPP1")
    assert credentials.calls == 2
    assert recorder.requests[0].headers["Authorization"] == "Bearer token-1"
    assert recorder.requests[1].headers["Authorization"] == "Bearer token-2"


async def test_session_created_on_enter_not_construction(recorder: Recorder) -> None:
    client = HoopClient(token="t", base_url=recorder.url)
    assert client._session._http is None
    async with client:
        assert client._session._http is not None
    assert client.closed


async def test_session_created_on_first_use(recorder: Recorder) -> None:
    client = HoopClient(token="t", base_url=recorder.url)
    recorder.respond(200, OPPORTUNITY)
    opportunity = await client.opportunities.get("OPP1")
    assert opportunity.id == "OPP1"
    await client.close()


def test_client_constructed_outside_loop() -> None:
    client = HoopClient(token="t")
    assert not client.closed
    assert client._session._http is None


async def test_call_after_close_raises(recorder: Recorder) -> None:
    async with HoopClient(token="t", base_url=recorder.url) as client:
        pass
    with pytest.raises(ClientClosedError, match="closed"):
        await client.opportunities.get("OPP1")
    assert recorder.requests == []


async def test_close_twice_is_harmless(recorder: Recorder) -> None:
    client = HoopClient(token="t", base_url=recorder.url)
    async with client:
        pass
    await client.close()
    assert client.closed


async def test_unclosed_client_warns(recorder: Recorder) -> None:
    leaked = HoopClient(token="t", base_url=recorder.url)
    leaked._session.open()
    http = leaked._session._http
    with pytest.warns(ResourceWarning, match="unclosed <HoopClient"):
        leaked.__del__()
    assert http is not None
    await http.close()
    leaked._session._closed = True


def test_repr_hides_token() -> None:
    client = HoopClient(token="super-secret-token", base_url="http://127.0.0.1:1")
    assert "super-secret-token" not in repr(client)
    assert "super-secret-token" not in repr(client._session.credentials)
    assert repr(client) == "<HoopClient http://127.0.0.1:1 version=2021-07-28 open>"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"token": ""}, "token"),
        ({"token": "   "}, "token"),
        ({}, "token"),
        ({"token": "t", "base_url": "services.leadconnectorhq.com"}, "base_url"),
        ({"token": "t", "timeout": 0}, "timeout"),
        ({"token": "t", "timeout": -1.5}, "timeout"),
        ({"token": "t", "version": ""}, "version"),
    ],
)
def test_bad_client_arguments(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        HoopClient(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


async def test_connection_refused_is_transport_error() -> None:
    async with HoopClient(token="t", base_url="http://127.0.0.1:9") as client:
        with pytest.raises(TransportError) as caught:
            await client.opportunities.get("OPP1")
    assert caught.value.method == "GET"
    assert caught.value.path == "/opportunities/OPP1"
    assert "t" not in caught.value.reason.split()


async def test_slow_server_times_out(recorder: Recorder) -> None:
    async def slow(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await asyncio.sleep(2)
        return aiohttp.web.json_response(OPPORTUNITY)

    app = aiohttp.web.Application()
    app.router.add_get("/opportunities/{id}", slow)
    from aiohttp.test_utils import TestServer

    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        async with HoopClient(token="t", base_url=url, timeout=0.2) as client:
            with pytest.raises(RequestTimeoutError, match=r"no response within 0\.2 s"):
                await client.opportunities.get("OPP1")
    finally:
        await server.close()


async def test_debug_log_names_request_without_secrets(
    recorder: Recorder, recorded_client: HoopClient, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.respond(200, OPPORTUNITY)
    recorder.respond(
        404, {"statusCode": 404, "message": "Opportunity not found", "traceId": "trace-404"}
    )
    with caplog.at_level(logging.DEBUG, logger="hoop_async"):
        await recorded_client.opportunities.get("OPP1")
        with pytest.raises(Exception, match="404"):
            await recorded_client.opportunities.get("OPP2")
    lines = [record.getMessage() for record in caplog.records if record.name == "hoop_async"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /opportunities/OPP1 -> 200 in ")
    assert lines[0].endswith("(traceId trace-42)")
    assert "traceId trace-404" in lines[1]
    assert all("secret-token-123" not in line for line in caplog.text.splitlines())


async def test_stats_count_requests(recorder: Recorder, recorded_client: HoopClient) -> None:
    recorder.respond(200, OPPORTUNITY)
    recorder.respond(404, {"message": "Opportunity not found"})
    await recorded_client.opportunities.get("OPP1")
    with pytest.raises(Exception, match="404"):
        await recorded_client.opportunities.get("OPP2")
    assert recorded_client.stats.requests == 2
    assert recorded_client.stats.statuses == {200: 1, 404: 1}


def test_no_resource_warning_after_clean_use() -> None:
    async def use() -> None:
        async with HoopClient(token="t", base_url="http://127.0.0.1:9"):
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        asyncio.run(use())
        gc.collect()


class RotatingCredentials:
    """Credentials that hand out token-1, then token-2 after a rejection."""

    def __init__(self, renew: bool = True) -> None:
        self.renew = renew
        self.current = "token-1"
        self.rejected: list[tuple[str | None, str]] = []
        self.locations: list[str | None] = []

    async def access_token(self, location_id: str | None) -> str:
        self.locations.append(location_id)
        return self.current

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        self.rejected.append((location_id, token))
        if self.renew:
            self.current = "token-2"
        return self.renew


async def test_invalid_token_retried_once_with_new_token(recorder: Recorder) -> None:
    credentials = RotatingCredentials()
    recorder.respond(401, {"statusCode": 401, "message": "Invalid JWT"})
    recorder.respond(200, OPPORTUNITY)
    async with HoopClient(
        credentials=credentials, base_url=recorder.url, location_id="LOC1"
    ) as client:
        opportunity = await client.opportunities.get("OPP1")
    assert opportunity.id == "OPP1"
    assert credentials.rejected == [("LOC1", "token-1")]
    tokens = [request.headers["Authorization"] for request in recorder.requests]
    assert tokens == ["Bearer token-1", "Bearer token-2"]


async def test_second_invalid_token_reaches_caller(recorder: Recorder) -> None:
    credentials = RotatingCredentials()
    recorder.respond(401, {"statusCode": 401, "message": "Invalid JWT"})
    recorder.respond(401, {"statusCode": 401, "message": "Invalid JWT"})
    async with HoopClient(credentials=credentials, base_url=recorder.url) as client:
        with pytest.raises(AuthenticationError):
            await client.opportunities.get("OPP1")
    assert len(recorder.requests) == 2
    assert len(credentials.rejected) == 1


@pytest.mark.parametrize(
    "message",
    [
        "The token is not authorized for this scope.",
        "version header is invalid",
        "This route is not yet supported by the IAM Service.",
    ],
)
async def test_other_401s_never_renew_token(recorder: Recorder, message: str) -> None:
    credentials = RotatingCredentials()
    recorder.respond(401, {"statusCode": 401, "message": message})
    async with HoopClient(credentials=credentials, base_url=recorder.url) as client:
        with pytest.raises(APIError):
            await client.opportunities.get("OPP1")
    assert credentials.rejected == []
    assert len(recorder.requests) == 1


async def test_request_location_reaches_credentials(recorder: Recorder) -> None:
    credentials = RotatingCredentials()
    recorder.respond(200, {"pipelines": []})
    async with HoopClient(credentials=credentials, base_url=recorder.url) as client:
        await client.opportunities.pipelines("LOC7")
    assert credentials.locations == ["LOC7"]
