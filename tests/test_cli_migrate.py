"""`hoop import`, `hoop export`, `hoop pipelines` and the seeding flags of
`hoop sandbox`, run as a user runs them: in child processes, configured by
the environment, with exit statuses, messages and Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from migrate_support import (
    AGENTS,
    GOOD_ROWS,
    HEADER,
    comparable,
    crm_mapping,
    external_ids,
    small_crm_files,
    small_crm_sandbox,
    write_csv,
)
from oauth_support import install

from hoop_async.auth import FileTokenStore
from hoop_async.sandbox import FaultRule, Sandbox

TIMEOUT = 60


async def hoop(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hoop_async.cli",
        *args,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with small_crm_sandbox(tmp_path) as started:
        yield started


@pytest.fixture
def env(sandbox: Sandbox) -> dict[str, str]:
    return {
        "HOOP_BASE_URL": sandbox.url,
        "HOOP_TOKEN": sandbox.token,
        "HOOP_LOCATION_ID": sandbox.location_id,
    }


@pytest.fixture
def mapping_file(tmp_path: Path, sandbox: Sandbox) -> Path:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(crm_mapping(tmp_path, tmp_path / "products.csv")), encoding="utf-8")
    return path


async def test_import_exit_statuses_and_summary(
    sandbox: Sandbox, env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    rows = [*GOOD_ROWS, ["X1", "Moses Frase", "GTX Basic", "", "Won", "", "", "10"]]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    command = ("import", str(source), "--mapping", str(mapping_file))

    status, out, _ = await hoop(*command, env=env, cwd=tmp_path)
    assert status == 3
    assert re.search(r"^  imported\s+4$", out, re.MULTILINE)
    assert re.search(r"^\s+1  missing contact$", out, re.MULTILINE)
    assert "1 rejected rows written to deals.rejects.csv" in out
    assert (tmp_path / "deals.report.jsonl").exists()

    # The user fixes the rejects file, then reruns the first import twice before using it.
    rejects = tmp_path / "deals.rejects.csv"
    edited = rejects.read_text(encoding="utf-8").replace(",,Won,", ",Cancity,Won,")
    rejects.write_text(edited, encoding="utf-8")
    for _ in range(2):
        status, _, _ = await hoop(*command, env=env, cwd=tmp_path)
        assert status == 3
    assert (tmp_path / "deals.rejects.csv.bak").read_text(encoding="utf-8") == edited
    assert (tmp_path / "deals.rejects.csv.bak.2").exists()

    write_csv(source, HEADER, GOOD_ROWS)
    status, out, _ = await hoop(*command, env=env, cwd=tmp_path)
    assert status == 0
    assert re.search(r"^  unchanged\s+4$", out, re.MULTILINE)
    assert not (tmp_path / "deals.rejects.csv").exists()
    # Users edit rejects files, so the earlier one is kept rather than deleted.
    assert "X1" in (tmp_path / "deals.rejects.csv.bak.3").read_text(encoding="utf-8")
    assert "the earlier rejects file was moved to deals.rejects.csv.bak.3" in out


async def test_import_usage_errors_exit_2_with_the_fix(
    env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)

    missing = str(tmp_path / "nope.csv")
    status, _, err = await hoop("import", missing, "--mapping", str(mapping_file), env=env)
    assert status == 2
    assert "nope.csv does not exist" in err

    status, _, err = await hoop(
        "import", str(source), "--mapping", str(mapping_file), "--pipeline", "Dealz", env=env
    )
    assert status == 2
    assert (
        "no pipeline named 'Dealz'; its pipelines are 'Sales Pipeline', 'Onboarding', 'Deals'"
        in err
    )

    status, _, err = await hoop(
        "export", "-o", str(tmp_path / "x.csv"), "--page-size", "500", env=env
    )
    assert status == 2
    assert "--page-size must be 1 to 100 (the API's maximum), not 500" in err

    status, _, err = await hoop(
        "import", str(source), "--mapping", str(mapping_file), env={**env, "HOOP_TOKEN": "wrong"}
    )
    assert status == 1
    assert "401" in err
    assert "check HOOP_TOKEN; a sandbox issues a new token each time it starts" in err

    status, _, err = await hoop("import", str(source), "--map", "colour=x", env=env)
    assert status == 2
    assert "--map 'colour=x' must be FIELD=COLUMN" in err

    status, _, err = await hoop("import", str(source), "--pipeline", "Deals", env=env)
    assert status == 2
    assert "or --external-id COLUMN on the command line" in err

    status, _, err = await hoop(
        "import", str(source), "--pipeline", "Deals", "--external-id", "opportunity_id",
        "--map", "contact=account", "--location", "elsewhere", env=env,
    )  # fmt: skip
    assert status == 2
    assert "the token has no access to location 'elsewhere'" in err

    status, _, err = await hoop(
        "import", str(source), "--mapping", str(mapping_file), env={**env, "HOOP_TOKEN": ""}
    )
    assert status == 2
    assert "no credentials: set HOOP_TOKEN" in err

    bad = tmp_path / "bad.json"
    bad.write_text("{pipeline: Deals}", encoding="utf-8")
    status, _, err = await hoop("import", str(source), "--mapping", str(bad), env=env)
    assert status == 2
    assert "is not valid JSON" in err


async def test_import_with_flags_only(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    contacts = {c["name"]: c["id"] for c in sandbox.contacts()}
    rows = [["A-1", "Big deal", contacts["Cancity"], "Won", "won"]]
    source = write_csv(tmp_path / "plain.csv", ["ref", "title", "contact", "stage", "state"], rows)

    status, out, err = await hoop(
        "import", str(source), "--pipeline", "Deals", "--external-id", "ref",
        "--map", "name=title", "--map", "contact=contact", "--map", "stage=stage",
        "--map", "status=state", env=env, cwd=tmp_path,
    )  # fmt: skip

    assert status == 0, err
    assert re.search(r"^  imported\s+1$", out, re.MULTILINE)
    assert comparable(sandbox, sandbox.location_id)["A-1"][0:5] == (
        "Big deal",
        0.0,
        "Deals",
        "Won",
        "won",
    )


async def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(
    sandbox: Sandbox, env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    accounts = ["Acme Corporation", "Betatech", "Cancity", "Codehow"]
    rows = [
        [f"S{i}", "Moses Frase", "GTX Basic", accounts[i % 4], "Won", "", "", str(i)]
        for i in range(400)
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    sandbox.config.faults = [FaultRule(routes=("POST /opportunities/",), latency=0.01)]
    command = ("import", str(source), "--mapping", str(mapping_file), "--concurrency", "2")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hoop_async.cli", *command,
        env={**os.environ, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    for _ in range(TIMEOUT * 20):  # poll every 50 ms, up to TIMEOUT seconds
        if sandbox.requests["POST", "/opportunities/"] >= 50 or process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)

    assert process.returncode == 130, err.decode()
    assert "stopping after the requests in flight" in err.decode()
    assert "interrupted: run the same command again" in out.decode()
    cut = len(external_ids(sandbox, sandbox.location_id))
    assert 50 <= cut < 400

    sandbox.config.faults = []
    status, out_again, _ = await hoop(*command, env=env, cwd=tmp_path)
    assert status == 0
    assert re.search(rf"^  unchanged\s+{cut}$", out_again, re.MULTILINE)
    stored = external_ids(sandbox, sandbox.location_id)
    assert len(stored) == 400
    assert set(stored.values()) == {1}


async def test_pipelines_and_export_commands(
    sandbox: Sandbox, env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    status, out, _ = await hoop("pipelines", env=env)
    assert status == 0
    assert re.search(r"^Deals  \(\w+\)$", out, re.MULTILINE)
    assert re.search(r"^   1\. Prospecting  [\w-]+$", out, re.MULTILINE)
    assert re.search(r"^   4\. Lost\s+[\w-]+$", out, re.MULTILINE)

    source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
    await hoop("import", str(source), "--mapping", str(mapping_file), env=env, cwd=tmp_path)
    output = tmp_path / "out.jsonl"
    status, out, _ = await hoop("export", "-o", str(output), "--status", "open", env=env)
    assert status == 0
    assert f"2 opportunities in {output}" in out
    assert {json.loads(line)["custom.external_id"] for line in output.read_text().splitlines()} == {
        "E1",
        "P1",
    }
    status, _, err = await hoop("export", "-o", str(output), env=env)
    assert status == 2
    assert "pass --overwrite" in err


@pytest.mark.parametrize("command", ["import", "export", "pipelines"])
async def test_help_explains_options_and_environment(command: str) -> None:
    status, out, _ = await hoop(command, "--help")
    assert status == 0
    assert "HOOP_TOKEN" in out
    assert "HOOP_LOCATION_ID" in out
    if command == "import":
        assert "requests in flight at once" in out
        assert '"external_id": {"column": "opportunity_id",' in out
    if command == "export":
        assert "records per request, 1 to 100" in out


async def test_sandbox_seeding_flags_serve_a_migration(tmp_path: Path) -> None:
    files = small_crm_files(tmp_path)
    env_file, seed_file = tmp_path / "sandbox.env", tmp_path / "sandbox-seed.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hoop_async.cli", "sandbox", "--port", "0",
        "--locations", "2", "--pipeline", "Deals=Prospecting,Engaging,Won,Lost",
        "--contacts-from", f"{files['accounts']}:account",
        "--users-from", f"{files['agents']}:sales_agent",
        "--custom-field", "external_id", "--allow-duplicates",
        "--seed-file", str(seed_file), "--env-file", str(env_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = b""
        while b"Ctrl-C" not in line:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=TIMEOUT)
            assert line, "hoop sandbox exited early"
        settings = dict(
            entry.split("=", 1) for entry in env_file.read_text(encoding="utf-8").splitlines()
        )
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        seed = json.loads(seed_file.read_text(encoding="utf-8"))
        second = settings["HOOP_LOCATION_ID_2"]
        assert set(seed["locations"]) == {settings["HOOP_LOCATION_ID"], second}
        first_users = seed["locations"][settings["HOOP_LOCATION_ID"]]["users"]
        second_users = seed["locations"][second]["users"]
        # The agents are company users: the same ids in both locations.
        assert {name: second_users[name] for name in AGENTS} == {
            name: first_users[name] for name in AGENTS
        }
        assert set(seed["locations"][second]["contacts"]) == {
            "Acme Corporation", "Betatech", "Cancity", "Codehow"
        }  # fmt: skip

        mapping = tmp_path / "mapping.json"
        mapping.write_text(json.dumps(crm_mapping(tmp_path, files["products"])))
        source = write_csv(tmp_path / "deals.csv", HEADER, GOOD_ROWS)
        for location in (settings["HOOP_LOCATION_ID"], second):
            status, out, err = await hoop(
                "import", str(source), "--mapping", str(mapping), "--location", location,
                env=settings, cwd=tmp_path,
            )  # fmt: skip
            assert status == 0, err
            assert re.search(r"^  imported\s+4$", out, re.MULTILINE)
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=TIMEOUT)


async def test_dry_run_leaves_files_alone(
    sandbox: Sandbox, env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    rows = [*GOOD_ROWS, ["X1", "Moses Frase", "GTX Basic", "", "Won", "", "", "10"]]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    edited = tmp_path / "deals.rejects.csv"
    edited.write_text("a rejects file the user is fixing\n", encoding="utf-8")

    status, out, _ = await hoop(
        "import", str(source), "--mapping", str(mapping_file), "--dry-run", env=env, cwd=tmp_path
    )

    assert status == 3
    assert "5 rows in the input; 5 checked (dry run):" in out
    assert "dry run: nothing was written to the API" in out
    assert edited.read_text(encoding="utf-8") == "a rejects file the user is fixing\n"
    assert not (tmp_path / "deals.report.jsonl").exists()
    assert sandbox.opportunities(sandbox.location_id) == []


async def test_second_ctrl_c_stops_at_once(
    sandbox: Sandbox, env: dict[str, str], mapping_file: Path, tmp_path: Path
) -> None:
    rows = [
        [f"S{i}", "Moses Frase", "GTX Basic", "Cancity", "Won", "", "", str(i)] for i in range(300)
    ]
    source = write_csv(tmp_path / "deals.csv", HEADER, rows)
    # Slow creates keep requests in flight when the second Ctrl-C arrives.
    sandbox.config.faults = [FaultRule(routes=("POST /opportunities/",), latency=2.0)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hoop_async.cli", "import", str(source),
        "--mapping", str(mapping_file), env={**os.environ, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    for _ in range(TIMEOUT * 20):  # poll every 50 ms, up to TIMEOUT seconds
        if sandbox.requests["POST", "/opportunities/"] >= 1 or process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGINT)
    await asyncio.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)

    assert process.returncode == 130, err.decode()
    assert "stopped at once: requests in flight may have been written" in err.decode()
    assert "Traceback" not in err.decode()


async def test_oauth_settings_from_the_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    await install(sandbox, FileTokenStore(token_file))
    sandbox.state.tokens.expire_access_tokens()
    before = sandbox.token_requests
    env = {
        "HOOP_TOKEN": "",
        "HOOP_BASE_URL": sandbox.url,
        "HOOP_LOCATION_ID": sandbox.location_id,
        "HOOP_CLIENT_ID": sandbox.client_id,
        "HOOP_CLIENT_SECRET": sandbox.client_secret,
        "HOOP_TOKEN_FILE": str(token_file),
    }

    status, out, err = await hoop("pipelines", env=env)

    assert status == 0, err
    assert "Deals  (" in out
    # The expired access token was refreshed once and the new pair saved to the file.
    assert sandbox.token_requests == before + 1
    assert sandbox.client_secret not in out + err
