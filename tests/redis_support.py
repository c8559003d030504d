"""Helpers of the Redis tests (this module has no tests): a redis-server of their own on
127.0.0.1 and a free port, and the skip that HOOP_REQUIRE_REDIS=1 turns into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REQUIRE_VARIABLE = "HOOP_REQUIRE_REDIS"
START_TIMEOUT = 10.0


def redis_server_binary() -> str:
    """Return the path of redis-server; skip the test, or fail it when Redis is required."""
    binary = shutil.which("redis-server")
    if binary is not None:
        return binary
    message = "redis-server is not installed (apt-get install redis-server)"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message}, and {REQUIRE_VARIABLE}=1 forbids skipping the Redis tests")
    pytest.skip(f"{message}; set {REQUIRE_VARIABLE}=1 to fail instead of skipping")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A redis-server process on 127.0.0.1 without persistence, in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_ready()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _wait_until_ready(self) -> None:
        give_up_at = time.monotonic() + START_TIMEOUT
        while time.monotonic() < give_up_at:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"redis-server on port {self.port} did not answer within {START_TIMEOUT} s"
        )


def unique_prefix() -> str:
    """Key prefix of one test, so tests sharing a server never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}"
