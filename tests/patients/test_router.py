from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.types import Role
from app.patients.models import Patient
from tests.builders import auth_headers, make_clinic, make_patient, make_user

NEW_PATIENT = {"display_name": "Ada Lovelace", "date_of_birth": "1985-12-10", "external_id": "A-1"}


def test_create_read_and_list(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/patients/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["clinic_id"] == str(clinician.clinic_id)
    read = client.get(created.headers["location"], headers=headers)
    assert read.json() == body
    listed = client.get("/api/v1/patients", params={"q": "lovel"}, headers=headers).json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None


def test_cursor_pages_through_every_patient_once(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    clinic = clinician.clinic_id
    from app.clinics.models import Clinic

    owner = session.get_one(Clinic, clinic)
    made = {str(make_patient(session, clinic=owner).id) for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/patients", params=params, headers=auth_headers(clinician))
        assert page.status_code == 200
        seen += [p["id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({**NEW_PATIENT, "date_of_birth": "not-a-date"}, "/date_of_birth"),
        ({**NEW_PATIENT, "display_name": ""}, "/display_name"),
        ({**NEW_PATIENT, "email": "not-an-email"}, "/email"),
        ({**NEW_PATIENT, "favourite_colour": "blue"}, "/favourite_colour"),
        ({"date_of_birth": "1980-01-01"}, "/display_name"),
        ({**NEW_PATIENT, "date_of_birth": "2999-01-01"}, "/date_of_birth"),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(
    client: TestClient, session: Session, payload: dict[str, object], pointer: str
) -> None:
    response = client.post(
        "/api/v1/patients", json=payload, headers=auth_headers(make_user(session))
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert pointer in [e.get("pointer") for e in body["errors"]]


def test_malformed_json_and_bad_query_parameters(client: TestClient, session: Session) -> None:
    headers = {**auth_headers(make_user(session)), "content-type": "application/json"}
    broken = client.post("/api/v1/patients", content=b'{"display_name": ', headers=headers)
    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"
    too_many = client.get("/api/v1/patients", params={"limit": 1000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["parameter"] == "limit"
    bad_cursor = client.get("/api/v1/patients", params={"cursor": "@@@"}, headers=headers)
    assert bad_cursor.status_code == 422
    bad_id = client.get("/api/v1/patients/not-a-uuid", headers=headers)
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["parameter"] == "patient_id"


def test_duplicate_external_id_in_one_clinic_is_409_but_fine_in_another(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    other = make_user(session)
    assert (
        client.post(
            "/api/v1/patients", json=NEW_PATIENT, headers=auth_headers(clinician)
        ).status_code
        == 201
    )
    again = client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth_headers(clinician))
    assert again.status_code == 409
    assert again.json()["errors"][0]["pointer"] == "/external_id"
    assert (
        client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth_headers(other)).status_code
        == 201
    )


def test_update_needs_if_match_and_refuses_a_stale_one(
    client: TestClient, session: Session
) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)
    url = created.headers["location"]
    missing = client.patch(url, json={"notes": "x"}, headers=headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    first = client.patch(url, json={"notes": "first"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    stale = client.patch(url, json={"notes": "second"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.get(url, headers=headers).json()["notes"] == "first"


def test_archive_hides_from_list_but_keeps_the_record(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    url = client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers).headers["location"]
    assert client.delete(url, headers=headers).status_code == 428
    archived = client.delete(url, headers={**headers, "If-Match": '"1"'})
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert client.get("/api/v1/patients", headers=headers).json()["items"] == []
    listed = client.get("/api/v1/patients", params={"include_archived": True}, headers=headers)
    assert len(listed.json()["items"]) == 1
    assert client.get(url, headers=headers).status_code == 200
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_another_clinics_user_gets_404_everywhere(client: TestClient, session: Session) -> None:
    patient = make_patient(session)
    stranger = make_user(session, clinic=make_clinic(session), role=Role.admin)
    headers = {**auth_headers(stranger), "If-Match": '"1"'}
    url = f"/api/v1/patients/{patient.id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get("/api/v1/patients", headers=headers).json()["items"] == []
    assert session.get_one(Patient, patient.id).notes is None


def test_patient_user_sees_only_themself_and_cannot_write(
    client: TestClient, session: Session
) -> None:
    me = make_user(session, role=Role.patient)
    from app.clinics.models import Clinic

    neighbour = make_patient(session, clinic=session.get_one(Clinic, me.clinic_id))
    headers = {**auth_headers(me), "If-Match": '"1"'}
    listed = client.get("/api/v1/patients", headers=headers).json()["items"]
    assert [p["id"] for p in listed] == [str(me.patient_id)]
    assert client.get(f"/api/v1/patients/{me.patient_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/patients/{neighbour.id}", headers=headers).status_code == 404
    assert client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers).status_code == 403
    own = client.patch(f"/api/v1/patients/{me.patient_id}", json={"notes": "x"}, headers=headers)
    assert own.status_code == 403


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    clinician = make_user(session)
    headers = auth_headers(clinician)
    created = client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)
    patient_id = created.json()["id"]
    client.patch(
        created.headers["location"], json={"notes": "n"}, headers={**headers, "If-Match": '"1"'}
    )
    client.delete(created.headers["location"], headers={**headers, "If-Match": '"2"'})
    client.patch(
        created.headers["location"], json={"notes": "stale"}, headers={**headers, "If-Match": '"1"'}
    )
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_id == uuid.UUID(patient_id))
        .order_by(AuditEvent.at)
    ).all()
    assert [e.action for e in events] == ["create", "update", "archive"]
    assert {str(e.actor_id) for e in events} == {str(clinician.id)}
    assert all(str(e.entity_id) == patient_id for e in events)
