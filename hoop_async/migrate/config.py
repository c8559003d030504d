"""Connection settings of the `hoop` data commands, from flags and the environment.

HOOP_BASE_URL       API root (default: the live API)
HOOP_LOCATION_ID    location, when --location is not given
HOOP_TOKEN          a private integration token or an access token
HOOP_CLIENT_ID, HOOP_CLIENT_SECRET, HOOP_TOKEN_FILE
                    an OAuth app and the FileTokenStore holding its tokens,
                    used when HOOP_TOKEN is unset; tokens are refreshed
                    and saved back to the file
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from hoop_async._constants import DEFAULT_BASE_URL
from hoop_async.client import HoopClient
from hoop_async.errors import MigrationError

__all__ = ["ENVIRONMENT_HELP", "add_connection_flags", "location_of", "open_client"]

ENVIRONMENT_HELP = "environment:\n" + (__doc__.split("\n\n", 1)[1] if __doc__ else "")


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """Add --base-url and --location to a command."""
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API root URL (default: $HOOP_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--location",
        metavar="ID",
        help="location (sub-account) id (default: $HOOP_LOCATION_ID)",
    )


def location_of(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> str:
    """Return the location id from --location or HOOP_LOCATION_ID."""
    location = args.location or environ.get("HOOP_LOCATION_ID")
    if not location:
        raise MigrationError("no location: pass --location ID or set HOOP_LOCATION_ID")
    return str(location)


def open_client(
    args: argparse.Namespace, location_id: str, environ: Mapping[str, str] = os.environ
) -> HoopClient:
    """Build a client from the flags and the environment.

    MigrationError names the missing settings when there are no credentials.
    """
    base_url = args.base_url or environ.get("HOOP_BASE_URL") or DEFAULT_BASE_URL
    token = environ.get("HOOP_TOKEN")
    if token:
        return HoopClient(token=token, base_url=base_url, location_id=location_id)
    client_id = environ.get("HOOP_CLIENT_ID")
    client_secret = environ.get("HOOP_CLIENT_SECRET")
    token_file = environ.get("HOOP_TOKEN_FILE")
    if client_id and client_secret and token_file:
        from hoop_async.auth import FileTokenStore, OAuthCredentials

        credentials = OAuthCredentials(
            client_id,
            client_secret,
            key=location_id,
            store=FileTokenStore(token_file),
            base_url=base_url,
        )
        return HoopClient(credentials=credentials, base_url=base_url, location_id=location_id)
    raise MigrationError(
        "no credentials: set HOOP_TOKEN, or HOOP_CLIENT_ID, HOOP_CLIENT_SECRET and "
        "HOOP_TOKEN_FILE for an OAuth app (`hoop sandbox --env-file FILE` writes a "
        "token for the sandbox)"
    )
