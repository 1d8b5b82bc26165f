"""What the prescription tests share: an active plan with a clinician, and its URLs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role
from app.exercises.models import Exercise
from app.patients.models import Patient
from app.plans.models import Plan, PlanDriver, Stage
from app.users.models import User
from tests.builders import auth_headers, make_exercise, make_patient, make_user
from tests.plans.plan_builders import make_plan

API = "/api/v1"


@dataclass
class Setup:
    clinician: User
    plan: Plan
    stage_id: uuid.UUID
    driver_id: uuid.UUID
    exercise: Exercise

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.clinician)

    @property
    def prescriptions_url(self) -> str:
        return f"{API}/plans/{self.plan.id}/stages/{self.stage_id}/prescriptions"

    def payload(self, **fields: Any) -> dict[str, Any]:
        """Split squat 3 x 8 at 40 kg, for the plan's driver."""
        body: dict[str, Any] = {
            "exercise_id": str(self.exercise.id),
            "driver_id": str(self.driver_id),
            "sets": 3,
            "reps": 8,
            "load_unit": "kg",
            "load_value": 40,
            "sessions_per_week": 3,
        }
        return {k: v for k, v in {**body, **fields}.items() if v is not None}


def setup(session: Session, *, started_days_ago: int = 0, **plan_fields: Any) -> Setup:
    """A clinician and their patient's active plan, started `started_days_ago` days ago."""
    clinician = make_user(session)
    clinic = session.get_one(Clinic, clinician.clinic_id)
    patient = make_patient(session, clinic=clinic)
    plan = make_plan(session, clinician=clinician, patient=patient, active=True, **plan_fields)
    plan.activated_at = datetime.now(UTC) - timedelta(days=started_days_ago)
    session.flush()
    stage_id = session.scalars(
        select(Stage.id).where(Stage.plan_id == plan.id).order_by(Stage.position)
    ).first()
    driver_id = session.scalars(
        select(PlanDriver.driver_id).where(PlanDriver.plan_id == plan.id)
    ).first()
    assert stage_id is not None
    assert driver_id is not None
    return Setup(clinician, plan, stage_id, driver_id, make_exercise(session))


def patient_user(session: Session, plan: Plan) -> User:
    clinic = session.get_one(Clinic, plan.clinic_id)
    return make_user(
        session, clinic=clinic, role=Role.patient, patient=session.get_one(Patient, plan.patient_id)
    )


def if_match(headers: dict[str, str], version: int | str) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


def prescription_url(prescription_id: uuid.UUID | str, action: str = "") -> str:
    return f"{API}/prescriptions/{prescription_id}" + (f"/{action}" if action else "")
