"""GitHub App authentication: a JWT signed with the App's private key buys a one-hour
installation token (``POST /app/installations/{id}/access_tokens``).

Rules from "Generating a JSON Web Token (JWT) for a GitHub App" (docs.github.com): RS256,
``iss`` the App's id (or client id), ``iat`` not in the future (clients back-date it by 60
s), ``exp`` at most 10 minutes ahead. Refusals are 401 with the real messages, e.g.
``'Expiration time' claim ('exp') is too far in the future`` (octokit/auth-app.js#698,
actions/create-github-app-token#178) and ``'Expiration time' claim ('exp') must be a
numeric value representing the future time at which the assertion expires``
(sigmavirus24/github3.py#1050). Installation tokens start with ``ghs_`` and expire after one
hour; an expired one is "Bad credentials".

The sandbox has one App, installed on every owner of its repositories. Its key pair is made
on first use (RSA generation takes a moment) and shared by every service in the process:
this is a sandbox credential, not a secret.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import ApiError

APP_ID = 424242
INSTALLATION_ID = 5_150_001
CLIENT_ID = "Iv1.5a5d8b0c0ffee123"
APP_SLUG = "syncd-sandbox"
TOKEN_TTL_S = 3600
MAX_JWT_LIFETIME_S = 600
PERMISSIONS = {
    "contents": "read",
    "issues": "read",
    "metadata": "read",
    "pull_requests": "read",
    "members": "read",
}


@dataclass(frozen=True)
class AppCredentials:
    """What a user configures for App auth: ids and the PEM private key."""

    app_id: int
    installation_id: int
    client_id: str
    private_key_pem: str


@functools.cache
def _key_pair() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


class AppAuthority:
    """Verifies App JWTs, mints installation tokens, and recognises them later."""

    def __init__(self, clock: Callable[[], float], seed: int) -> None:
        self.clock = clock
        self.seed = seed
        self._tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires)
        self._minted = 0

    def credentials(self) -> AppCredentials:
        pem, _ = _key_pair()
        return AppCredentials(APP_ID, INSTALLATION_ID, CLIENT_ID, pem)

    def verify(self, token: str) -> None:
        """Raise ApiError(401) unless ``token`` is a valid JWT of the sandbox App."""
        _, public_key = _key_pair()
        try:
            claims = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise ApiError(401, "A JSON web token could not be decoded") from exc
        if str(claims.get("iss")) not in (str(APP_ID), CLIENT_ID):
            raise ApiError(401, "A JSON web token could not be decoded")
        now = self.clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now:
            raise ApiError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued",
            )
        if not isinstance(exp, int) or exp <= now:
            raise ApiError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires",
            )
        if exp - iat > MAX_JWT_LIFETIME_S + 60 or exp > now + MAX_JWT_LIFETIME_S:
            raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")

    def mint(self, installation_id: int) -> tuple[str, float]:
        if installation_id != INSTALLATION_ID:
            raise ApiError(
                404,
                "Not Found",
                "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
            )
        self._minted += 1
        digest = hashlib.sha256(f"ghs:{self.seed}:{self._minted}".encode()).hexdigest()
        token = "ghs_" + digest[:36]
        expires = self.clock() + TOKEN_TTL_S
        self._tokens[token] = (installation_id, expires)
        return token, expires

    def installation_of(self, token: str) -> int | None:
        """The installation an unexpired token belongs to."""
        found = self._tokens.get(token)
        if found is None or found[1] <= self.clock():
            return None
        return found[0]
