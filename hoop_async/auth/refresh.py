"""TokenRefresher: keeps the tokens of one store key fresh, with at most one
refresh in flight per key, in this process (an asyncio lock) and in every
process that shares the store (the store's lock). New tokens are saved before use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from hoop_async.auth.endpoint import TokenEndpoint
from hoop_async.auth.errors import InvalidGrantError, TokenStoreError, redact
from hoop_async.auth.stores import TokenStore
from hoop_async.auth.tokens import TokenSet
from hoop_async.errors import ReauthorizationRequiredError, TokenError
from hoop_async.hooks import Hooks, TokenRefreshed

__all__ = ["OnRefresh", "TokenRefresher"]

logger = logging.getLogger("hoop_async.auth")

OnRefresh = Callable[[str, TokenSet], Awaitable[None]]
"""Callback awaited with the key and the new tokens after each save, before their use."""


class TokenRefresher:
    """The tokens of one key of a store, refreshed before expiry or after a 401."""

    def __init__(
        self,
        *,
        key: str,
        store: TokenStore,
        endpoint: TokenEndpoint,
        margin: float,
        on_refresh: OnRefresh | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.key = key
        self.store = store
        self.margin = margin
        self._endpoint = endpoint
        self._on_refresh = on_refresh
        self._hooks = hooks
        self._lock = asyncio.Lock()
        self._cached: TokenSet | None = None
        # Refreshed tokens that the store failed to save: the server has already retired
        # the stored refresh token, so these are the only live ones. The next renewal
        # saves them before anything else.
        self._unsaved: TokenSet | None = None
        # A refresh token the server rejected with invalid_grant; it is not sent again.
        self._dead_refresh_token: str | None = None

    async def current(self) -> TokenSet:
        """Return tokens whose access token is not due for refresh, refreshing if needed."""
        cached = self._cached
        if cached is not None and self._unsaved is None and not cached.refresh_due(self.margin):
            return cached
        return await self._renew(rejected=None)

    async def renew_rejected(self, access_token: str) -> TokenSet:
        """Return tokens with an access token other than the rejected `access_token`.

        Another coroutine or process may already have renewed it; otherwise
        this refreshes, even when the rejected token looked unexpired.
        """
        return await self._renew(rejected=access_token)

    def adopt(self, tokens: TokenSet) -> None:
        """Use `tokens`, which the caller has saved under this key, from now on."""
        self._cached = tokens
        self._unsaved = None

    async def _renew(self, rejected: str | None) -> TokenSet:
        async with self._lock:
            cached = self._cached
            if cached is not None and self._unsaved is None and self._usable(cached, rejected):
                return cached
            # The renewal runs as its own task and the caller waits through a shield, so
            # cancelling the caller cannot stop it between the token response and the save.
            renewal = asyncio.ensure_future(self._renew_in_store(rejected))
            renewal.add_done_callback(_retrieve_exception)
            return await asyncio.shield(renewal)

    async def _renew_in_store(self, rejected: str | None) -> TokenSet:
        async with self.store.lock(self.key):
            if self._unsaved is not None:
                unsaved = self._unsaved
                await self._save(unsaved)
                if self._usable(unsaved, rejected):
                    return unsaved

            stored = await self._load()
            if self._usable(stored, rejected):
                logger.debug("using the stored access token of %s", self.key)
                self._cached = stored
                return stored
            return await self._refresh(stored, rejected)

    async def _refresh(self, stored: TokenSet, rejected: str | None) -> TokenSet:
        try:
            return await self._refresh_once(stored)
        except InvalidGrantError as error:
            failed = error
        # Another process without a shared lock may have rotated the refresh token: read
        # the store once more before declaring the installation lost.
        logger.warning("the refresh token of %s was rejected; reloading the store", self.key)
        self._dead_refresh_token = stored.refresh_token
        reloaded = await self._load()
        if reloaded.refresh_token == stored.refresh_token:
            raise self._reauthorization_error() from failed
        if self._usable(reloaded, rejected):
            self._cached = reloaded
            return reloaded
        try:
            return await self._refresh_once(reloaded)
        except InvalidGrantError as error:
            self._dead_refresh_token = reloaded.refresh_token
            raise self._reauthorization_error() from error

    async def _refresh_once(self, stored: TokenSet) -> TokenSet:
        if not stored.refresh_token:
            raise ReauthorizationRequiredError(
                f"the tokens stored under {self.key!r} have no refresh token; "
                "authorize the app again to get one"
            )
        if stored.refresh_token == self._dead_refresh_token:
            raise self._reauthorization_error()
        logger.debug("refreshing the access token of %s", self.key)
        body = await self._endpoint.refresh(stored.refresh_token, stored.user_type)
        tokens = TokenSet.from_response(body, received_at=time.time(), previous=stored)
        await self._save(tokens)
        logger.info(
            "refreshed the access token of %s; it expires in %.0f s",
            self.key,
            tokens.expires_at - time.time(),
        )
        return tokens

    async def _save(self, tokens: TokenSet) -> None:
        """Save refreshed `tokens`, await on_refresh, emit the hook event, then use them."""
        try:
            await self.store.set(self.key, tokens)
            if self._on_refresh is not None:
                await self._on_refresh(self.key, tokens)
        except Exception as error:
            self._unsaved = tokens
            reason = redact(f"{type(error).__name__}: {error}", _secrets(tokens))
            logger.warning(
                "could not save the refreshed tokens of %s (%s); "
                "keeping them in memory until a later save succeeds",
                self.key,
                reason,
            )
            # Not chained: the store's own exception text may quote the tokens.
            raise TokenStoreError(
                f"the refreshed tokens of {self.key!r} could not be saved ({reason}); "
                "they are kept in memory and saved again on the next request"
            ) from None
        self._unsaved = None
        self._cached = tokens
        if self._hooks is not None:
            event = TokenRefreshed(key=self.key, expires_in=tokens.expires_at - time.time())
            self._hooks.emit(self._hooks.token_refreshed, event)

    async def _load(self) -> TokenSet:
        try:
            stored = await self.store.get(self.key)
        except TokenError:
            raise
        except Exception as error:
            known = (self._cached, self._unsaved)
            secrets = [secret for tokens in known if tokens for secret in _secrets(tokens)]
            reason = redact(f"{type(error).__name__}: {error}", secrets)
            raise TokenStoreError(
                f"could not read the tokens of {self.key!r} from {self.store!r}: {reason}"
            ) from None
        if stored is None:
            raise TokenError(
                f"no tokens are stored under {self.key!r}; complete the authorization-code "
                "flow (exchange_code) or save tokens in the store first"
            )
        return stored

    def _usable(self, tokens: TokenSet, rejected: str | None) -> bool:
        return tokens.access_token != rejected and not tokens.refresh_due(self.margin)

    def _reauthorization_error(self) -> ReauthorizationRequiredError:
        return ReauthorizationRequiredError(
            f"the refresh token stored under {self.key!r} was rejected (invalid_grant) and the "
            "store holds no newer one; authorize the app again (authorization_url, then "
            "exchange_code) to get new tokens"
        )


def _secrets(tokens: TokenSet) -> tuple[str | None, ...]:
    return (tokens.access_token, tokens.refresh_token)


def _retrieve_exception(task: asyncio.Future[TokenSet]) -> None:
    # A renewal whose caller was cancelled has no one to read its error; read it here
    # so asyncio does not report it as never retrieved. Callers that wait see it raised.
    if not task.cancelled() and task.exception() is not None:
        logger.debug("token renewal ended with %s", type(task.exception()).__name__)
