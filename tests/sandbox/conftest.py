"""Fixtures of the sandbox tests: a started sandbox and a raw HTTP helper."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from hoop_async.sandbox import Sandbox
from hoop_async.sandbox.pytest_plugin import hoop_sandbox, hoop_sandbox_config

from .api import Api

__all__ = ["hoop_sandbox", "hoop_sandbox_config"]


@pytest.fixture
async def api(hoop_sandbox: Sandbox) -> AsyncIterator[Api]:
    """An Api bound to the default sandbox of the test."""
    async with aiohttp.ClientSession() as session:
        yield Api(session, hoop_sandbox)
