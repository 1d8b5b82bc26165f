"""Schemathesis against the app's own OpenAPI document: every operation, as a clinician.

Each operation is one test. Its examples share one seeded clinic (a patient, a draft and a
finalised assessment, a draft and an active plan with stages and criteria, a prescription with
a log, a session, an observation, the clinic's own measure and exercise, an API key), rolled
back afterwards like any test's writes. Most ids the generator makes, in the path, the query
and the body, are swapped for the seeded ones, so requests get past load-or-404 into
validation and the services; the rest stay random and must be a documented 404. The routes a
clinician may not use at all (users, API keys, audit events) are called as the clinic's admin.

Every answer must be no 5xx, a documented status code, content type and headers, and a body
that conforms to its schema; the same request without valid credentials must be a 401. The
seed is fixed and generation derandomized, so CI runs the same cases every time;
FUZZ_EXAMPLES raises the examples per operation (`make fuzz`).
"""

from __future__ import annotations

import json
import os
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Driver, Finding
from app.core.types import Role, Side
from app.main import create_app
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation, ObservationSource
from app.plans.models import Criterion, Plan, Stage
from app.rules.criteria import Better
from app.sessions.models import TreatmentSession
from app.users.models import User
from tests.builders import (
    auth_headers,
    make_api_key,
    make_clinic,
    make_exercise,
    make_exercise_log,
    make_full_assessment,
    make_patient,
    make_prescription,
    make_user,
)
from tests.plans.plan_builders import make_plan, measure_id

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SEED = 20261128
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    }
)
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.missing_required_header,
    checks.unsupported_method,
    # The request again without credentials, or with invalid ones: it must be a 401.
    checks.ignored_auth,
]
# A clinician may not touch these at all (403); the admin's token takes them past that.
ADMIN_ONLY = ("/api/v1/users", "/api/v1/api-keys", "/api/v1/audit-events")
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The app the schema was loaded from, so the suite's `client` overrides its session."""
    return APP


@dataclass
class World:
    """The seeded records, by the name of the parameter or field that takes their id."""

    ids: dict[str, list[str]]
    clinician: dict[str, str]
    admin: dict[str, str]

    def headers_for(self, case: Any) -> dict[str, str]:
        """The clinician's token; the admin's for what only an admin may do at all."""
        return self.admin if case.operation.path.startswith(ADMIN_ONLY) else self.clinician

    def pick(self, name: str, value: Any, salt: int) -> Any:
        """A seeded id in place of a generated UUID, seven times in eight, chosen by the value
        and the rest of the case; anything that is not a UUID is left as generated."""
        pool = self.ids.get(name)
        if not pool or not isinstance(value, str):
            return value
        try:
            uuid.UUID(value)
        except ValueError:
            return value
        choice = zlib.crc32(f"{value}|{salt}".encode())
        return pool[choice // 8 % len(pool)] if choice % 8 else value

    def aim(self, case: Any) -> None:
        # From the generated values only (not the body's NOT_SET sentinel and its address, nor
        # key order), so every run aims the same cases the same way.
        body = case.body if isinstance(case.body, dict | list | str | int | float) else None
        parts = [case.path_parameters, case.query, body]
        salt = zlib.crc32(json.dumps(parts, sort_keys=True, default=repr).encode())
        # New containers, never edits in place: cases may share them with later cases.
        if case.path_parameters:
            case.path_parameters = {
                name: self.pick(name, value, salt) for name, value in case.path_parameters.items()
            }
        if case.query:
            case.query = self._aim_json(case.query, salt)
        if isinstance(case.body, dict | list):
            case.body = self._aim_json(case.body, salt)
        if any(p.name.lower() == "if-match" for p in case.operation.headers):
            # The seeded records are at versions 1 to 3; one case in eight keeps what was
            # generated (or its absence).
            generated = case.headers.get("if-match") if case.headers else None
            choice = zlib.crc32(f"{generated}|{salt}".encode())
            if choice % 8:
                case.headers = {**(case.headers or {}), "if-match": f'"{1 + choice // 8 % 3}"'}

    def _aim_json(self, value: Any, salt: int, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self._aim_json(v, salt, k) for k, v in value.items()}
        if isinstance(value, list):
            single = key.removesuffix("s") if key.endswith("_ids") else key
            return [self._aim_json(v, salt + i, single) for i, v in enumerate(value)]
        return self.pick(key, value, salt)


def _visit_and_observation(
    session: Session, plan: Plan, clinician: User
) -> tuple[TreatmentSession, Measure, Observation]:
    """A treatment session of the plan, and an observation of the clinic's own measure."""
    visit = TreatmentSession(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        clinician_id=clinician.id,
        number=1,
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        adjuncts=[],
    )
    measure = Measure(
        clinic_id=plan.clinic_id,
        code="grip",
        name="Grip strength",
        category=MeasureCategory.strength,
        unit="kg",
        min_value=0,
        max_value=150,
        better=Better.higher,
    )
    session.add_all([visit, measure])
    session.flush()
    observation = Observation(
        clinic_id=plan.clinic_id,
        patient_id=plan.patient_id,
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
    session.flush()
    return visit, measure, observation


@pytest.fixture
def world(session: Session) -> World:
    clinic = make_clinic(session)
    clinician = make_user(session, clinic=clinic, role=Role.clinician)
    admin = make_user(session, clinic=clinic, role=Role.admin)
    patient = make_patient(session, clinic=clinic)
    active = make_plan(session, patient=patient, clinician=clinician, active=True)
    draft = make_plan(session, patient=patient, clinician=clinician)
    open_assessment = make_full_assessment(session, patient=patient, clinician=clinician)
    plans = [active.id, draft.id]
    assessments = [active.assessment_id, draft.assessment_id, open_assessment.id]
    prescription = make_prescription(session, plan=active)
    log = make_exercise_log(session, prescription, 8, 8, 8)
    visit, measure, observation = _visit_and_observation(session, active, clinician)
    key, _secret = make_api_key(session, clinic=clinic, created_by=admin)

    def ordered(model: Any, parent: Any, parents: list[Any], *order: Any) -> list[Any]:
        # The ids are random: a stable order keeps the cases each run makes the same.
        by_parent = (select(model.id).where(parent == p).order_by(*order) for p in parents)
        return [row for statement in by_parent for row in session.scalars(statement)]

    ids = {
        "patient_id": [patient.id],
        "assessment_id": assessments,
        "plan_id": plans,
        "stage_id": ordered(Stage, Stage.plan_id, plans, Stage.position),
        "criterion_id": ordered(
            Criterion, Criterion.plan_id, plans, Criterion.kind, Criterion.statement
        ),
        "driver_id": ordered(Driver, Driver.assessment_id, assessments, Driver.position),
        "finding_id": ordered(Finding, Finding.assessment_id, assessments, Finding.position),
        "prescription_id": [prescription.id],
        "log_id": [log.id],
        "session_id": [visit.id],
        "observation_id": [observation.id],
        "measure_id": [measure.id, measure_id(session, "pain_nrs")],
        "exercise_id": [make_exercise(session, clinic=clinic).id],
        "user_id": [clinician.id],
        "clinician_id": [clinician.id],
        "api_key_id": [key.id],
        "entity_id": [patient.id, active.id],
    }
    as_text = {name: [str(value) for value in values] for name, values in ids.items()}
    return World(as_text, auth_headers(clinician), auth_headers(admin))


@pytest.mark.usefixtures("client")
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_operation_as_a_clinician(case: Any, session: Session, world: World) -> None:
    world.aim(case)
    # What the suite's client does before each request: the seed committed into the test's
    # outer transaction, and nothing left in the session for a lazy load to find.
    session.commit()
    session.expunge_all()
    case.call_and_validate(headers=world.headers_for(case), checks=CHECKS)
