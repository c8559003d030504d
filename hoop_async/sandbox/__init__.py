"""A local, in-memory HoopAI / HighLevel Opportunities API v2 for tests and demos.

It reproduces the live API where it differs from the spec: status codes, error
bodies, cursors, rate-limit headers and refresh-token rotation.
"""

from hoop_async.sandbox.app import create_app
from hoop_async.sandbox.config import SandboxConfig
from hoop_async.sandbox.faults import FaultRule
from hoop_async.sandbox.server import Sandbox

__all__ = ["FaultRule", "Sandbox", "SandboxConfig", "create_app"]
