from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.clinics.models import Clinic
from app.core.types import Role
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_patient,
    make_user,
)

NEW_PASSWORD = "a long enough passphrase"
NEW_USER = {"email": "New.Clinician@Example.org", "password": NEW_PASSWORD, "role": "clinician"}


def _admin(session: Session, clinic: Clinic | None = None) -> User:
    return make_user(session, clinic=clinic, role=Role.admin)


def _clinic_of(session: Session, user: User) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def _events(session: Session, entity_id: str | uuid.UUID) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_id == uuid.UUID(str(entity_id)))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def test_create_read_and_list(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    created = client.post("/api/v1/users", json=NEW_USER, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/users/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["email"] == "new.clinician@example.org"
    assert body["role"] == "clinician"
    assert body["is_active"] is True
    assert body["clinic_id"] == str(admin.clinic_id)
    assert body["patient_id"] is None
    read = client.get(created.headers["location"], headers=headers)
    assert read.json() == body
    assert read.headers["etag"] == '"1"'
    listed = client.get("/api/v1/users", headers=headers).json()
    assert {u["id"] for u in listed["items"]} == {str(admin.id), body["id"]}
    for response in (created, read):
        assert "password" not in response.text
        assert NEW_PASSWORD not in response.text
    assert session.get_one(User, uuid.UUID(body["id"])).password_hash.startswith("$argon2id$")


def test_list_filters_by_role_and_active_and_pages(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    clinic = _clinic_of(session, admin)
    clinicians = {str(make_user(session, clinic=clinic).id) for _ in range(4)}
    retired = make_user(session, clinic=clinic, is_active=False)
    make_user(session, role=Role.clinician)  # another clinic's
    headers = auth_headers(admin)

    def ids(**params: str | int | bool) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/users", params=query, headers=headers)
            assert page.status_code == 200, page.text
            assert "password_hash" not in page.text
            seen += [u["id"] for u in page.json()["items"]]
            if (cursor := page.json()["next_cursor"]) is None:
                return seen

    assert sorted(ids(role="clinician")) == sorted({*clinicians, str(retired.id)})
    assert sorted(ids(role="clinician", is_active=True)) == sorted(clinicians)
    assert ids(is_active=False) == [str(retired.id)]
    assert ids(role="admin") == [str(admin.id)]
    assert len(ids()) == 6
    bad = client.get("/api/v1/users", params={"role": "surgeon"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["parameter"] == "role"


def test_created_user_can_log_in(client: TestClient, session: Session) -> None:
    headers = auth_headers(_admin(session))
    password = "  spaces at both ends count  "
    payload = {**NEW_USER, "password": password}
    assert client.post("/api/v1/users", json=payload, headers=headers).status_code == 201
    token = client.post(
        "/api/v1/auth/token", data={"username": NEW_USER["email"], "password": password}
    )
    assert token.status_code == 200, token.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["email"] == "new.clinician@example.org"
    stripped = client.post(
        "/api/v1/auth/token", data={"username": NEW_USER["email"], "password": password.strip()}
    )
    assert stripped.status_code == 401


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({**NEW_USER, "password": "eleven char"}, "/password"),
        ({**NEW_USER, "password": " " * 12}, "/password"),
        ({**NEW_USER, "role": "superuser"}, "/role"),
        ({**NEW_USER, "email": "not-an-email"}, "/email"),
        ({**NEW_USER, "is_superuser": True}, "/is_superuser"),
        ({"email": "x@example.org", "role": "clinician"}, "/password"),
        ({**NEW_USER, "role": "patient"}, "/patient_id"),
        ({**NEW_USER, "patient_id": str(uuid.uuid4())}, "/patient_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, session: Session, payload: dict[str, object], pointer: str
) -> None:
    response = client.post("/api/v1/users", json=payload, headers=auth_headers(_admin(session)))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert NEW_PASSWORD not in response.text


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "Password1234",
        "123456789012",
        "qwertyuiopas",
        "QWERTY123456",
        "New.Clinician@Example.org",
        "new.clinician",
    ],
)
def test_a_common_password_or_the_email_is_refused(
    client: TestClient, session: Session, password: str
) -> None:
    payload = {**NEW_USER, "password": password}
    response = client.post("/api/v1/users", json=payload, headers=auth_headers(_admin(session)))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == ["/password"]
    assert password not in response.text


def test_duplicate_email_is_409_whatever_the_case_or_clinic(
    client: TestClient, session: Session
) -> None:
    existing = make_user(session, email="taken@example.org")
    for admin in (_admin(session, _clinic_of(session, existing)), _admin(session)):
        payload = {**NEW_USER, "email": "Taken@Example.org"}
        response = client.post("/api/v1/users", json=payload, headers=auth_headers(admin))
        assert response.status_code == 409
        assert response.json()["errors"][0]["pointer"] == "/email"
    assert session.scalar(select(func.count()).select_from(User)) == 3


def test_patient_user_links_to_a_patient_of_the_clinic_once(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    patient = make_patient(session, clinic=_clinic_of(session, admin))
    payload = {**NEW_USER, "role": "patient", "patient_id": str(patient.id)}
    created = client.post("/api/v1/users", json=payload, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["patient_id"] == str(patient.id)
    again = client.post(
        "/api/v1/users", json={**payload, "email": "second@example.org"}, headers=headers
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["pointer"] == "/patient_id"


@pytest.mark.parametrize("which", ["another_clinic", "archived", "missing"])
def test_patient_user_needs_a_current_patient_of_the_clinic(
    client: TestClient, session: Session, which: str
) -> None:
    admin = _admin(session)
    if which == "another_clinic":
        patient_id = make_patient(session).id
    elif which == "archived":
        clinic = _clinic_of(session, admin)
        patient_id = make_patient(session, clinic=clinic, archived_at=datetime.now(UTC)).id
    else:
        patient_id = uuid.uuid4()
    payload = {**NEW_USER, "role": "patient", "patient_id": str(patient_id)}
    response = client.post("/api/v1/users", json=payload, headers=auth_headers(admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/patient_id"
    assert session.scalar(select(func.count()).select_from(User)) == 1


def _non_admin_headers(session: Session, caller: str, clinic: Clinic) -> dict[str, str]:
    if caller == "api_key":
        return key_headers(make_api_key(session, clinic=clinic)[1])
    return auth_headers(make_user(session, clinic=clinic, role=Role(caller)))


@pytest.mark.parametrize("caller", ["clinician", "patient", "integration", "api_key"])
def test_non_admins_get_403_everywhere(client: TestClient, session: Session, caller: str) -> None:
    target = make_user(session)
    headers = {
        **_non_admin_headers(session, caller, _clinic_of(session, target)),
        "If-Match": '"1"',
    }
    url = f"/api/v1/users/{target.id}"
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.post("/api/v1/users", json=NEW_USER, headers=headers).status_code == 403
    assert client.get(url, headers=headers).status_code == 403
    response = client.patch(url, json={"role": "admin"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert session.get_one(User, target.id).role is Role.clinician
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_another_clinics_admin_gets_404_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    target = make_user(session)
    stranger = _admin(session)
    headers = {**auth_headers(stranger), "If-Match": '"1"'}
    url = f"/api/v1/users/{target.id}"
    assert client.get(url, headers=headers).status_code == 404
    patched = client.patch(url, json={"is_active": False}, headers=headers)
    assert patched.status_code == 404
    assert patched.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/users", headers=headers).json()["items"] == [
        client.get(f"/api/v1/users/{stranger.id}", headers=headers).json()
    ]
    reread = session.get_one(User, target.id)
    assert (reread.is_active, reread.version) == (True, 1)
    assert _events(session, target.id) == []


def test_update_needs_if_match_and_refuses_a_stale_one(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    url = client.post("/api/v1/users", json=NEW_USER, headers=headers).headers["location"]
    missing = client.patch(url, json={"role": "admin"}, headers=headers)
    assert missing.status_code == 428
    changed = client.patch(
        url,
        json={"role": "admin", "display_name": "Dr Who"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["role"], changed.json()["display_name"]) == ("admin", "Dr Who")
    assert "password" not in changed.text
    stale = client.patch(url, json={"is_active": False}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.get(url, headers=headers).json()["is_active"] is True


@pytest.mark.parametrize("payload", [{"role": None}, {"is_active": None}, {"email": "x@y.org"}])
def test_update_refuses_null_and_unknown_fields(
    client: TestClient, session: Session, payload: dict[str, object]
) -> None:
    admin = _admin(session)
    target = make_user(session, clinic=_clinic_of(session, admin))
    response = client.patch(
        f"/api/v1/users/{target.id}",
        json=payload,
        headers={**auth_headers(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == f"/{next(iter(payload))}"


@pytest.mark.parametrize(
    ("payload", "pointer"), [({"role": "clinician"}, "/role"), ({"is_active": False}, "/is_active")]
)
def test_admin_cannot_demote_or_deactivate_themself(
    client: TestClient, session: Session, payload: dict[str, object], pointer: str
) -> None:
    admin = _admin(session)
    headers = {**auth_headers(admin), "If-Match": '"1"'}
    response = client.patch(f"/api/v1/users/{admin.id}", json=payload, headers=headers)
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == pointer
    reread = session.get_one(User, admin.id)
    assert (reread.role, reread.is_active, reread.version) == (Role.admin, True, 1)
    renamed = client.patch(
        f"/api/v1/users/{admin.id}", json={"display_name": "Boss"}, headers=headers
    )
    assert renamed.status_code == 200


def test_admin_can_demote_and_deactivate_another_admin(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    other = _admin(session, _clinic_of(session, admin))
    response = client.patch(
        f"/api/v1/users/{other.id}",
        json={"role": "clinician"},
        headers={**auth_headers(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json()["role"] == "clinician"
    assert client.get("/api/v1/users", headers=auth_headers(other)).status_code == 403
    deactivated = client.patch(
        f"/api/v1/users/{other.id}",
        json={"is_active": False},
        headers={**auth_headers(admin), "If-Match": '"2"'},
    )
    assert deactivated.status_code == 200
    assert client.get("/api/v1/me", headers=auth_headers(other)).status_code == 401


@pytest.mark.parametrize(("role", "new_role"), [("clinician", "patient"), ("patient", "admin")])
def test_role_cannot_change_to_or_from_patient(
    client: TestClient, session: Session, role: str, new_role: str
) -> None:
    admin = _admin(session)
    target = make_user(session, clinic=_clinic_of(session, admin), role=Role(role))
    response = client.patch(
        f"/api/v1/users/{target.id}",
        json={"role": new_role},
        headers={**auth_headers(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/role"


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    headers = auth_headers(admin)
    created = client.post("/api/v1/users", json=NEW_USER, headers=headers)
    url = created.headers["location"]
    client.patch(url, json={"role": "admin"}, headers={**headers, "If-Match": '"1"'})
    client.patch(url, json={"is_active": False}, headers={**headers, "If-Match": '"1"'})
    client.post("/api/v1/users", json=NEW_USER, headers=headers)
    events = _events(session, created.json()["id"])
    assert [e.action for e in events] == ["create", "update"]
    assert {(e.actor_type, e.actor_id, e.entity_type) for e in events} == {
        ("user", admin.id, "user")
    }
    assert events[1].details == {"fields": ["role"], "role": "admin"}
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2
