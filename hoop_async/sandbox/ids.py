"""Deterministic identifiers: record ids, stage ids, OAuth client ids and tokens.

Every value comes from one random.Random seeded from SandboxConfig.seed, so two
sandboxes with the same seed and the same calls hand out the same ids.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from typing import Any

ALPHANUMERIC = string.ascii_letters + string.digits
RECORD_ID_LENGTH = 20


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class IdFactory:
    """Source of every generated id of one sandbox."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def record_id(self) -> str:
        """Return a 20-character alphanumeric id, the shape of HighLevel record ids."""
        return "".join(self.rng.choices(ALPHANUMERIC, k=RECORD_ID_LENGTH))

    def record_ids(self, count: int) -> list[str]:
        """Return `count` record ids in one go (used by bulk seeding)."""
        characters = self.rng.choices(ALPHANUMERIC, k=count * RECORD_ID_LENGTH)
        joined = "".join(characters)
        return [
            joined[start : start + RECORD_ID_LENGTH]
            for start in range(0, len(joined), RECORD_ID_LENGTH)
        ]

    def uuid4(self) -> str:
        """Return a version-4 UUID string (pipeline stage ids have this shape)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex_id(self, length: int = 24) -> str:
        """Return a lowercase hex id such as a refreshTokenId (24 digits by default)."""
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def client_id(self) -> str:
        """Return an OAuth client id shaped like HighLevel's: 24 hex digits, a dash, 8 letters."""
        suffix = "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=8))
        return f"{self.hex_id()}-{suffix}"

    def secret(self) -> str:
        """Return a random secret such as a client secret or an authorization code."""
        return _base64url(self.rng.randbytes(24))

    def jwt_like(self, claims: dict[str, Any]) -> str:
        """Return a token shaped like a JWT whose payload contains `claims`.

        The signature part is random bytes: the sandbox looks tokens up in its
        registry and never verifies a signature.
        """
        header = _base64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _base64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = _base64url(self.rng.randbytes(32))
        return f"{header}.{payload}.{signature}"
