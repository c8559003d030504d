"""pytest fixtures that run a sandbox per test.

Enable with `pytest_plugins = ["hoop_async.sandbox.pytest_plugin"]` in a conftest.
Override the `hoop_sandbox_config` fixture to change the sandbox settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.server import Sandbox


@pytest.fixture
def hoop_sandbox_config() -> SandboxConfig:
    """Settings of the `hoop_sandbox` fixture (default settings)."""
    return SandboxConfig()


@pytest_asyncio.fixture
async def hoop_sandbox(hoop_sandbox_config: SandboxConfig) -> AsyncIterator[Sandbox]:
    """Start a sandbox on 127.0.0.1 and a free port, yield it, and close it after the test."""
    async with Sandbox(config=hoop_sandbox_config) as sandbox:
        yield sandbox
