"""Password hashing (argon2id), bearer tokens (JWT, HS256) and API-key secrets."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.config import Settings

TOKEN_ALGORITHM = "HS256"
API_KEY_PREFIX = "rk_"
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs what a hit does.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    clinic_id: uuid.UUID


def issue_token(settings: Settings, user_id: uuid.UUID, clinic_id: uuid.UUID) -> tuple[str, int]:
    lifetime = settings.token_lifetime_minutes * 60
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "clinic": str(clinic_id),
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM), lifetime


def read_token(settings: Settings, token: str) -> TokenClaims | None:
    """The token's claims, or None for any token this server did not issue or that expired."""
    try:
        claims, expires = _verified(token, settings.secret_key, settings.token_audience)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
    return claims if time.time() < expires else None


@lru_cache(maxsize=4096)
def _verified(token: str, secret_key: str, audience: str) -> tuple[TokenClaims, float]:
    """The signature checked once per token (the costly part of every request's
    authentication), remembered; expiry is checked on every use. Raises for a bad token, so
    that no failure is remembered."""
    claims = jwt.decode(
        token,
        secret_key,
        algorithms=[TOKEN_ALGORITHM],
        audience=audience,
        options={"require": ["exp", "sub", "aud"], "verify_exp": False},
    )
    return TokenClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["clinic"])), float(claims["exp"])


def new_api_key_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()
