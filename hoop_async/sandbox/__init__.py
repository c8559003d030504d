"""A local, in-memory HoopAI / HighLevel Opportunities API v2 for tests and demos.

It reproduces the live API where it differs from the spec: status codes, error
bodies, cursors, rate-limit headers and refresh-token rotation.
"""

from typing import TYPE_CHECKING

from hoop_async._lazy import lazy_attributes

if TYPE_CHECKING:
    from hoop_async.sandbox.app import create_app
    from hoop_async.sandbox.config import SandboxConfig
    from hoop_async.sandbox.faults import FaultRule
    from hoop_async.sandbox.server import Sandbox
else:
    # The server and its aiohttp.web application load on first use, so the
    # `hoop` command can read its seeding flags without loading them.
    __getattr__, __dir__ = lazy_attributes(
        __name__,
        {
            "hoop_async.sandbox.app": ("create_app",),
            "hoop_async.sandbox.config": ("SandboxConfig",),
            "hoop_async.sandbox.faults": ("FaultRule",),
            "hoop_async.sandbox.server": ("Sandbox",),
        },
    )

__all__ = ["FaultRule", "Sandbox", "SandboxConfig", "create_app"]
