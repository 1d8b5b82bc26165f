from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.core.config import get_settings
from app.core.types import Role
from app.users.models import User
from tests.builders import PASSWORD, auth_headers, key_headers, make_api_key, make_user


def test_token_for_right_password_opens_me(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.clinician)
    response = client.post(
        "/api/v1/auth/token", data={"username": user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    assert me.json()["role"] == "clinician"
    assert "password_hash" not in me.json()


@pytest.mark.parametrize("known_email", [True, False])
def test_wrong_credentials_get_the_same_401(
    client: TestClient, session: Session, known_email: bool
) -> None:
    user = make_user(session)
    email = user.email if known_email else "nobody@example.org"
    response = client.post("/api/v1/auth/token", data={"username": email, "password": "wrong"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The email or password is wrong."


def test_inactive_user_cannot_log_in(client: TestClient, session: Session) -> None:
    user = make_user(session, is_active=False)
    response = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 401


def _forged(claims_change: Mapping[str, object], key: str | None = None, alg: str = "HS256") -> str:
    settings = get_settings()
    claims: dict[str, object] = {
        "sub": "00000000-0000-0000-0000-000000000000",
        "clinic": "00000000-0000-0000-0000-000000000000",
        "aud": settings.token_audience,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        **claims_change,
    }
    return jwt.encode(claims, key or settings.secret_key, algorithm=alg)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Bearer rk_not-a-real-key",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_missing_or_malformed_credentials_get_401(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_wrong_key_and_wrong_audience_tokens_get_401(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    ids = {"sub": str(user.id), "clinic": str(user.clinic_id)}
    past = datetime.now(UTC) - timedelta(minutes=1)
    for token in (
        _forged({**ids, "exp": past}),
        _forged(ids, key="another-secret-key-of-sufficient-length-xx"),
        _forged({**ids, "aud": "someone-else"}),
        _forged({**ids, "clinic": "00000000-0000-0000-0000-000000000001"}),
    ):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    good = client.get("/api/v1/me", headers={"Authorization": f"Bearer {_forged(ids)}"})
    assert good.status_code == 200


def test_unsigned_token_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(session)
    token = jwt.encode(
        {
            "sub": str(user.id),
            "clinic": str(user.clinic_id),
            "aud": get_settings().token_audience,
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        key=None,
        algorithm="none",
    )
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token_with_header(alg: str, claims: Mapping[str, object]) -> str:
    """A token whose header names `alg`: HMAC ones signed with the server's own key (a valid
    signature for that algorithm), others with random bytes, `none` with no signature."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    if alg in digests:
        key = get_settings().secret_key.encode()
        signature = hmac.new(key, signing_input.encode(), digests[alg]).digest()
    elif alg.lower() == "none":
        signature = b""
    else:
        signature = secrets.token_bytes(256)
    return f"{signing_input}.{_b64(signature)}"


@pytest.mark.parametrize(
    "alg", ["HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", "none", "None", "NONE"]
)
def test_a_token_in_any_algorithm_but_hs256_is_refused(
    client: TestClient, session: Session, alg: str
) -> None:
    user = make_user(session)
    claims = {
        "sub": str(user.id),
        "clinic": str(user.clinic_id),
        "aud": get_settings().token_audience,
        "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
    }
    forged = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {_token_with_header(alg, claims)}"}
    )
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    genuine = _token_with_header("HS256", claims)  # the same forgery, in the server's algorithm
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    )


@pytest.mark.parametrize("missing", ["exp", "sub", "aud", "clinic"])
def test_a_token_missing_a_claim_is_refused(
    client: TestClient, session: Session, missing: str
) -> None:
    user = make_user(session)
    claims = {
        "sub": str(user.id),
        "clinic": str(user.clinic_id),
        "aud": get_settings().token_audience,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    del claims[missing]
    token = jwt.encode(claims, get_settings().secret_key, algorithm="HS256")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_deactivated_users_token_stops_working(client: TestClient, session: Session) -> None:
    user = make_user(session)
    headers = auth_headers(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    session.get_one(User, user.id).is_active = False
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_revoked_api_key_stops_working_at_once(client: TestClient, session: Session) -> None:
    """Revoked by anyone (another process, the CLI): the next request already refuses it.
    tests/api_keys/test_router.py covers revocation through DELETE /api-keys/{id}."""
    key, secret = make_api_key(session)
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 200
    session.get_one(ApiKey, key.id).revoked_at = datetime.now(UTC)
    response = client.get("/api/v1/me", headers=key_headers(secret))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_api_key_authenticates_as_integration(client: TestClient, session: Session) -> None:
    key, secret = make_api_key(session)
    response = client.get("/api/v1/me", headers=key_headers(secret))
    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_key",
        "id": str(key.id),
        "clinic_id": str(key.clinic_id),
        "role": "integration",
        "email": None,
        "display_name": key.name,
        "patient_id": None,
    }
