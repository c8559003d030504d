"""The `hoop` command: `demo`, `sandbox`, `import`, `export` and `pipelines`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hoop_async._constants import DEFAULT_VERSION
from hoop_async._version import __version__
from hoop_async.client import HoopClient
from hoop_async.demo import format_summary, run_demo
from hoop_async.errors import AuthenticationError, HoopError, MigrationError
from hoop_async.migrate.commands import add_commands
from hoop_async.sandbox.seed_cli import add_seed_flags

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `hoop` command line and return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        status: int = asyncio.run(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`hoop import ... | head`); stop quietly.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1
    except MigrationError as exc:
        print(f"hoop: {exc}", file=sys.stderr)
        return 2
    except AuthenticationError as exc:
        print(
            f"hoop: {exc}\nhoop: check HOOP_TOKEN; a sandbox issues a new token each time it "
            "starts, so load the env file it wrote again",
            file=sys.stderr,
        )
        return 1
    except HoopError as exc:
        print(f"hoop: {exc}", file=sys.stderr)
        return 1
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hoop", description="HoopAI / HighLevel Opportunities API tools."
    )
    parser.add_argument("--version", action="version", version=f"hoop-async {__version__}")
    commands = parser.add_subparsers(title="commands")

    demo = commands.add_parser(
        "demo",
        help="tour every Opportunities endpoint against an embedded sandbox or a server",
        description=(
            "Create, upsert, search, move, close, follow and delete opportunities, then print "
            "a summary. With no options it starts a sandbox in this process. With --base-url "
            "it uses that server, the token in HOOP_TOKEN and the ids in --seed-file."
        ),
    )
    demo.add_argument("--base-url", help="server to use instead of an embedded sandbox")
    demo.add_argument(
        "--seed-file",
        type=Path,
        help="JSON file with locationId, contactIds and userIds, as `hoop sandbox "
        "--seed-file` writes it (required with --base-url)",
    )
    demo.add_argument(
        "--count", type=int, default=300, help="opportunities to create (default 300)"
    )
    demo.add_argument(
        "--version-header",
        default=DEFAULT_VERSION,
        help=f"value of the Version header (default {DEFAULT_VERSION})",
    )
    demo.set_defaults(run=_run_demo)

    sandbox = commands.add_parser(
        "sandbox",
        help="run the local sandbox server until interrupted",
        description="Serve the sandbox API on 127.0.0.1 and print its URL, token and location.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument(
        "--port", type=int, default=8765, help="TCP port (default 8765, 0 picks a free one)"
    )
    sandbox.add_argument(
        "--seed-file",
        type=Path,
        help="write the seeded location, contact and user ids to this JSON file",
    )
    sandbox.add_argument(
        "--rate-limit",
        type=int,
        default=100,
        help="requests allowed per location per window, sent in X-RateLimit-Max (default 100)",
    )
    sandbox.add_argument(
        "--rate-window",
        type=float,
        default=10.0,
        help="rate-limit window in seconds (default 10, as the live API)",
    )
    add_seed_flags(sandbox)
    sandbox.set_defaults(run=_run_sandbox)
    add_commands(commands)
    return parser


async def _run_demo(args: argparse.Namespace) -> int:
    if args.count < 2:
        print("hoop demo: --count must be 2 or more", file=sys.stderr)
        return 2
    if args.base_url is None:
        return await _demo_on_embedded_sandbox(args.count)
    return await _demo_on_server(args)


async def _demo_on_embedded_sandbox(count: int) -> int:
    from hoop_async.sandbox import Sandbox, SandboxConfig

    # The demo makes a few hundred calls. At the live API's 100 per 10 s the client
    # would wait most of a minute, so the embedded sandbox allows 1,000 per second.
    config = SandboxConfig(
        seed_contacts=max(count, 300), rate_limit_max=1000, rate_limit_interval_ms=1000
    )
    async with Sandbox(config=config) as sandbox:
        print(f"sandbox listening on {sandbox.url}")
        async with HoopClient(token=sandbox.token, base_url=sandbox.url) as client:
            summary = await run_demo(
                client,
                location_id=sandbox.location_id,
                contact_ids=[contact["id"] for contact in sandbox.contacts(sandbox.location_id)],
                user_ids=sandbox.users(sandbox.location_id),
                count=count,
            )
    print(format_summary(summary))
    return 0


async def _demo_on_server(args: argparse.Namespace) -> int:
    token = os.environ.get("HOOP_TOKEN")
    if not token:
        print("hoop demo: set HOOP_TOKEN to use --base-url", file=sys.stderr)
        return 2
    if args.seed_file is None:
        print(
            "hoop demo: --base-url needs --seed-file (run `hoop sandbox --seed-file FILE`)",
            file=sys.stderr,
        )
        return 2
    seed = _read_seed(args.seed_file)
    async with HoopClient(
        token=token, base_url=args.base_url, version=args.version_header
    ) as client:
        summary = await run_demo(
            client,
            location_id=seed["locationId"],
            contact_ids=seed["contactIds"],
            user_ids=seed.get("userIds", []),
            count=args.count,
        )
    print(format_summary(summary))
    return 0


def _read_seed(path: Path) -> dict[str, Any]:
    try:
        seed = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"hoop demo: cannot read seed file {path}: {exc}") from None
    if not isinstance(seed, dict) or not seed.get("locationId") or not seed.get("contactIds"):
        raise SystemExit(f"hoop demo: {path} needs 'locationId' and a 'contactIds' list")
    return seed


async def _run_sandbox(args: argparse.Namespace) -> int:
    from hoop_async.sandbox import Sandbox, SandboxConfig
    from hoop_async.sandbox.seed_cli import apply_seed_flags, check_seed_flags, write_seed_files

    problem = check_seed_flags(args)
    if problem:
        print(f"hoop sandbox: {problem}", file=sys.stderr)
        return 2
    if args.rate_limit < 1 or not args.rate_window > 0:
        print(
            "hoop sandbox: --rate-limit must be 1 or more and --rate-window above 0",
            file=sys.stderr,
        )
        return 2
    config = SandboxConfig(
        rate_limit_max=args.rate_limit, rate_limit_interval_ms=round(args.rate_window * 1000)
    )
    sandbox = Sandbox(config=config, host=args.host, port=args.port)
    try:
        await sandbox.start()
    except OSError as exc:
        print(
            f"hoop sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "choose another --port, or --port 0 for a free one",
            file=sys.stderr,
        )
        return 1
    try:
        locations = apply_seed_flags(sandbox, args)
        token = sandbox.token if len(locations) == 1 else sandbox.issue_token(locations)
        print(f"sandbox listening on {sandbox.url}")
        print(f"HOOP_TOKEN={token}")
        print(f"location id: {', '.join(locations)}")
        print(f"OAuth client id: {sandbox.client_id}")
        write_seed_files(sandbox, args, locations, token)
        print("press Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()
    finally:
        await sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
