"""Typed builders that create what a test needs, parents included. No factory framework."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api_keys.models import ApiKey
from app.assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    Driver,
    DriverFinding,
    DriverKind,
    Finding,
    FunctionalGoal,
    Onset,
)
from app.auth.security import hash_api_key, hash_password, issue_token, new_api_key_secret
from app.clinics.models import Clinic
from app.core.config import get_settings
from app.core.types import Role, Side
from app.exercises.models import Exercise, ExerciseCategory
from app.patients.models import Patient
from app.plans.models import Plan, PlanDriver, Stage
from app.prescriptions.models import (
    ExerciseLog,
    LogSource,
    Prescription,
    PrescriptionVersion,
)
from app.rules.progression import Body, Dosing, LoadUnit
from app.users.models import User

PASSWORD = "correct horse battery staple"
# Hashing is deliberately slow, so every built user shares one precomputed hash.
_PASSWORD_HASH = hash_password(PASSWORD)


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def make_clinic(session: Session, **overrides: Any) -> Clinic:
    clinic = Clinic(**{"name": f"Clinic {_unique()}", **overrides})
    session.add(clinic)
    session.flush()
    return clinic


def make_patient(session: Session, *, clinic: Clinic | None = None, **overrides: Any) -> Patient:
    clinic = clinic or make_clinic(session)
    fields: dict[str, Any] = {
        "display_name": f"Patient {_unique()}",
        "date_of_birth": date(1990, 5, 17),
        "external_id": f"MRN-{_unique()}",
    }
    patient = Patient(clinic_id=clinic.id, **{**fields, **overrides})
    session.add(patient)
    session.flush()
    return patient


def make_user(
    session: Session,
    *,
    clinic: Clinic | None = None,
    role: Role = Role.clinician,
    patient: Patient | None = None,
    **overrides: Any,
) -> User:
    clinic = clinic or make_clinic(session)
    if role is Role.patient and patient is None:
        patient = make_patient(session, clinic=clinic)
    fields: dict[str, Any] = {
        "email": f"{role}-{_unique()}@example.org",
        "password_hash": _PASSWORD_HASH,
        "role": role,
        "display_name": f"{role.title()} {_unique()}",
        "patient_id": patient.id if patient else None,
    }
    user = User(clinic_id=clinic.id, **{**fields, **overrides})
    session.add(user)
    session.flush()
    return user


def make_api_key(
    session: Session, *, clinic: Clinic | None = None, created_by: User | None = None
) -> tuple[ApiKey, str]:
    clinic = clinic or make_clinic(session)
    created_by = created_by or make_user(session, clinic=clinic, role=Role.admin)
    secret = new_api_key_secret()
    key = ApiKey(
        clinic_id=clinic.id,
        name=f"script {_unique()}",
        prefix=secret[:11],
        secret_hash=hash_api_key(secret),
        created_by_id=created_by.id,
    )
    session.add(key)
    session.flush()
    return key, secret


def make_assessment(
    session: Session,
    *,
    patient: Patient | None = None,
    clinician: User | None = None,
    finalized: bool = False,
    **overrides: Any,
) -> Assessment:
    patient = patient or make_patient(session)
    clinic_id = patient.clinic_id
    if clinician is None:
        clinic = session.get_one(Clinic, clinic_id)
        clinician = make_user(session, clinic=clinic, role=Role.clinician)
    fields: dict[str, Any] = {
        "kind": AssessmentKind.initial,
        "assessed_at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        "presenting_complaint": "Anterior knee pain on stairs and running",
        "body_region": "knee",
        "onset": Onset.chronic,
        "symptom_duration_days": 120,
        "pain_now": 3,
        "pain_worst": 6,
    }
    finding = Finding(
        id=uuid.uuid4(),
        clinic_id=clinic_id,
        position=0,
        name="Single-leg squat repetitions",
        side=Side.left,
        value=8,
        unit="reps",
    )
    driver = Driver(
        clinic_id=clinic_id,
        position=0,
        kind=DriverKind.capacity_deficit,
        description="Quadriceps strength deficit on the left",
        priority=1,
        finding_links=[DriverFinding(clinic_id=clinic_id, finding_id=finding.id)],
    )
    goal = FunctionalGoal(clinic_id=clinic_id, position=0, statement="Run 10 km without pain")
    if finalized:
        fields |= {"status": AssessmentStatus.final, "finalized_at": datetime.now(UTC)}
    assessment = Assessment(
        clinic_id=clinic_id,
        patient_id=patient.id,
        clinician_id=clinician.id,
        findings=[finding],
        goals=[goal],
        drivers=[driver],
        **{**fields, **overrides},
    )
    session.add(assessment)
    session.flush()
    return assessment


def auth_headers(user: User) -> dict[str, str]:
    token, _ = issue_token(get_settings(), user.id, user.clinic_id)
    return {"Authorization": f"Bearer {token}"}


def key_headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def make_full_assessment(
    session: Session,
    *,
    patient: Patient | None = None,
    clinician: User | None = None,
    finalized: bool = False,
    **overrides: Any,
) -> Assessment:
    """An assessment with one goal, one finding and one driver citing it.

    Like make_assessment, but the patient defaults to the clinician's clinic, and every child
    collection starts set, so that adding the driver after the first flush needs no
    (lazy="raise") load.
    """
    if patient is None:
        clinic = session.get_one(Clinic, clinician.clinic_id) if clinician else None
        patient = make_patient(session, clinic=clinic)
    clinic_id = patient.clinic_id
    if clinician is None:
        clinician = make_user(session, clinic=session.get_one(Clinic, clinic_id))
    fields: dict[str, Any] = {
        "kind": AssessmentKind.initial,
        "assessed_at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        "presenting_complaint": "Anterior knee pain on stairs and running",
        "body_region": "knee",
        "onset": Onset.chronic,
        "symptom_duration_days": 120,
        "pain_now": 3,
        "pain_worst": 6,
    }
    if finalized:  # set before the first flush, so the assessment stays at version 1
        fields |= {"status": AssessmentStatus.final, "finalized_at": datetime.now(UTC)}
    finding = Finding(
        clinic_id=clinic_id,
        position=0,
        name="Single-leg squat repetitions",
        side=Side.left,
        value=8,
        unit="reps",
    )
    goal = FunctionalGoal(clinic_id=clinic_id, position=0, statement="Run 10 km without pain")
    assessment = Assessment(
        clinic_id=clinic_id,
        patient_id=patient.id,
        clinician_id=clinician.id,
        goals=[goal],
        findings=[finding],
        drivers=[],
        **{**fields, **overrides},
    )
    session.add(assessment)
    session.flush()  # the finding's row exists before the driver's link cites it
    driver = Driver(
        clinic_id=clinic_id,
        position=0,
        kind=DriverKind.capacity_deficit,
        description="Quadriceps strength deficit on the left",
        priority=1,
        finding_links=[DriverFinding(clinic_id=clinic_id, finding_id=finding.id)],
    )
    assessment.drivers = [driver]
    session.flush()
    return assessment


# Exercises, prescriptions and their logs. Imported here, below the earlier builders, so this
# block could be appended without touching the top of the file.


def make_exercise(session: Session, *, clinic: Clinic | None = None, **overrides: Any) -> Exercise:
    """A library exercise: shipped (no clinic) unless a clinic is given."""
    fields: dict[str, Any] = {
        "name": f"Split squat {_unique()}",
        "description": "Rear-foot-elevated split squat with dumbbells.",
        "body_region": "knee",
        "body": Body.lower_body,
        "category": ExerciseCategory.strength,
        "dosing": Dosing.reps,
        "equipment": "dumbbells",
    }
    exercise = Exercise(clinic_id=clinic.id if clinic else None, **{**fields, **overrides})
    session.add(exercise)
    session.flush()
    return exercise


def make_prescription(
    session: Session,
    *,
    plan: Plan,
    stage_id: uuid.UUID | None = None,
    driver_id: uuid.UUID | None = None,
    exercise: Exercise | None = None,
    effective_on: date | None = None,
    **parameters: Any,
) -> Prescription:
    """Version 1 of a prescription in the plan's first stage, for its first targeted driver;
    by default 3 x 8 at 40 kg, three times a week."""
    first_stage = select(Stage.id).where(Stage.plan_id == plan.id).order_by(Stage.position)
    stage_id = stage_id or session.scalars(first_stage).first()
    first_driver = select(PlanDriver.driver_id).where(PlanDriver.plan_id == plan.id)
    driver_id = driver_id or session.scalars(first_driver).first()
    exercise = exercise or make_exercise(session)
    fields: dict[str, Any] = {
        "sets": 3,
        "reps": 8,
        "load_unit": LoadUnit.kg,
        "load_value": 40.0,
        "sessions_per_week": 3,
        "side": Side.none,
    }
    version = PrescriptionVersion(
        clinic_id=plan.clinic_id,
        number=1,
        effective_on=effective_on or datetime.now(UTC).date(),
        created_by_type="user",
        created_by_id=plan.clinician_id,
        reason="initial prescription",
        **{**fields, **parameters},
    )
    prescription = Prescription(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=stage_id,
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=driver_id,
        versions=[version],
    )
    session.add(prescription)
    session.flush()
    return prescription


def make_exercise_log(
    session: Session,
    prescription: Prescription,
    *reps: int,
    performed_on: date | None = None,
    pain_during: int | None = 1,
    pain_before: int | None = 1,
    pain_next_morning: int | None = 1,
    source: LogSource = LogSource.home,
    version_number: int = 1,
    **overrides: Any,
) -> ExerciseLog:
    """A completed log of one set per `reps` value, at the prescribed load."""
    fields: dict[str, Any] = {
        "sets": [{"reps": r, "load_value": None, "rpe": None, "rir": None} for r in reps],
        "performed_on": performed_on or datetime.now(UTC).date(),
        "pain_during": pain_during,
        "pain_before": pain_before,
        "pain_next_morning": pain_next_morning,
        "source": source,
        "version_number": version_number,
        "recorded_by_type": "user",
        "recorded_by_id": uuid.uuid4(),
    }
    log = ExerciseLog(
        clinic_id=prescription.clinic_id,
        prescription_id=prescription.id,
        plan_id=prescription.plan_id,
        patient_id=prescription.patient_id,
        **{**fields, **overrides},
    )
    session.add(log)
    session.flush()
    return log
