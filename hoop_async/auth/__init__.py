"""Credentials: where the access token of each request comes from.

StaticToken sends a fixed token. OAuthCredentials keeps an OAuth installation's
tokens in a TokenStore (MemoryTokenStore, FileTokenStore), refreshes them with
one request per key at a time, and obtains location tokens for agency installs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hoop_async._lazy import lazy_attributes
from hoop_async.auth.credentials import Credentials, StaticToken

if TYPE_CHECKING:
    from hoop_async.auth.endpoint import DEFAULT_TOKEN_TIMEOUT
    from hoop_async.auth.errors import InvalidGrantError, TokenEndpointError, TokenStoreError
    from hoop_async.auth.file_store import FileTokenStore
    from hoop_async.auth.flow import DEFAULT_AUTHORIZATION_URL, authorization_url, exchange_code
    from hoop_async.auth.oauth import DEFAULT_REFRESH_MARGIN, OAuthCredentials
    from hoop_async.auth.refresh import OnRefresh
    from hoop_async.auth.retry import TokenRetryPolicy
    from hoop_async.auth.stores import MemoryTokenStore, TokenStore
    from hoop_async.auth.tokens import TokenSet
else:
    # The session needs only Credentials, so the OAuth machinery loads on first use.
    __getattr__, __dir__ = lazy_attributes(
        __name__,
        {
            "hoop_async.auth.endpoint": ("DEFAULT_TOKEN_TIMEOUT",),
            "hoop_async.auth.errors": (
                "InvalidGrantError",
                "TokenEndpointError",
                "TokenStoreError",
            ),
            "hoop_async.auth.file_store": ("FileTokenStore",),
            "hoop_async.auth.flow": (
                "DEFAULT_AUTHORIZATION_URL",
                "authorization_url",
                "exchange_code",
            ),
            "hoop_async.auth.oauth": ("DEFAULT_REFRESH_MARGIN", "OAuthCredentials"),
            "hoop_async.auth.refresh": ("OnRefresh",),
            "hoop_async.auth.retry": ("TokenRetryPolicy",),
            "hoop_async.auth.stores": ("MemoryTokenStore", "TokenStore"),
            "hoop_async.auth.tokens": ("TokenSet",),
        },
    )

__all__ = [
    "DEFAULT_AUTHORIZATION_URL",
    "DEFAULT_REFRESH_MARGIN",
    "DEFAULT_TOKEN_TIMEOUT",
    "Credentials",
    "FileTokenStore",
    "InvalidGrantError",
    "MemoryTokenStore",
    "OAuthCredentials",
    "OnRefresh",
    "StaticToken",
    "TokenEndpointError",
    "TokenRetryPolicy",
    "TokenSet",
    "TokenStore",
    "TokenStoreError",
    "authorization_url",
    "exchange_code",
]
