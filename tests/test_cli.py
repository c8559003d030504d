"""The `hoop` command: the demo on an embedded sandbox and on a server, and `hoop sandbox`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from hoop_async import HoopClient
from hoop_async.cli import main
from hoop_async.sandbox import Sandbox


def test_demo_on_embedded_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--count", "40"]) == 0
    out = capsys.readouterr().out
    assert "created 40 opportunities" in out
    assert "rejected as duplicate of " in out
    assert "upserted 6 again: 0 created, 6 updated in place" in out
    assert "search by pipeline: 40 opportunities" in out
    assert re.search(r"deleted \w+ \(a later GET answers 404\)", out)
    assert re.search(r"^total\s+39\s", out, re.MULTILINE)
    assert re.search(r"\d+ requests in \d+\.\d\d s", out)


def test_demo_rejects_tiny_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--count", "1"]) == 2
    assert "--count must be 2 or more" in capsys.readouterr().err


def test_demo_on_server_needs_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOP_TOKEN", raising=False)
    assert main(["demo", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "set HOOP_TOKEN" in capsys.readouterr().err


async def test_demo_on_running_server(hoop_sandbox: Sandbox, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed = {
        "locationId": hoop_sandbox.location_id,
        "contactIds": [c["id"] for c in hoop_sandbox.contacts(hoop_sandbox.location_id)],
        "userIds": hoop_sandbox.users(hoop_sandbox.location_id),
    }
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hoop_async.cli",
        "demo",
        "--base-url",
        hoop_sandbox.url,
        "--seed-file",
        str(seed_file),
        "--count",
        "30",
        env={**os.environ, "HOOP_TOKEN": hoop_sandbox.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "created 30 opportunities" in out.decode()
    assert len(hoop_sandbox.opportunities(hoop_sandbox.location_id)) == 29


async def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hoop_async.cli",
        "sandbox",
        "--port",
        "0",
        "--seed-file",
        str(seed_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "Ctrl-C" not in lines[-1]:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert line, "hoop sandbox exited early"
            lines.append(line.decode())
        text = "".join(lines)
        url = re.search(r"listening on (http://\S+)", text)
        token = re.search(r"HOOP_TOKEN=(\S+)", text)
        assert url is not None
        assert token is not None
        seed = json.loads(seed_file.read_text(encoding="utf-8"))
        async with HoopClient(
            token=token.group(1), base_url=url.group(1), location_id=seed["locationId"]
        ) as client:
            assert await client.opportunities.pipelines()
        assert len(seed["contactIds"]) >= 100
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode in (0, 130)
