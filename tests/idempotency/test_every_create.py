"""Every create honours Idempotency-Key: the OpenAPI document says so for each 201 route (so a
new one cannot forget it), and a representative handful proves it through HTTP. The home-log
route's own cases (expiry, refused requests, malformed keys): tests/logs/test_idempotency.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.clinics.models import Clinic
from app.core.types import Role
from app.idempotency.models import IdempotencyKey
from app.observations.models import Observation
from app.patients.models import Patient
from app.plans.models import Plan
from app.sessions.models import TreatmentSession
from app.users.models import User
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_full_assessment,
    make_patient,
    make_user,
)
from tests.sessions.builders import make_care

AT = (datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)).isoformat()
Headers = dict[str, str]


def test_every_create_declares_idempotency_key_and_its_refusals(app: Any) -> None:
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    creates = [
        (path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "post" and "201" in operation["responses"]
    ]
    assert len(creates) >= 15
    for path, operation in creates:
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        assert "idempotency-key" in headers, f"POST {path} does not declare Idempotency-Key"
        responses = operation["responses"]
        assert "Idempotency-Key" in responses["409"]["description"], path
        assert "Retry-After" in responses["409"]["headers"], path
        assert "Idempotency-Key" in responses["422"]["description"], path


@dataclass(frozen=True)
class Create:
    """One create route, set up for an actor and a colleague of the same clinic."""

    url: str
    body: dict[str, Any]
    changed: dict[str, Any]  # the same route, another valid body
    model: type[Any]  # the table a create adds `rows` rows to
    rows: int
    actor: Headers
    colleague: Headers


def _patients(session: Session) -> Create:
    clinician = make_user(session)
    _, secret = make_api_key(session, clinic=_clinic(session, clinician))
    body = {"display_name": "Ada Byron", "date_of_birth": "1990-05-17"}
    return Create(
        "/api/v1/patients",
        body,
        {**body, "external_id": "MRN-2"},
        Patient,
        1,
        auth_headers(clinician),
        key_headers(secret),  # an integration key is an actor of its own
    )


def _observation_batch(session: Session) -> Create:
    clinician = make_user(session)
    clinic = _clinic(session, clinician)
    patient = make_patient(session, clinic=clinic)
    items = [
        {"measure_code": "pain_nrs", "value": 3, "observed_at": AT},
        {"measure_code": "single_leg_hop", "value": 142, "side": "left", "observed_at": AT},
    ]
    return Create(
        f"/api/v1/patients/{patient.id}/observations/batch",
        {"observations": items},
        {"observations": [{**items[0], "value": 4}, items[1]]},
        Observation,
        2,
        auth_headers(clinician),
        auth_headers(make_user(session, clinic=clinic)),
    )


def _plans(session: Session) -> Create:
    assessment = make_full_assessment(session, finalized=True)
    clinic = session.get_one(Clinic, assessment.clinic_id)
    body = {"assessment_id": str(assessment.id)}
    return Create(
        "/api/v1/plans",
        body,
        {**body, "title": "Knee: return to running"},
        Plan,
        1,
        auth_headers(make_user(session, clinic=clinic)),
        auth_headers(make_user(session, clinic=clinic, role=Role.admin)),
    )


def _sessions(session: Session) -> Create:
    care = make_care(session)
    body = {"occurred_at": AT, "pain_before": 4, "notes": "Tolerated loading well."}
    return Create(
        f"/api/v1/plans/{care.plan.id}/sessions",
        body,
        {**body, "pain_before": 5},
        TreatmentSession,
        1,
        auth_headers(care.clinician),
        auth_headers(make_user(session, clinic=care.clinic)),
    )


def _users(session: Session) -> Create:
    admin = make_user(session, role=Role.admin)
    colleague = make_user(session, clinic=_clinic(session, admin), role=Role.admin)
    body = {"email": f"{uuid.uuid4().hex[:8]}@example.org", "password": "a long passphrase"}
    return Create(
        "/api/v1/users",
        {**body, "role": "clinician"},
        {**body, "role": "clinician", "email": f"{uuid.uuid4().hex[:8]}@example.org"},
        User,
        1,
        auth_headers(admin),
        auth_headers(colleague),
    )


CASES: dict[str, Callable[[Session], Create]] = {
    "patients": _patients,
    "observations batch": _observation_batch,
    "plans": _plans,
    "sessions": _sessions,
    "users": _users,
}


def _clinic(session: Session, user: User) -> Clinic:
    return session.get_one(Clinic, user.clinic_id)


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _with_key(headers: Headers, key: str) -> Headers:
    return {**headers, "Idempotency-Key": key}


@pytest.fixture(params=list(CASES))
def create(request: pytest.FixtureRequest, session: Session) -> Create:
    return CASES[request.param](session)


def test_the_same_key_and_body_replays_the_first_answer_and_writes_once(
    client: TestClient, session: Session, create: Create
) -> None:
    before = _count(session, create.model)
    headers = _with_key(create.actor, str(uuid.uuid4()))
    first = client.post(create.url, json=create.body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(create.url, json=create.body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers.get("etag") == first.headers.get("etag")
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _count(session, create.model) == before + create.rows


def test_the_same_key_with_another_body_is_422_and_writes_nothing(
    client: TestClient, session: Session, create: Create
) -> None:
    headers = _with_key(create.actor, "reused")
    assert client.post(create.url, json=create.body, headers=headers).status_code == 201
    before = _count(session, create.model)
    changed = client.post(create.url, json=create.changed, headers=headers)
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert _count(session, create.model) == before


def test_another_actor_of_the_clinic_uses_the_same_key_independently(
    client: TestClient, session: Session, create: Create
) -> None:
    before = _count(session, create.model)
    first = client.post(create.url, json=create.body, headers=_with_key(create.actor, "k"))
    assert first.status_code == 201, first.text
    # Had the key been shared, another body under it would be a 422.
    other = client.post(create.url, json=create.changed, headers=_with_key(create.colleague, "k"))
    assert other.status_code == 201, other.text
    assert "idempotent-replayed" not in other.headers
    assert other.json() != first.json()
    assert _count(session, create.model) == before + 2 * create.rows
    assert _count(session, IdempotencyKey) == 2


def test_a_key_never_answers_across_clinics(
    client: TestClient, session: Session, create: Create
) -> None:
    first = client.post(create.url, json=create.body, headers=_with_key(create.actor, "k"))
    assert first.status_code == 201, first.text
    stranger = auth_headers(make_user(session, role=Role.admin))
    answer = client.post(create.url, json=create.body, headers=_with_key(stranger, "k"))
    # Never the first answer: another clinic's parent is a 404, a top-level create is the
    # stranger's own (or refused on its own terms, as a globally taken email is).
    assert "idempotent-replayed" not in answer.headers
    assert answer.status_code in {201, 404, 409}, answer.text
    if answer.status_code == 201:
        assert answer.json()["id"] != first.json()["id"]
        assert answer.json().get("clinic_id") != first.json().get("clinic_id")


def test_an_api_key_replay_answers_without_the_secret_which_is_never_stored(
    client: TestClient, session: Session
) -> None:
    headers = _with_key(auth_headers(make_user(session, role=Role.admin)), "issue-1")
    first = client.post("/api/v1/api-keys", json={"name": "nightly export"}, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["secret"]
    assert secret.startswith("rk_")
    again = client.post("/api/v1/api-keys", json={"name": "nightly export"}, headers=headers)
    assert again.status_code == 201
    assert again.json() == {**first.json(), "secret": None}
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "no-store"
    assert _count(session, ApiKey) == 1
    stored = session.scalars(select(IdempotencyKey)).one()
    assert secret not in json.dumps(stored.response_body)
