"""Bearer tokens: a token's signature is checked once and remembered, its expiry on every use."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth import security
from app.core.config import get_settings


def _token(expires_in: timedelta, key: str | None = None) -> str:
    settings = get_settings()
    claims = {
        "sub": str(uuid.uuid4()),
        "clinic": str(uuid.uuid4()),
        "aud": settings.token_audience,
        "exp": datetime.now(UTC) + expires_in,
    }
    return jwt.encode(claims, key or settings.secret_key, algorithm=security.TOKEN_ALGORITHM)


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(timedelta(minutes=5))
    assert security.read_token(get_settings(), token) is not None
    assert security.read_token(get_settings(), token) is not None  # from memory now
    later = datetime.now(UTC) + timedelta(minutes=6)
    monkeypatch.setattr(time, "time", later.timestamp)
    assert security.read_token(get_settings(), token) is None


def test_a_refused_token_is_not_remembered_as_good() -> None:
    forged = _token(timedelta(minutes=5), key="another-secret-key-of-sufficient-length-xx")
    for _ in range(2):
        assert security.read_token(get_settings(), forged) is None


def test_the_token_is_checked_against_the_current_secret() -> None:
    token = _token(timedelta(minutes=5))
    rotated = get_settings().model_copy(
        update={"secret_key": "a-new-secret-key-after-rotation-xxxxxx"}
    )
    assert security.read_token(get_settings(), token) is not None
    assert security.read_token(rotated, token) is None
