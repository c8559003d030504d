"""The TokenStore protocol that OAuthCredentials keeps installations in, and
MemoryTokenStore, the default store, which lives as long as the process.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from hoop_async.auth.tokens import TokenSet

__all__ = ["MemoryTokenStore", "TokenStore"]


@runtime_checkable
class TokenStore(Protocol):
    """Storage of each installation's tokens under a key (a location or company id).

    OAuthCredentials refreshes a key only while it holds `lock(key)`, and it
    reads the key again after taking the lock. A store shared by several
    processes (a file, Redis) must therefore make `lock` exclude every process
    that shares it, or rotated refresh tokens will be used twice.
    """

    async def get(self, key: str) -> TokenSet | None:
        """Return the tokens saved under `key`, or None."""
        ...

    async def set(self, key: str, tokens: TokenSet) -> None:
        """Save `tokens` under `key`, durably, before returning.

        Callers may call it with or without holding `lock(key)`.
        """
        ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Return a context manager that holds the refresh lock of `key`; not reentrant."""
        ...


class MemoryTokenStore:
    """Tokens in a dict: shared by the OAuthCredentials of one process, lost when it exits.

    Save the tokens elsewhere too (`on_refresh=`) or use FileTokenStore when
    they must outlive the process: a refresh token that dies with the process
    leaves an installation that only a new authorization can restore.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, TokenSet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> TokenSet | None:
        return self._tokens.get(key)

    async def set(self, key: str, tokens: TokenSet) -> None:
        self._tokens[key] = tokens

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={sorted(self._tokens)!r})"
