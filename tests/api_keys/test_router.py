from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.audit.models import AuditEvent
from app.auth.security import hash_api_key
from app.clinics.models import Clinic
from app.core.types import Role
from app.users.models import User
from tests.builders import auth_headers, key_headers, make_api_key, make_user

NEW_KEY = {"name": "Nightly export"}


def _admin(session: Session, clinic: Clinic | None = None) -> User:
    return make_user(session, clinic=clinic, role=Role.admin)


def _clinic_of(session: Session, user: User) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def test_create_shows_the_secret_once_and_stores_only_its_hash(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    created = client.post("/api/v1/api-keys", json=NEW_KEY, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("rk_")
    assert len(secret) > 40
    assert created.headers["location"] == f"/api/v1/api-keys/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert created.headers["cache-control"] == "no-store"
    assert body["prefix"] == secret[:11]
    assert (body["name"], body["revoked_at"]) == ("Nightly export", None)
    assert (body["clinic_id"], body["created_by_id"]) == (str(admin.clinic_id), str(admin.id))
    read = client.get(created.headers["location"], headers=headers)
    assert read.json() == {k: v for k, v in body.items() if k != "secret"}
    listed = client.get("/api/v1/api-keys", headers=headers)
    assert [k["id"] for k in listed.json()["items"]] == [body["id"]]
    for response in (read, listed):
        assert secret not in response.text
        assert "secret" not in response.text
    stored = session.get_one(ApiKey, uuid.UUID(body["id"]))
    assert stored.secret_hash == hash_api_key(secret)
    assert secret not in [stored.name, stored.prefix, stored.secret_hash]


def test_new_key_authenticates_as_integration(client: TestClient, session: Session) -> None:
    created = client.post("/api/v1/api-keys", json=NEW_KEY, headers=auth_headers(_admin(session)))
    me = client.get("/api/v1/me", headers=key_headers(created.json()["secret"]))
    assert me.status_code == 200
    assert (me.json()["kind"], me.json()["role"]) == ("api_key", "integration")
    assert me.json()["id"] == created.json()["id"]


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [({}, "/name"), ({"name": ""}, "/name"), ({**NEW_KEY, "secret": "rk_mine"}, "/secret")],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, session: Session, payload: dict[str, object], pointer: str
) -> None:
    response = client.post("/api/v1/api-keys", json=payload, headers=auth_headers(_admin(session)))
    assert response.status_code == 422
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


def test_revoke_needs_if_match_and_stops_the_key_at_once(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    key, secret = make_api_key(session, clinic=_clinic_of(session, admin), created_by=admin)
    url = f"/api/v1/api-keys/{key.id}"
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 200
    assert client.delete(url, headers=headers).status_code == 428
    assert client.delete(url, headers={**headers, "If-Match": '"7"'}).status_code == 412
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 200
    revoked = client.delete(url, headers={**headers, "If-Match": '"1"'})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.headers["etag"] == '"2"'
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 401
    again = client.delete(url, headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=headers).json()["revoked_at"] is not None


def test_list_hides_revoked_keys_unless_asked_and_pages(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    clinic = _clinic_of(session, admin)
    live = {str(make_api_key(session, clinic=clinic, created_by=admin)[0].id) for _ in range(4)}
    revoked, _ = make_api_key(session, clinic=clinic, created_by=admin)
    session.get_one(ApiKey, revoked.id).revoked_at = revoked.created_at
    make_api_key(session)  # another clinic's
    headers = auth_headers(admin)

    def ids(**params: str | int | bool) -> set[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/api-keys", params=query, headers=headers).json()
            seen += [k["id"] for k in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                assert len(seen) == len(set(seen))
                return set(seen)

    assert ids() == live
    assert ids(include_revoked=True) == {*live, str(revoked.id)}


@pytest.mark.parametrize("caller", ["clinician", "patient", "integration", "api_key"])
def test_non_admins_get_403_everywhere(client: TestClient, session: Session, caller: str) -> None:
    admin = _admin(session)
    clinic = _clinic_of(session, admin)
    key, secret = make_api_key(session, clinic=clinic, created_by=admin)
    if caller == "api_key":
        headers = key_headers(secret)
    else:
        headers = auth_headers(make_user(session, clinic=clinic, role=Role(caller)))
    headers["If-Match"] = '"1"'
    url = f"/api/v1/api-keys/{key.id}"
    assert client.get("/api/v1/api-keys", headers=headers).status_code == 403
    assert client.post("/api/v1/api-keys", json=NEW_KEY, headers=headers).status_code == 403
    assert client.get(url, headers=headers).status_code == 403
    assert client.delete(url, headers=headers).status_code == 403
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 200
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_another_clinics_admin_gets_404_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    key, secret = make_api_key(session)
    headers = {**auth_headers(_admin(session)), "If-Match": '"1"'}
    url = f"/api/v1/api-keys/{key.id}"
    assert client.get(url, headers=headers).status_code == 404
    deleted = client.delete(url, headers=headers)
    assert deleted.status_code == 404
    assert deleted.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/api-keys", headers=headers).json()["items"] == []
    assert client.get("/api/v1/me", headers=key_headers(secret)).status_code == 200
    assert session.get_one(ApiKey, key.id).revoked_at is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    created = client.post("/api/v1/api-keys", json=NEW_KEY, headers=headers)
    url = created.headers["location"]
    client.delete(url, headers={**headers, "If-Match": '"1"'})
    client.delete(url, headers={**headers, "If-Match": '"2"'})
    client.delete(url, headers={**headers, "If-Match": '"1"'})
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)))
    assert [e.action for e in events] == ["create", "revoke"]
    assert {(e.actor_id, e.entity_type, str(e.entity_id)) for e in events} == {
        (admin.id, "api_key", created.json()["id"])
    }
    assert created.json()["secret"] not in str([e.details for e in events])
