"""The Credentials protocol, through which the session gets each request's token,
and StaticToken, the credentials of a fixed private integration token or access token.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hoop_async.errors import InvalidRequestError

__all__ = ["Credentials", "StaticToken", "fixed_token"]


@runtime_checkable
class Credentials(Protocol):
    """Source of the bearer token for each request.

    `location_id` is the location the request works on, or None when the
    request names none (a read by opportunity id without a client default).
    """

    async def access_token(self, location_id: str | None) -> str:
        """Return the access token to send now for this location."""
        ...

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        """Handle a 401 for an invalid or expired `token`.

        Return True when a new token is ready and the request should be sent
        once more; the session never retries more than once per request.
        """
        ...


class StaticToken:
    """A fixed token: a private integration token or an access token managed elsewhere."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise InvalidRequestError(
                "token", "<empty>", "pass the private integration token or access token"
            )
        self._token = token.strip()

    async def access_token(self, location_id: str | None) -> str:
        return self._token

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        # A fixed token cannot be renewed, so the 401 reaches the caller.
        return False

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


def fixed_token(credentials: Credentials) -> str | None:
    """Return the token of a StaticToken, or None for credentials whose token can change.

    Only StaticToken itself counts, because a subclass may override access_token.
    """
    return credentials._token if type(credentials) is StaticToken else None
