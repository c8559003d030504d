"""Credentials: where the access token of each request comes from."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hoop_async.errors import InvalidRequestError

__all__ = ["Credentials", "StaticToken"]


@runtime_checkable
class Credentials(Protocol):
    """Source of the bearer token for a request."""

    async def access_token(self) -> str:
        """Return the access token to send now."""
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

    async def access_token(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"
