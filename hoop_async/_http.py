"""Small pure helpers of the session: body decoding, Retry-After, and aiohttp failure mapping."""

from __future__ import annotations

import asyncio
import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from hoop_async.errors import RequestTimeoutError, TransportError

__all__ = ["decode_body", "parse_retry_after", "transport_error"]


def decode_body(raw: bytes) -> Any:
    """Decode a response body: JSON when it parses, else the text (an HTML error page)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header, in seconds or as an HTTP date, into seconds from now."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def transport_error(
    method: str, path: str, error: BaseException, timeout: aiohttp.ClientTimeout
) -> TransportError:
    """Map an aiohttp or timeout exception to the most specific TransportError.

    Only a failure to connect proves the request never left the client:
    connection refused, a DNS failure, or no connection within the connect
    timeout. After a reset or a read timeout the server may have acted on it.
    """
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(
            method, path, f"no connection within {timeout.connect} s", maybe_sent=False
        )
    if isinstance(error, aiohttp.ClientConnectorError):
        return TransportError(method, path, f"cannot connect: {error}", maybe_sent=False)
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return RequestTimeoutError(method, path, f"no response within {timeout.total} s")
    return TransportError(method, path, f"{type(error).__name__}: {error}")
