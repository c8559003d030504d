"""The authorization-code flow: the URL that sends a user to install the app,
and the exchange of the code the redirect brings back for tokens, which are
saved in a token store.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import quote, urlencode

from hoop_async._constants import DEFAULT_BASE_URL
from hoop_async.auth.endpoint import DEFAULT_TOKEN_TIMEOUT, TokenEndpoint
from hoop_async.auth.errors import TokenStoreError, redact
from hoop_async.auth.stores import TokenStore
from hoop_async.auth.tokens import COMPANY, LOCATION, TokenSet
from hoop_async.errors import InvalidRequestError, TokenError

__all__ = ["DEFAULT_AUTHORIZATION_URL", "authorization_url", "exchange_code"]

# The marketplace's location chooser; white-label agencies use
# https://marketplace.leadconnectorhq.com/oauth/chooselocation instead.
DEFAULT_AUTHORIZATION_URL = "https://marketplace.gohighlevel.com/oauth/chooselocation"
USER_TYPES = (LOCATION, COMPANY)


def authorization_url(
    client_id: str,
    *,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str | None = None,
    base_url: str = DEFAULT_AUTHORIZATION_URL,
) -> str:
    """Return the URL where a user chooses the location (or agency) that installs the app.

    After the user approves, the marketplace redirects to `redirect_uri` with
    `code` (and `state`, when given) in the query string.
    """
    params = {
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "scope": " ".join(scopes),
    }
    if state is not None:
        params["state"] = state
    return f"{base_url}?{urlencode(params, quote_via=quote)}"


async def exchange_code(
    code: str,
    *,
    client_id: str,
    client_secret: str,
    store: TokenStore,
    key: str | None = None,
    user_type: str = LOCATION,
    redirect_uri: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = DEFAULT_TOKEN_TIMEOUT,
) -> TokenSet:
    """Exchange an authorization code for tokens and save them in `store`.

    The key is `key`, or else the location id of Location tokens and the
    company id of Company tokens, as `TokenSet.owner_id` returns it.
    A code works once: if saving fails, the user must authorize again.
    """
    endpoint = TokenEndpoint(
        client_id=client_id, client_secret=client_secret, base_url=base_url, timeout=timeout
    )
    try:
        return await redeem_code(
            endpoint, code, store=store, key=key, user_type=user_type, redirect_uri=redirect_uri
        )
    finally:
        await endpoint.aclose()


async def redeem_code(
    endpoint: TokenEndpoint,
    code: str,
    *,
    store: TokenStore,
    key: str | None,
    user_type: str,
    redirect_uri: str | None,
) -> TokenSet:
    """Exchange `code` through `endpoint` and save the tokens; see `exchange_code`."""
    if user_type not in USER_TYPES:
        raise InvalidRequestError("user_type", user_type, "expected 'Location' or 'Company'")
    if not isinstance(code, str) or not code:
        raise InvalidRequestError("code", code, "pass the code from the redirect's query string")

    body = await endpoint.exchange_code(code, user_type=user_type, redirect_uri=redirect_uri)
    tokens = TokenSet.from_response(body, received_at=time.time())
    store_key = key or tokens.owner_id
    if not store_key:
        raise TokenError("the token response names no location or company id; pass key=")
    try:
        async with store.lock(store_key):
            await store.set(store_key, tokens)
    except TokenError:
        raise
    except Exception as error:
        reason = redact(
            f"{type(error).__name__}: {error}", (tokens.access_token, tokens.refresh_token)
        )
        # Not chained: the store's own exception text may quote the tokens.
        raise TokenStoreError(
            f"the tokens of {store_key!r} could not be saved ({reason}); "
            "the code is spent, so authorize the app again"
        ) from None
    return tokens
