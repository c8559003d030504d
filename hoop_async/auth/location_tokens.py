"""LocationTokenCache: access tokens per location obtained with an agency
(Company) token through POST /oauth/locationToken, kept in memory and renewed
before expiry or after a 401, one request per location at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from hoop_async.auth.endpoint import TokenEndpoint
from hoop_async.auth.refresh import TokenRefresher
from hoop_async.auth.tokens import TokenSet
from hoop_async.errors import AuthenticationError

__all__ = ["LocationTokenCache"]

logger = logging.getLogger("hoop_async.auth")


class LocationTokenCache:
    """Location tokens of one agency installation, by location id.

    Location tokens come without a refresh token and rotate nothing, so each
    process fetches its own and keeps them only in memory.
    """

    def __init__(self, *, agency: TokenRefresher, endpoint: TokenEndpoint) -> None:
        self._agency = agency
        self._endpoint = endpoint
        self._tokens: dict[str, TokenSet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def access_token(self, location_id: str) -> str:
        """Return an access token for `location_id` that is not due for renewal."""
        cached = self._tokens.get(location_id)
        if cached is not None and not cached.refresh_due(self._agency.margin):
            return cached.access_token
        tokens = await self._renew(location_id, rejected=None)
        return tokens.access_token

    async def renew_rejected(self, location_id: str, access_token: str) -> None:
        """Replace the location token `access_token` after the API rejected it."""
        await self._renew(location_id, rejected=access_token)

    def clear(self) -> None:
        """Forget every location token, after a new agency installation."""
        self._tokens.clear()

    async def _renew(self, location_id: str, rejected: str | None) -> TokenSet:
        lock = self._locks.get(location_id)
        if lock is None:
            lock = self._locks[location_id] = asyncio.Lock()
        async with lock:
            cached = self._tokens.get(location_id)
            if cached is not None and self._usable(cached, rejected):
                return cached
            tokens = await self._fetch(location_id)
            self._tokens[location_id] = tokens
            return tokens

    async def _fetch(self, location_id: str) -> TokenSet:
        agency = await self._agency.current()
        try:
            body = await self._request(agency, location_id)
        except AuthenticationError:
            # The API rejected the agency token itself: renew it once and ask again.
            agency = await self._agency.renew_rejected(agency.access_token)
            body = await self._request(agency, location_id)
        logger.debug("obtained a location token for %s", location_id)
        return TokenSet.from_response(body, received_at=time.time())

    async def _request(self, agency: TokenSet, location_id: str) -> dict[str, Any]:
        # Agency installations are stored under their company id, the fallback when
        # the token response named no companyId.
        company_id = agency.company_id or self._agency.key
        return await self._endpoint.location_token(
            agency.access_token, company_id=company_id, location_id=location_id
        )

    def _usable(self, tokens: TokenSet, rejected: str | None) -> bool:
        return tokens.access_token != rejected and not tokens.refresh_due(self._agency.margin)
