"""OAuthCredentials: the Credentials of an OAuth app installation whose tokens
live in a token store, refreshed before expiry and after a 401, with location
tokens for agency installations.
"""

from __future__ import annotations

from types import TracebackType

from hoop_async._constants import DEFAULT_BASE_URL, DEFAULT_VERSION
from hoop_async.auth.endpoint import DEFAULT_TOKEN_TIMEOUT, TokenEndpoint
from hoop_async.auth.flow import redeem_code
from hoop_async.auth.location_tokens import LocationTokenCache
from hoop_async.auth.refresh import OnRefresh, TokenRefresher
from hoop_async.auth.retry import TokenRetryPolicy
from hoop_async.auth.stores import MemoryTokenStore, TokenStore
from hoop_async.auth.tokens import LOCATION, TokenSet
from hoop_async.errors import InvalidRequestError
from hoop_async.hooks import Hooks

__all__ = ["DEFAULT_REFRESH_MARGIN", "OAuthCredentials"]

# Seconds before expiry at which an access token is refreshed ahead of use. Access
# tokens of the live API last 86,399 s; shorter-lived tokens use half their lifetime.
DEFAULT_REFRESH_MARGIN = 300.0


class OAuthCredentials:
    """Tokens of one installation of an OAuth app, saved in `store` under `key`.

    `key` is the location id of a Location installation or the company id of
    an agency (Company) one. With Company tokens, a request for a location
    sends that location's token, obtained through POST /oauth/locationToken.

    Use it with `async with`, or call `aclose()`, to close its HTTP session:

        credentials = OAuthCredentials(
            client_id, client_secret, store=FileTokenStore("tokens.json"), key=location_id
        )
        async with credentials, HoopClient(credentials=credentials) as client:
            ...

    `on_refresh` is awaited with the key and the new tokens once a refresh is
    saved, before their first use; `hooks.token_refreshed` callbacks follow.
    `refresh_margin` is in seconds, `timeout` in seconds per token request,
    and `retry` sets the retries of token requests that had no effect.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        key: str,
        store: TokenStore | None = None,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        on_refresh: OnRefresh | None = None,
        timeout: float = DEFAULT_TOKEN_TIMEOUT,
        retry: TokenRetryPolicy | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        _check_text("client_id", client_id)
        _check_text("key", key)
        if not isinstance(client_secret, str) or not client_secret:
            raise InvalidRequestError("client_secret", "<empty>", "pass the app's client secret")
        if refresh_margin < 0:
            raise InvalidRequestError("refresh_margin", refresh_margin, "expected seconds >= 0")

        self._endpoint = TokenEndpoint(
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            version=version,
            timeout=timeout,
            retry=retry,
        )
        self._installation = TokenRefresher(
            key=key,
            store=store if store is not None else MemoryTokenStore(),
            endpoint=self._endpoint,
            margin=refresh_margin,
            on_refresh=on_refresh,
            hooks=hooks,
        )
        self._locations = LocationTokenCache(agency=self._installation, endpoint=self._endpoint)

    @property
    def key(self) -> str:
        return self._installation.key

    @property
    def store(self) -> TokenStore:
        return self._installation.store

    async def access_token(self, location_id: str | None) -> str:
        """Return the access token for a request on `location_id`, renewing it when due."""
        tokens = await self._installation.current()
        if location_id is not None and tokens.is_agency:
            return await self._locations.access_token(location_id)
        return tokens.access_token

    async def token_rejected(self, location_id: str | None, token: str) -> bool:
        """Renew `token` after a 401 for an invalid or expired token; always True.

        Raises ReauthorizationRequiredError when the refresh token is dead, and
        TokenError subclasses when the renewal fails otherwise.
        """
        installation = await self._installation.current()
        if (
            location_id is not None
            and installation.is_agency
            and token != installation.access_token
        ):
            await self._locations.renew_rejected(location_id, token)
        else:
            await self._installation.renew_rejected(token)
        return True

    async def tokens(self) -> TokenSet:
        """Return the installation's tokens, refreshed first when due."""
        return await self._installation.current()

    async def exchange_code(
        self, code: str, *, user_type: str = LOCATION, redirect_uri: str | None = None
    ) -> TokenSet:
        """Exchange an authorization code for tokens, save them under `key` and use them."""
        tokens = await redeem_code(
            self._endpoint,
            code,
            store=self.store,
            key=self.key,
            user_type=user_type,
            redirect_uri=redirect_uri,
        )
        self._installation.adopt(tokens)
        self._locations.clear()
        return tokens

    async def aclose(self) -> None:
        """Close the HTTP session of token requests; a later request opens a new one."""
        await self._endpoint.aclose()

    async def __aenter__(self) -> OAuthCredentials:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"OAuthCredentials(client_id={self._endpoint.client_id!r}, key={self.key!r}, "
            f"store={self.store!r}, base_url={self._endpoint.base_url!r})"
        )


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(name, value, "expected a non-empty string")
