"""Every route that takes an id, called by everyone who must not reach the record.

The routes come from the app's own OpenAPI document, so a new route cannot be forgotten: a path
parameter the world below does not provide fails the test. Each is called as an admin of another
clinic, as an integration key of another clinic, as a patient of the same clinic who does not
own the record, and without credentials. The answer must be 404, 403 or 401, and the owner's
clinic must be exactly as it was: no row added, changed or removed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.types import Role, Side
from app.measures.models import Measure, MeasureCategory
from app.models import Base
from app.observations.models import Observation, ObservationSource
from app.plans.models import Criterion, Stage
from app.rules.criteria import Better
from app.sessions.models import TreatmentSession
from tests.builders import (
    auth_headers,
    key_headers,
    make_api_key,
    make_clinic,
    make_exercise,
    make_exercise_log,
    make_patient,
    make_prescription,
    make_user,
)
from tests.plans.plan_builders import make_plan

METHODS = ("get", "post", "put", "patch", "delete")
REFUSED = {401, 403, 404}
# The clinic's own catalog entries are meant for every user of the clinic, patients included:
# a patient may read them (and change nothing).
CLINIC_WIDE_READS = {"/api/v1/exercises/{exercise_id}", "/api/v1/measures/{measure_id}"}
PATIENT = "patient who does not own it"


@dataclass
class World:
    ids: dict[str, uuid.UUID]
    clinic_id: uuid.UUID
    owner: dict[str, str]
    callers: dict[str, dict[str, str]]


def _own_measure(session: Session, clinic_id: uuid.UUID) -> Measure:
    measure = Measure(
        clinic_id=clinic_id,
        code=f"grip_{uuid.uuid4().hex[:6]}",
        name="Grip strength",
        category=MeasureCategory.strength,
        unit="kg",
        min_value=0,
        max_value=150,
        better=Better.higher,
        mcid=5,
    )
    session.add(measure)
    session.flush()
    return measure


def _session_of(session: Session, plan: Any, clinician: Any) -> TreatmentSession:
    visit = TreatmentSession(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        clinician_id=clinician.id,
        number=1,
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        adjuncts=[],
    )
    session.add(visit)
    session.flush()
    return visit


@pytest.fixture
def world(session: Session) -> World:
    clinic = make_clinic(session)
    admin = make_user(session, clinic=clinic, role=Role.admin)
    clinician = make_user(session, clinic=clinic, role=Role.clinician)
    patient = make_patient(session, clinic=clinic)
    make_user(session, clinic=clinic, role=Role.patient, patient=patient)
    plan = make_plan(session, patient=patient, clinician=clinician, active=True)
    stage = session.scalars(select(Stage).where(Stage.plan_id == plan.id)).first()
    criterion = session.scalars(select(Criterion).where(Criterion.plan_id == plan.id)).first()
    assert stage is not None
    assert criterion is not None
    prescription = make_prescription(session, plan=plan)
    log = make_exercise_log(session, prescription, 8, 8, 8)
    visit = _session_of(session, plan, clinician)
    measure = _own_measure(session, clinic.id)
    observation = Observation(
        clinic_id=clinic.id,
        patient_id=patient.id,
        measure_id=measure.id,
        value=30,
        recorded_value=30,
        recorded_unit="kg",
        side=Side.left,
        observed_at=datetime(2026, 11, 21, tzinfo=UTC),
        source=ObservationSource.clinician,
        recorded_by_type="user",
        recorded_by_id=clinician.id,
    )
    session.add(observation)
    key, _secret = make_api_key(session, clinic=clinic, created_by=admin)
    exercise = make_exercise(session, clinic=clinic)
    session.flush()
    stranger_clinic = make_clinic(session)
    _key, stranger_secret = make_api_key(session, clinic=stranger_clinic)
    other_patient_user = make_user(session, clinic=clinic, role=Role.patient)
    ids = {
        "patient_id": patient.id,
        "assessment_id": plan.assessment_id,
        "plan_id": plan.id,
        "stage_id": stage.id,
        "criterion_id": criterion.id,
        "prescription_id": prescription.id,
        "log_id": log.id,
        "session_id": visit.id,
        "observation_id": observation.id,
        "measure_id": measure.id,
        "exercise_id": exercise.id,
        "user_id": clinician.id,
        "api_key_id": key.id,
    }
    callers = {
        "admin of another clinic": auth_headers(
            make_user(session, clinic=stranger_clinic, role=Role.admin)
        ),
        "integration key of another clinic": key_headers(stranger_secret),
        PATIENT: auth_headers(other_patient_user),
        "no credentials": {},
    }
    return World(ids, clinic.id, auth_headers(admin), callers)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    document = client.get("/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS and "{" in path
    )


def _url(path: str, ids: dict[str, uuid.UUID]) -> str:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    missing = [name for name in names if name not in ids]
    assert not missing, f"{path}: the matrix has no record for {missing}; add one to `world`"
    for name in names:
        path = path.replace("{" + name + "}", str(ids[name]))
    return path


def _clinic_rows(session: Session, clinic_id: uuid.UUID) -> dict[str, int | None]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        if "clinic_id" in table.c:
            counts[table.name] = session.scalar(
                select(func.count()).select_from(table).where(table.c.clinic_id == clinic_id)
            )
    return counts


def _owner_view(client: TestClient, world: World, routes: list[tuple[str, str]]) -> dict[str, Any]:
    views = {}
    for method, path in routes:
        if method == "GET":
            response = client.get(_url(path, world.ids), headers=world.owner)
            views[path] = (response.status_code, response.headers.get("etag"))
    return views


def test_every_id_route_refuses_everyone_but_the_owner(
    client: TestClient, session: Session, world: World
) -> None:
    routes = _routes(client)
    assert len(routes) >= 40
    before_rows = _clinic_rows(session, world.clinic_id)
    before_view = _owner_view(client, world, routes)
    answers: dict[str, set[int]] = {}
    for method, path in routes:
        url = _url(path, world.ids)
        for caller, headers in world.callers.items():
            response = client.request(
                method,
                url,
                json={} if method in {"POST", "PATCH", "PUT"} else None,
                headers={**headers, "If-Match": '"1"'},
            )
            where = f"{method} {path} as {caller}"
            if caller == PATIENT and method == "GET" and path in CLINIC_WIDE_READS:
                assert response.status_code == 200, where
                continue
            assert response.status_code in REFUSED, (
                f"{where}: {response.status_code} {response.text}"
            )
            assert response.headers["content-type"] == "application/problem+json", where
            if caller == "no credentials":
                assert response.status_code == 401, where
            answers.setdefault(caller, set()).add(response.status_code)
            if method != "GET":
                bare = client.request(method, url, json=None, headers=headers)
                assert bare.status_code in REFUSED, f"{where}, no If-Match or body: {bare.text}"
    assert answers["admin of another clinic"] == {404}
    session.expire_all()
    assert _clinic_rows(session, world.clinic_id) == before_rows
    assert _owner_view(client, world, routes) == before_view
    matrix = len(routes) * len(world.callers)
    assert matrix >= 160, matrix
