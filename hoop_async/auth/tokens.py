"""TokenSet: an access token, the refresh token that renews it, their expiry and
owner, read from token endpoint responses and written to token stores as JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from hoop_async.auth.errors import REDACTED
from hoop_async.errors import TokenError

__all__ = ["TokenSet"]

COMPANY = "Company"
LOCATION = "Location"


def _redacted(value: object) -> str:
    return REDACTED if value else repr(value)


@attrs.frozen(kw_only=True)
class TokenSet:
    """The tokens of one installation, or one location token, with the ids and scope sent along.

    `repr()` shows `<redacted>` in place of both tokens.
    """

    access_token: str = attrs.field(repr=_redacted)
    refresh_token: str | None = attrs.field(default=None, repr=_redacted)
    """None for location tokens, which POST /oauth/locationToken issues without one."""
    expires_at: float
    """Unix time, in seconds, at which the access token expires."""
    obtained_at: float
    """Unix time, in seconds, at which the token endpoint's response arrived."""
    user_type: str | None = None
    """"Location" or "Company" (an agency token)."""
    company_id: str | None = None
    location_id: str | None = None
    user_id: str | None = None
    scope: str = ""

    @classmethod
    def from_response(
        cls,
        body: Mapping[str, Any],
        *,
        received_at: float,
        previous: TokenSet | None = None,
    ) -> TokenSet:
        """Build the tokens from a token endpoint response that arrived at `received_at`.

        A refresh response without `refresh_token` keeps the previous refresh
        token, as OAuth 2.0 allows; missing ids are taken from `previous` too.
        Raises TokenError when the response lacks the access token or its lifetime.
        """
        access_token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not isinstance(access_token, str) or not access_token:
            raise TokenError("the token response has no access_token")
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
            raise TokenError("the token response has no numeric expires_in")

        return cls(
            access_token=access_token,
            refresh_token=_text(body, "refresh_token") or _previous(previous, "refresh_token"),
            expires_at=received_at + float(expires_in),
            obtained_at=received_at,
            user_type=_text(body, "userType") or _previous(previous, "user_type"),
            company_id=_text(body, "companyId") or _previous(previous, "company_id"),
            location_id=_text(body, "locationId") or _previous(previous, "location_id"),
            user_id=_text(body, "userId") or _previous(previous, "user_id"),
            scope=_text(body, "scope") or "",
        )

    @property
    def owner_id(self) -> str | None:
        """Id of the company for Company tokens, else of the location."""
        if self.user_type == COMPANY:
            return self.company_id
        return self.location_id

    @property
    def is_agency(self) -> bool:
        """Whether these are Company tokens, which need a location token per location."""
        return self.user_type == COMPANY

    def refresh_due(self, margin: float, now: float | None = None) -> bool:
        """Return whether the access token expires within `margin` seconds.

        For tokens that live less than twice the margin, the margin shrinks to
        half their lifetime, so a fresh token is never refreshed at once.
        """
        current = time.time() if now is None else now
        lifetime = max(0.0, self.expires_at - self.obtained_at)
        return self.expires_at - current <= min(margin, lifetime / 2)

    def to_json(self) -> dict[str, Any]:
        """Return the fields as a JSON object, the format token stores save."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> TokenSet:
        """Read the output of `to_json`; raises ValueError naming the first bad field."""
        if not isinstance(data, Mapping):
            raise ValueError("a token entry must be a JSON object")
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            value = data.get(field.name, field.default)
            if value is attrs.NOTHING:
                raise ValueError(f"a token entry lacks {field.name!r}")
            _check_field_type(field.name, value)
            values[field.name] = value
        return cls(**values)


_FLOAT_FIELDS = ("expires_at", "obtained_at")
_OPTIONAL_TEXT_FIELDS = (
    "refresh_token", "user_type", "company_id", "location_id", "user_id"
)  # fmt: skip


def _check_field_type(name: str, value: object) -> None:
    if name in _FLOAT_FIELDS:
        valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif name in _OPTIONAL_TEXT_FIELDS:
        valid = value is None or isinstance(value, str)
    else:
        valid = isinstance(value, str)
    if not valid:
        raise ValueError(f"the token entry field {name!r} has the wrong type")


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


def _previous(previous: TokenSet | None, name: str) -> str | None:
    if previous is None:
        return None
    value: str | None = getattr(previous, name)
    return value
