"""Active plans and prescriptions built straight with the ORM, for the session, log,
adherence and idempotency tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Driver
from app.clinics.models import Clinic
from app.core.types import Role, Side
from app.exercises.models import Exercise, ExerciseCategory
from app.patients.models import Patient
from app.plans.models import Plan, PlanDriver, PlanStatus, Stage
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.rules.progression import Body, Dosing, LoadUnit
from app.users.models import User
from tests.builders import make_clinic, make_full_assessment, make_patient, make_user


@dataclass(frozen=True)
class Care:
    """A clinic's clinician, a patient with a login, and the patient's active plan."""

    clinic: Clinic
    clinician: User
    patient: Patient
    patient_user: User
    plan: Plan


def make_active_plan(
    session: Session,
    *,
    clinician: User,
    patient: Patient,
    status: PlanStatus = PlanStatus.active,
    activated_on: date | None = None,
) -> Plan:
    """A plan on its one stage, targeting the assessment's driver, activated on the day."""
    assessment = make_full_assessment(session, patient=patient, clinician=clinician, finalized=True)
    activated_on = activated_on or datetime.now(UTC).date()
    plan = Plan(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        assessment_id=assessment.id,
        clinician_id=clinician.id,
        title="Knee: load tolerance",
        status=status,
        activated_at=datetime.combine(activated_on, datetime.min.time(), UTC) + timedelta(hours=9)
        if status is not PlanStatus.draft
        else None,
    )
    session.add(plan)
    session.flush()
    stage = Stage(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        position=0,
        name="Settle and load",
        goal="Tolerate loading",
        expected_weeks=4,
        started_on=activated_on,
    )
    session.add(stage)
    driver_id = session.scalars(select(Driver.id).where(Driver.assessment_id == assessment.id))
    session.add(PlanDriver(clinic_id=plan.clinic_id, plan_id=plan.id, driver_id=driver_id.one()))
    session.flush()
    plan.current_stage_id = stage.id
    session.flush()
    return plan


def make_care(session: Session, **plan_fields: Any) -> Care:
    clinic = make_clinic(session)
    clinician = make_user(session, clinic=clinic, role=Role.clinician)
    patient = make_patient(session, clinic=clinic)
    patient_user = make_user(session, clinic=clinic, role=Role.patient, patient=patient)
    plan = make_active_plan(session, clinician=clinician, patient=patient, **plan_fields)
    return Care(clinic, clinician, patient, patient_user, plan)


def prescribe(
    session: Session,
    plan: Plan,
    *,
    versions: Sequence[tuple[date, int]] = (),
    status: PrescriptionStatus = PrescriptionStatus.active,
) -> Prescription:
    """A prescription of a clinic exercise, 3 x 10 at 20 kg; `versions` are
    (effective_on, sessions_per_week), numbered 1, 2 ... (default: one, from today, 3 a week)."""
    exercise = Exercise(
        clinic_id=plan.clinic_id,
        name=f"Split squat {uuid.uuid4().hex[:8]}",
        description="Split squat with dumbbells.",
        body_region="knee",
        body=Body.lower_body,
        category=ExerciseCategory.strength,
        dosing=Dosing.reps,
    )
    session.add(exercise)
    session.flush()
    driver_id = session.scalars(select(PlanDriver.driver_id).where(PlanDriver.plan_id == plan.id))
    assert plan.current_stage_id is not None
    prescription = Prescription(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=plan.current_stage_id,
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=driver_id.first(),
        status=status,
        stopped_at=datetime.now(UTC) if status is PrescriptionStatus.stopped else None,
        versions=[
            _version(plan, number, effective_on, per_week)
            for number, (effective_on, per_week) in enumerate(
                versions or [(datetime.now(UTC).date(), 3)], start=1
            )
        ],
    )
    session.add(prescription)
    session.flush()
    return prescription


def _version(plan: Plan, number: int, effective_on: date, per_week: int) -> PrescriptionVersion:
    return PrescriptionVersion(
        clinic_id=plan.clinic_id,
        number=number,
        effective_on=effective_on,
        created_by_type="user",
        created_by_id=plan.clinician_id,
        reason="initial" if number == 1 else "progressed",
        sets=3,
        reps=10,
        load_unit=LoadUnit.kg,
        load_value=20.0,
        sessions_per_week=per_week,
        side=Side.none,
    )
