"""The official SDK's own environment, benchmarks/.venv-official, and calls into it.

The official `gohighlevel-api-client` is installed there only, never into the
project's environment, and driven through official_driver.py in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-official"
PYTHON = VENV / "bin" / "python"
DRIVER = HERE / "official_driver.py"
PACKAGE = "gohighlevel-api-client==3.0.0"
DRIVER_TIMEOUT = 600.0


class OfficialUnavailable(Exception):
    """The official SDK could not be installed or run; the message says why."""


def ensure_environment() -> str:
    """Create the venv and install the official SDK on first use; return its version."""
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    check = subprocess.run(
        [str(PYTHON), "-c", "import highlevel"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        install = subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", PACKAGE],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0:
            raise OfficialUnavailable(f"pip install {PACKAGE} failed: {install.stderr.strip()}")
    shown = subprocess.run(
        [str(PYTHON), "-m", "pip", "show", "gohighlevel-api-client"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in shown.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


async def run_driver(
    mode: str, url: str, token: str, items: list[Any], requests: int, concurrency: int = 1
) -> dict[str, Any]:
    """Run official_driver.py in the official SDK's venv and return its JSON result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(items, file)
        items_path = file.name
    try:
        process = await asyncio.create_subprocess_exec(
            str(PYTHON),
            str(DRIVER),
            mode,
            "--url",
            url,
            "--token",
            token,
            "--requests",
            str(requests),
            "--concurrency",
            str(concurrency),
            "--ids-file",
            items_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), DRIVER_TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise OfficialUnavailable(
                f"{DRIVER.name} {mode} timed out after {DRIVER_TIMEOUT:.0f} s"
            ) from None
        if process.returncode != 0:
            raise OfficialUnavailable(
                f"{DRIVER.name} {mode} failed (exit {process.returncode}): "
                f"{err.decode(errors='replace').strip()[-500:]}"
            )
        # The SDK logs errors to stdout too, so the result is the last line.
        lines = out.decode(errors="replace").strip().splitlines()
        if not lines:
            raise OfficialUnavailable(f"{DRIVER.name} {mode} printed no result")
        result: dict[str, Any] = json.loads(lines[-1])
        return result
    finally:
        await asyncio.to_thread(Path(items_path).unlink, missing_ok=True)


if __name__ == "__main__":
    print(ensure_environment(), file=sys.stderr)
