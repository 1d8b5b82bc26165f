"""Idempotency-Key on POST /prescriptions/{prescription_id}/logs, through HTTP. Concurrent
retries against real server processes: tests/idempotency/test_concurrency.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.idempotency.models import IdempotencyKey
from app.prescriptions.models import ExerciseLog, Prescription, PrescriptionStatus
from tests.builders import auth_headers
from tests.sessions.builders import make_care, prescribe

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
BODY = {"performed_on": YESTERDAY, "sets": [{"reps": 10, "load_value": 20}], "pain_during": 2}


def _url(prescription_id: uuid.UUID) -> str:
    return f"/api/v1/prescriptions/{prescription_id}/logs"


def _count(session: Session, model: type[Any] = ExerciseLog) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = {**auth_headers(care.patient_user), "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(_url(prescription.id), json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    # The same JSON written differently is the same request.
    again = client.post(
        _url(prescription.id),
        json={
            "pain_during": 2,
            "sets": [{"load_value": 20.0, "reps": 10}],
            "performed_on": YESTERDAY,
        },
        headers=headers,
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(session) == 1
    assert _count(session, AuditEvent) == 1
    assert _count(session, IdempotencyKey) == 1


def test_the_same_key_with_another_body_or_path_is_422(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    other = prescribe(session, care.plan)
    headers = {**auth_headers(care.patient_user), "Idempotency-Key": "retry-1"}
    assert client.post(_url(prescription.id), json=BODY, headers=headers).status_code == 201
    changed = client.post(_url(prescription.id), json={**BODY, "pain_during": 3}, headers=headers)
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["errors"][0]["parameter"] == "Idempotency-Key"
    elsewhere = client.post(_url(other.id), json=BODY, headers=headers)
    assert elsewhere.status_code == 422
    assert _count(session) == 1


def test_keys_belong_to_their_caller_and_no_key_means_no_replay(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    for user in (care.patient_user, care.clinician):
        headers = {**auth_headers(user), "Idempotency-Key": "same-key"}
        assert client.post(_url(prescription.id), json=BODY, headers=headers).status_code == 201
    plain = auth_headers(care.patient_user)
    for _ in range(2):
        assert client.post(_url(prescription.id), json=BODY, headers=plain).status_code == 201
    assert _count(session) == 4
    assert _count(session, IdempotencyKey) == 2


def test_a_refused_request_leaves_no_key_so_its_retry_runs_again(
    client: TestClient, session: Session
) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan, status=PrescriptionStatus.stopped)
    headers = {**auth_headers(care.patient_user), "Idempotency-Key": "after-409"}
    assert client.post(_url(prescription.id), json=BODY, headers=headers).status_code == 409
    assert _count(session, IdempotencyKey) == 0
    session.execute(
        update(Prescription)
        .where(Prescription.id == prescription.id)
        .values(status=PrescriptionStatus.active, stopped_at=None)
    )
    retried = client.post(_url(prescription.id), json=BODY, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert _count(session) == 1


def test_an_expired_key_starts_afresh(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = {**auth_headers(care.patient_user), "Idempotency-Key": "old-key"}
    first = client.post(_url(prescription.id), json=BODY, headers=headers)
    key = session.scalars(select(IdempotencyKey)).one()
    assert key.expires_at - key.created_at == timedelta(hours=24)
    key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    # After the retention a reused key is a new request, whatever its body.
    fresh = client.post(_url(prescription.id), json={**BODY, "pain_during": 4}, headers=headers)
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["id"] != first.json()["id"]
    assert _count(session) == 2
    assert _count(session, IdempotencyKey) == 1


def test_a_malformed_key_is_422(client: TestClient, session: Session) -> None:
    care = make_care(session)
    prescription = prescribe(session, care.plan)
    headers = {**auth_headers(care.patient_user), "Idempotency-Key": "k" * 256}
    response = client.post(_url(prescription.id), json=BODY, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "idempotency-key"
    assert _count(session) == 0
