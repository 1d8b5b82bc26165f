"""The demo clinic `rehab seed-demo` makes: logins for each role and a worked initial assessment
(patellofemoral pain on running), so the API can be tried at once. Later features add their
own demo records here. The passwords are published, so the command refuses production."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo_plan
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
from app.audit import service as audit_service
from app.auth.security import hash_password
from app.clinics import service as clinics_service
from app.clinics.schemas import ClinicCreate
from app.core.auth import Actor
from app.core.types import Role, Side
from app.patients import service as patients_service
from app.patients.models import Sex
from app.patients.schemas import PatientCreate
from app.plans.models import Plan
from app.users.models import User
from app.users.schemas import UserCreate

CLINIC_NAME = "Demo Physiotherapy"
AUDIT_DETAILS = {"via": "cli"}


@dataclass(frozen=True)
class Login:
    role: Role
    email: str
    password: str
    display_name: str


ADMIN = Login(Role.admin, "admin@demo.example.org", "demo-admin-password", "Dana Admin")
CLINICIAN = Login(
    Role.clinician, "clinician@demo.example.org", "demo-clinician-password", "Chris Clinician"
)
PATIENT = Login(Role.patient, "patient@demo.example.org", "demo-patient-password", "Pat Runner")
LOGINS = (ADMIN, CLINICIAN, PATIENT)


@dataclass(frozen=True)
class Demo:
    clinic_id: uuid.UUID
    patient_id: uuid.UUID | None
    assessment_id: uuid.UUID | None
    plan_id: uuid.UUID | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "clinic_id": str(self.clinic_id),
            "patient_id": str(self.patient_id) if self.patient_id else None,
            "assessment_id": str(self.assessment_id) if self.assessment_id else None,
            "plan_id": str(self.plan_id) if self.plan_id else None,
            "logins": [
                {"role": login.role.value, "email": login.email, "password": login.password}
                for login in LOGINS
            ],
        }


def hash_passwords() -> dict[Role, str]:
    """Done before the write transaction opens: argon2 is slow on purpose."""
    return {login.role: hash_password(login.password) for login in LOGINS}


def find(session: Session) -> Demo | None:
    """The demo clinic, when an earlier seed made it (found by its admin's email)."""
    clinic_id = session.scalar(select(User.clinic_id).where(User.email == ADMIN.email))
    if clinic_id is None:
        return None
    patient_id = session.scalar(select(User.patient_id).where(User.email == PATIENT.email))
    assessment_id = session.scalar(
        select(Assessment.id)
        .where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
        .order_by(Assessment.assessed_at)
        .limit(1)
    )
    plan_id = session.scalar(
        select(Plan.id).where(Plan.clinic_id == clinic_id, Plan.patient_id == patient_id).limit(1)
    )
    return Demo(clinic_id, patient_id, assessment_id, plan_id)


def create(session: Session, password_hashes: Mapping[Role, str], now: datetime) -> Demo:
    """Every demo record, in the caller's (write) transaction."""
    clinic_data = ClinicCreate(
        name=CLINIC_NAME,
        admin_email=ADMIN.email,
        admin_password=ADMIN.password,
        admin_display_name=ADMIN.display_name,
    )
    clinic, _admin = clinics_service.create(
        session, clinic_data, password_hashes[Role.admin], details=AUDIT_DETAILS
    )
    clinician = _add_login(session, clinic.id, CLINICIAN, password_hashes, None)
    actor = Actor(clinic_id=clinic.id, role=Role.clinician, user_id=clinician.id)
    patient = patients_service.create(session, actor, _patient_data())
    _add_login(session, clinic.id, PATIENT, password_hashes, patient.id)
    start = now - timedelta(weeks=demo_plan.WEEKS_AGO)
    assessment = _add_initial_assessment(session, actor, patient.id, start)
    plan = demo_plan.add(session, actor, patient, assessment.id, now)
    return Demo(clinic.id, patient.id, assessment.id, plan.id)


def _add_login(
    session: Session,
    clinic_id: uuid.UUID,
    login: Login,
    password_hashes: Mapping[Role, str],
    patient_id: uuid.UUID | None,
) -> User:
    data = UserCreate(
        email=login.email,
        password=login.password,
        role=login.role,
        display_name=login.display_name,
        patient_id=patient_id,
    )
    return clinics_service.add_user(
        session, clinic_id, data, password_hashes[login.role], details=AUDIT_DETAILS
    )


def _patient_data() -> PatientCreate:
    return PatientCreate(
        display_name=PATIENT.display_name,
        date_of_birth=date(1991, 4, 12),
        sex=Sex.female,
        external_id="DEMO-0001",
        email=PATIENT.email,
        notes="Recreational runner, 3 runs a week before symptoms; training for a 10 km race.",
    )


def _add_initial_assessment(
    session: Session, actor: Actor, patient_id: uuid.UUID, now: datetime
) -> Assessment:
    assessment = _initial_assessment(actor, patient_id, now)
    findings = _findings(actor.clinic_id)
    assessment.findings = list(findings.values())
    assessment.goals = _goals(actor.clinic_id)
    session.add(assessment)
    session.flush()
    session.add_all(_drivers(actor.clinic_id, assessment.id, findings))
    session.flush()
    audit_service.record(session, actor, "create", "assessment", assessment.id, AUDIT_DETAILS)
    audit_service.record(session, actor, "finalize", "assessment", assessment.id, AUDIT_DETAILS)
    return assessment


def _initial_assessment(actor: Actor, patient_id: uuid.UUID, now: datetime) -> Assessment:
    return Assessment(
        clinic_id=actor.clinic_id,
        patient_id=patient_id,
        clinician_id=actor.id,
        kind=AssessmentKind.initial,
        status=AssessmentStatus.final,
        assessed_at=now,
        finalized_at=now,
        presenting_complaint=(
            "Anterior right knee pain (patellofemoral) that starts after about 3 km of running "
            "and on descending stairs; settles within a day of rest."
        ),
        body_region="knee",
        onset=Onset.chronic,
        symptom_duration_days=120,
        pain_now=2,
        pain_worst=6,
        notes="No swelling, locking or giving way. Running volume doubled before onset.",
    )


def _goals(clinic_id: uuid.UUID) -> list[FunctionalGoal]:
    goals = [
        ("Run 10 km without pain above 2/10", "running distance", 10.0, "km"),
        ("Descend two flights of stairs without pain", None, None, None),
        ("Return to three runs a week", "runs per week", 3.0, "runs/week"),
    ]
    return [
        FunctionalGoal(
            clinic_id=clinic_id,
            position=position,
            statement=statement,
            target_measure=measure,
            target_value=value,
            target_unit=unit,
        )
        for position, (statement, measure, value, unit) in enumerate(goals)
    ]


# Findings that are catalog measures carry its code: they become the criteria's baselines.
MEASURE_CODES = {
    "squat_left": "single_leg_squat_reps",
    "squat_right": "single_leg_squat_reps",
    "strength_left": "quadriceps_strength_kg",
    "strength_right": "quadriceps_strength_kg",
}


def _findings(clinic_id: uuid.UUID) -> dict[str, Finding]:
    """The right knee is involved; the left is the comparison."""
    rows: list[tuple[str, str, Side, float | None, str | None, str | None]] = [
        ("squat_left", "Single-leg squat to 60° knee flexion", Side.left, 15, "reps", None),
        ("squat_right", "Single-leg squat to 60° knee flexion", Side.right, 8, "reps", None),
        ("strength_left", "Isometric knee extension (dynamometer)", Side.left, 32.0, "kg", None),
        ("strength_right", "Isometric knee extension (dynamometer)", Side.right, 24.5, "kg", None),
        ("squat_pain", "Pain during single-leg squat", Side.right, 4, "NRS 0-10", None),
        ("running_volume", "Running tolerated without pain", Side.none, 8, "km/week", None),
        (
            "step_down",
            "Lateral step-down, movement quality",
            Side.right,
            None,
            None,
            "Knee moves into valgus with contralateral pelvic drop from the 2nd repetition",
        ),
    ]
    return {
        key: Finding(
            clinic_id=clinic_id,
            position=position,
            name=name,
            side=side,
            value=value,
            unit=unit,
            result=result,
            measure_code=MEASURE_CODES.get(key),
        )
        for position, (key, name, side, value, unit, result) in enumerate(rows)
    }


def _drivers(
    clinic_id: uuid.UUID, assessment_id: uuid.UUID, findings: Mapping[str, Finding]
) -> list[Driver]:
    drivers = [
        (
            DriverKind.capacity_deficit,
            "Right quadriceps strength and endurance deficit: knee extension 24.5 vs 32 kg "
            "(LSI 77 %), single-leg squat 8 vs 15 reps.",
            ["squat_left", "squat_right", "strength_left", "strength_right", "step_down"],
        ),
        (
            DriverKind.load_tolerance_gap,
            "The knee tolerates about 8 km a week; the goal needs 10 km in one run. Volume was "
            "doubled before onset, faster than the tissue could adapt.",
            ["running_volume", "squat_pain"],
        ),
    ]
    return [
        Driver(
            clinic_id=clinic_id,
            assessment_id=assessment_id,
            position=position,
            kind=kind,
            description=description,
            priority=position + 1,
            finding_links=[
                DriverFinding(clinic_id=clinic_id, finding_id=findings[key].id) for key in keys
            ],
        )
        for position, (kind, description, keys) in enumerate(drivers)
    ]
