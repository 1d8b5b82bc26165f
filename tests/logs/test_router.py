from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.types import Role
from app.idempotency.models import IdempotencyKey
from app.prescriptions.models import ExerciseLog, PrescriptionStatus
from tests.builders import auth_headers, make_patient, make_user
from tests.sessions.builders import make_care, prescribe

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def _url(prescription_id: uuid.UUID | str) -> str:
    return f"/api/v1/prescriptions/{prescription_id}/logs"


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "performed_on": YESTERDAY.isoformat(),
        "sets": [
            {"reps": 10, "load_value": 20, "rpe": 7.5},
            {"reps": 10, "load_value": 20, "rir": 2},
            {"reps": 8, "load_value": 20},
        ],
        "pain_before": 2,
        "pain_during": 3,
        **extra,
    }


def _count(session: Session, model: type[Any] = ExerciseLog) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_patient_logs_a_home_session(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan, versions=[(YESTERDAY, 3), (TODAY, 4)])
    created = client.post(
        _url(prescription.id), json=_body(), headers=auth_headers(care.patient_user)
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/logs/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert "idempotent-replayed" not in created.headers
    assert body["source"] == "home"
    assert body["session_id"] is None
    assert body["version_number"] == 2
    assert body["patient_id"] == str(care.patient.id)
    assert body["plan_id"] == str(care.plan.id)
    assert body["recorded_by_id"] == str(care.patient_user.id)
    assert [s["reps"] for s in body["sets"]] == [10, 10, 8]
    assert (body["sets"][0]["rpe"], body["sets"][1]["rir"]) == (7.5, 2)
    assert body["pain_next_morning"] is None
    read = client.get(created.headers["location"], headers=auth_headers(care.clinician))
    assert read.json() == body
    assert read.headers["etag"] == '"1"'


def test_a_clinician_logs_for_the_patient(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    created = client.post(_url(prescription.id), json=_body(), headers=auth_headers(care.clinician))
    assert created.status_code == 201
    assert created.json()["source"] == "home"
    assert created.json()["recorded_by_id"] == str(care.clinician.id)


def test_a_skipped_log_has_a_reason_and_no_sets(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    skipped = {
        "performed_on": YESTERDAY.isoformat(),
        "skipped": True,
        "skip_reason": "Knee flared up after football",
        "pain_before": 5,
    }
    created = client.post(_url(prescription.id), json=skipped, headers=auth_headers(care.clinician))
    assert created.status_code == 201, created.text
    assert (created.json()["skipped"], created.json()["sets"]) == (True, [])


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({**_body(), "skipped": True}, "/sets"),
        ({"performed_on": YESTERDAY.isoformat(), "skipped": True}, "/skip_reason"),
        ({**_body(), "skip_reason": "busy"}, "/skip_reason"),
        ({"performed_on": YESTERDAY.isoformat()}, "/sets"),
        (
            {
                "performed_on": YESTERDAY.isoformat(),
                "skipped": True,
                "skip_reason": "x",
                "pain_during": 2,
            },
            "/pain_during",
        ),
        (_body(pain_during=11), "/pain_during"),
        (_body(pain_before=-1), "/pain_before"),
        (_body(pain_next_morning=12), "/pain_next_morning"),
        (_body(performed_on=(TODAY + timedelta(days=2)).isoformat()), "/performed_on"),
        (_body(performed_on="yesterday"), "/performed_on"),
        (_body(sets=[{"reps": 10}] * 21), "/sets"),
        (_body(sets=[{"reps": -1}]), "/sets/0/reps"),
        (_body(sets=[{"reps": 501}]), "/sets/0/reps"),
        (_body(sets=[{"reps": 5}, {"reps": 5, "rpe": 0}]), "/sets/1/rpe"),
        (_body(sets=[{"reps": 5, "rpe": 7.3}]), "/sets/0/rpe"),
        (_body(sets=[{"reps": 5, "rir": 6}]), "/sets/0/rir"),
        (_body(sets=[{"reps": 5, "load_value": 5000}]), "/sets/0/load_value"),
        (_body(sets=[{"duration_s": 0}]), "/sets/0/duration_s"),
        (_body(sets=[{"distance_m": -3}]), "/sets/0/distance_m"),
        (_body(sets=[{"load_value": 20}]), "/sets/0"),
        (_body(sets=[{"reps": 5, "rpe": 8, "rir": 2}]), "/sets/0"),
        (_body(sets=[{"reps": 5, "tempo": "3-1-1-0"}]), "/sets/0/tempo"),
        (_body(mood="great"), "/mood"),
    ],
)
def test_out_of_range_values_are_422_naming_the_field(
    client: TestClient, session: Session, body: dict[str, Any], pointer: str
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    response = client.post(
        _url(prescription.id), json=body, headers=auth_headers(care.patient_user)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert _count(session) == 0


def test_a_stopped_prescription_takes_no_more_logs(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan, status=PrescriptionStatus.stopped)
    refused = client.post(
        _url(prescription.id), json=_body(), headers=auth_headers(care.patient_user)
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert _count(session) == 0


def test_pain_next_morning_arrives_later_by_patch(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    mine = auth_headers(care.patient_user)
    url = client.post(_url(prescription.id), json=_body(), headers=mine).headers["location"]
    assert client.patch(url, json={"pain_next_morning": 2}, headers=mine).status_code == 428
    morning = client.patch(url, json={"pain_next_morning": 2}, headers={**mine, "If-Match": '"1"'})
    assert morning.status_code == 200, morning.text
    assert morning.headers["etag"] == '"2"'
    assert (morning.json()["pain_next_morning"], morning.json()["pain_during"]) == (2, 3)
    stale = client.patch(url, json={"notes": "x"}, headers={**mine, "If-Match": '"1"'})
    assert stale.status_code == 412
    refusals: list[dict[str, Any]] = [{"pain_during": 1}, {"sets": []}, {"pain_next_morning": 11}]
    for refused in refusals:
        response = client.patch(url, json=refused, headers={**mine, "If-Match": '"2"'})
        assert response.status_code == 422
    by_clinician = client.patch(
        url,
        json={"notes": "Settled by the morning"},
        headers={**auth_headers(care.clinician), "If-Match": '"2"'},
    )
    assert by_clinician.status_code == 200
    assert by_clinician.json()["notes"] == "Settled by the morning"
    assert by_clinician.json()["pain_next_morning"] == 2


def test_list_in_recording_order_with_a_cursor(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = auth_headers(care.patient_user)
    made = [
        client.post(
            _url(prescription.id),
            json=_body(performed_on=(TODAY - timedelta(days=n)).isoformat()),
            headers=headers,
        ).json()["id"]
        for n in (3, 1, 2)
    ]
    first = client.get(_url(prescription.id), params={"limit": 2}, headers=headers).json()
    rest = client.get(
        _url(prescription.id), params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [log["id"] for log in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None


def test_a_patient_reaches_only_their_own_prescriptions_and_logs(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    url = client.post(
        _url(prescription.id), json=_body(), headers=auth_headers(care.patient_user)
    ).headers["location"]
    neighbour = make_user(
        session,
        clinic=care.clinic,
        role=Role.patient,
        patient=make_patient(session, clinic=care.clinic),
    )
    theirs = {**auth_headers(neighbour), "If-Match": '"1"', "Idempotency-Key": "k-1"}
    assert client.post(_url(prescription.id), json=_body(), headers=theirs).status_code == 404
    assert client.get(_url(prescription.id), headers=theirs).status_code == 404
    assert client.get(url, headers=theirs).status_code == 404
    assert client.patch(url, json={"pain_next_morning": 9}, headers=theirs).status_code == 404
    assert _count(session) == 1
    assert _count(session, IdempotencyKey) == 0
    assert session.scalars(select(ExerciseLog)).one().pain_next_morning is None


def test_another_clinics_users_get_404_everywhere_with_no_side_effect(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    url = client.post(
        _url(prescription.id), json=_body(), headers=auth_headers(care.clinician)
    ).headers["location"]
    stranger = make_user(session, role=Role.admin)
    headers = {**auth_headers(stranger), "If-Match": '"1"', "Idempotency-Key": "k-1"}
    assert client.post(_url(prescription.id), json=_body(), headers=headers).status_code == 404
    assert client.get(_url(prescription.id), headers=headers).status_code == 404
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"notes": "x"}, headers=headers).status_code == 404
    assert _count(session) == 1
    assert _count(session, IdempotencyKey) == 0
    log = session.scalars(select(ExerciseLog)).one()
    assert (log.notes, log.version) == (None, 1)
    assert session.scalar(select(func.count()).where(AuditEvent.actor_id == stranger.id)) == 0


def test_each_write_records_exactly_one_audit_event(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = auth_headers(care.patient_user)
    created = client.post(_url(prescription.id), json=_body(), headers=headers)
    client.patch(
        created.headers["location"],
        json={"pain_next_morning": 1},
        headers={**headers, "If-Match": '"1"'},
    )
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.at)).all()
    assert [(e.action, e.entity_type) for e in events] == [
        ("create", "exercise_log"),
        ("update", "exercise_log"),
    ]
    assert {str(e.entity_id) for e in events} == {created.json()["id"]}
    assert {e.actor_id for e in events} == {care.patient_user.id}
