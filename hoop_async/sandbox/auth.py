"""Access tokens, refresh tokens and authorization codes with counters of their
traffic, plus the per-request checks that use them: Version header, bearer
token, scope, location access and the form body of the OAuth endpoints.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

import attrs
from aiohttp import web

from hoop_async.sandbox import responses
from hoop_async.sandbox.ids import IdFactory

logger = logging.getLogger("hoop_async.sandbox")

READ_SCOPE = "opportunities.readonly"
WRITE_SCOPE = "opportunities.write"
CUSTOM_FIELDS_SCOPE = "locations/customFields.readonly"
DEFAULT_SCOPES = (READ_SCOPE, WRITE_SCOPE, CUSTOM_FIELDS_SCOPE)
# Agency tokens need this scope for POST /oauth/locationToken.
LOCATION_TOKEN_SCOPE = "oauth.write"
USER_TYPES = ("Location", "Company")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@attrs.define(kw_only=True, frozen=True)
class Installation:
    """Grant behind a token pair: the app, the account and the scopes."""

    client_id: str
    user_type: str
    company_id: str
    location_ids: tuple[str, ...]
    scopes: tuple[str, ...]
    user_id: str

    @property
    def rate_limit_bucket(self) -> str:
        """Key of the rate-limit budget: per app and location, or per app and company."""
        if self.user_type == "Location" and self.location_ids:
            return f"{self.client_id}:location:{self.location_ids[0]}"
        return f"{self.client_id}:company:{self.company_id}"

    def can_access(self, location_id: str) -> bool:
        """Return whether tokens of this installation may act on `location_id`."""
        return location_id in self.location_ids


@attrs.define(kw_only=True, frozen=True)
class AccessGrant:
    """A live access token's installation and its expiry (wall-clock seconds)."""

    installation: Installation
    expires_at: float


@attrs.define(kw_only=True, frozen=True)
class OAuthApp:
    """A registered OAuth app."""

    client_id: str
    client_secret: str


@attrs.define(kw_only=True, frozen=True)
class TokenPair:
    """The result of a token grant."""

    access_token: str
    refresh_token: str
    refresh_token_id: str
    expires_in: float
    """Seconds the access token lives: an int, as the live API sends, for whole seconds."""
    installation: Installation


@attrs.define(kw_only=True, frozen=True)
class RefreshGrant:
    """A live refresh token's installation and the expiry of the access token issued with it."""

    installation: Installation
    access_expires_at: float


@attrs.define(kw_only=True)
class OAuthCounters:
    """Counts of OAuth endpoint traffic, for tests that assert on token requests."""

    grants: Counter[str] = attrs.field(factory=Counter)
    """POST /oauth/token requests that passed validation, by grant_type."""
    invalid_grants: int = 0
    """Token requests rejected with invalid_grant (unknown, used or rotated code or token)."""
    location_token_requests: int = 0
    """POST /oauth/locationToken requests, including rejected ones."""
    refresh_lead_times: list[float] = attrs.field(factory=list)
    """For each successful refresh, the seconds the access token issued together with the
    rotated refresh token still had to live (negative once it had expired)."""


class TokenRegistry:
    """Every token, refresh token and authorization code that one sandbox issued."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self.apps: dict[str, OAuthApp] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._rotated: set[str] = set()
        self._codes: dict[str, Installation] = {}
        self.counters = OAuthCounters()

    def register_app(self) -> OAuthApp:
        """Create an OAuth app with a fresh client id and secret."""
        app = OAuthApp(client_id=self._ids.client_id(), client_secret=self._ids.secret())
        self.apps[app.client_id] = app
        return app

    def issue_access_token(self, installation: Installation, ttl: float) -> str:
        """Create an access token valid for `ttl` seconds."""
        issued_at = time.time()
        claims = {
            "authClass": installation.user_type,
            "authClassId": self._auth_class_id(installation),
            "source": "INTEGRATION",
            "sourceId": installation.client_id,
            "channel": "OAUTH",
            "iat": int(issued_at),
            "exp": int(issued_at + ttl),
        }
        token = self._ids.jwt_like(claims)
        self._access[token] = AccessGrant(installation=installation, expires_at=issued_at + ttl)
        return token

    def issue_pair(self, installation: Installation, ttl: float) -> TokenPair:
        """Create an access token and a refresh token for `installation`."""
        access_token = self.issue_access_token(installation, ttl)
        refresh_token = self._ids.jwt_like({"refresh": True, "jti": self._ids.hex_id()})
        self._refresh[refresh_token] = RefreshGrant(
            installation=installation, access_expires_at=self._access[access_token].expires_at
        )
        return TokenPair(
            access_token=access_token,
            refresh_token=refresh_token,
            refresh_token_id=self._ids.hex_id(),
            expires_in=token_lifetime(ttl),
            installation=installation,
        )

    def expire_access_tokens(self) -> int:
        """Expire every live access token now, as if their lifetime had passed.

        Refresh tokens stay valid. Returns how many access tokens were live.
        """
        now = time.time()
        live = [token for token, grant in self._access.items() if grant.expires_at > now]
        for token in live:
            self._access[token] = attrs.evolve(self._access[token], expires_at=now)
        return len(live)

    def resolve(self, token: str) -> Installation | None:
        """Return the installation of a live access token, or None if unknown or expired."""
        grant = self._access.get(token)
        if grant is None:
            return None
        if grant.expires_at <= time.time():
            del self._access[token]
            return None
        return grant.installation

    def issue_auth_code(self, installation: Installation) -> str:
        """Create a one-time authorization code for `installation`."""
        code = self._ids.secret()
        self._codes[code] = installation
        return code

    def redeem_auth_code(self, code: str, client_id: str) -> Installation | None:
        """Consume a code of `client_id`, or return None if unknown, used or foreign."""
        installation = self._codes.get(code)
        if installation is None or installation.client_id != client_id:
            return None
        del self._codes[code]
        return installation

    def rotate_refresh_token(self, refresh_token: str, client_id: str) -> Installation | None:
        """Retire a refresh token of `client_id` at once and return its installation.

        Returns None for an unknown, foreign or already rotated token. The caller
        issues the new pair.
        """
        grant = self._refresh.get(refresh_token)
        if grant is None or grant.installation.client_id != client_id:
            if refresh_token in self._rotated:
                logger.warning("rejected reuse of a rotated refresh token of app %s", client_id)
            return None
        del self._refresh[refresh_token]
        self._rotated.add(refresh_token)
        self.counters.refresh_lead_times.append(grant.access_expires_at - time.time())
        return grant.installation

    @staticmethod
    def _auth_class_id(installation: Installation) -> str:
        if installation.user_type == "Location" and installation.location_ids:
            return installation.location_ids[0]
        return installation.company_id


def token_lifetime(ttl: float) -> float:
    """Return `ttl` as the `expires_in` value: an int for whole seconds, else the float."""
    return int(ttl) if float(ttl).is_integer() else ttl


async def read_form(request: web.Request) -> dict[str, str]:
    """Return the form fields of an OAuth request, or raise 400 for any other body type."""
    if request.content_type != FORM_CONTENT_TYPE:
        raise responses.oauth_error(
            400, "invalid_request", f"The OAuth endpoints accept only {FORM_CONTENT_TYPE} bodies."
        )
    fields = await request.post()
    return {key: value for key, value in fields.items() if isinstance(value, str)}


def check_version(version: str | None, accepted: Sequence[str]) -> None:
    """Raise the live API's 401 for a missing or unknown Version header."""
    if not version:
        raise responses.version_missing()
    if version not in accepted:
        raise responses.version_invalid()


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer ...` header, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_scope(installation: Installation, scope: str) -> None:
    """Raise the live API's scope 401 unless the token carries `scope`."""
    if scope not in installation.scopes:
        raise responses.scope_not_authorized()


def require_location_access(installation: Installation, location_id: str) -> None:
    """Raise the live API's 403 unless the token may act on `location_id`."""
    if not installation.can_access(location_id):
        raise responses.location_forbidden()
