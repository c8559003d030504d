"""Errors of the OAuth layer beyond those in hoop_async.errors, and the redaction
that keeps tokens and the client secret out of every message.

TokenError (hoop_async.errors)
 +-- TokenEndpointError       POST /oauth/token returned an error
 |    +-- InvalidGrantError   invalid_grant: the code or refresh token is unknown, used or rotated
 +-- TokenStoreError          a token store could not read or save tokens
"""

from __future__ import annotations

from collections.abc import Iterable

from hoop_async.errors import TokenError

__all__ = ["InvalidGrantError", "TokenEndpointError", "TokenStoreError", "redact"]

REDACTED = "<redacted>"


class TokenEndpointError(TokenError):
    """The token endpoint returned an error status; `error` is its OAuth error code."""

    def __init__(self, *, path: str, status: int, error: str | None, description: str) -> None:
        self.path = path
        self.status = status
        self.error = error
        self.description = description
        code = f" {error}" if error else ""
        super().__init__(f"POST {path} -> {status}{code}: {description or '(no description)'}")


class InvalidGrantError(TokenEndpointError):
    """invalid_grant: the authorization code or refresh token is unknown, used or rotated."""


class TokenStoreError(TokenError):
    """A token store could not read or save tokens, or its content is invalid."""


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each non-empty secret in `text` with <redacted>."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
