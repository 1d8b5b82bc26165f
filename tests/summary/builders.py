"""A plan worth summarising, built straight with the ORM: two drivers with their findings,
two stages, discharge criteria with one met, one unmet and one unmeasured criterion among
them, and a home program of three prescriptions (kg-loaded, band, time-dosed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Driver, DriverFinding, DriverKind, Finding
from app.clinics.models import Clinic
from app.core.types import Role, Side
from app.exercises.models import Exercise, ExerciseCategory
from app.patients.models import Patient
from app.plans.models import Plan, Stage
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.rules.progression import Body, Dosing, LoadUnit
from app.users.models import User
from tests.builders import make_full_assessment, make_patient, make_user
from tests.plans.plan_builders import (
    HOP_LSI,
    PAIN_SETTLED,
    PSFS_8,
    SQUAT_REPS,
    CriterionSpec,
    make_observation,
    make_plan,
)

ASSESSED = datetime(2026, 11, 2, 9, tzinfo=UTC)  # make_full_assessment's assessed_at
STAGES = (
    ("Settle and load", "Calm the knee down and start loading it"),
    ("Build capacity", "Build strength in the left leg"),
    ("Return to running", "Hop and land as well on the left as on the right"),
)


@dataclass(frozen=True)
class Built:
    plan: Plan
    clinician: User
    patient_user: User


def at(days: float) -> datetime:
    return ASSESSED + timedelta(days=days)


def add_driver(
    session: Session,
    assessment: Assessment,
    kind: DriverKind,
    description: str,
    findings: Sequence[dict[str, Any]],
) -> Driver:
    """A driver of the assessment, with findings that support it."""
    made = [
        Finding(clinic_id=assessment.clinic_id, assessment_id=assessment.id, position=10 + i, **f)
        for i, f in enumerate(findings)
    ]
    session.add_all(made)
    session.flush()
    existing = select(func.count()).where(Driver.assessment_id == assessment.id)
    driver = Driver(
        clinic_id=assessment.clinic_id,
        assessment_id=assessment.id,
        position=session.scalar(existing),
        kind=kind,
        description=description,
        finding_links=[
            DriverFinding(clinic_id=assessment.clinic_id, finding_id=f.id) for f in made
        ],
    )
    session.add(driver)
    session.flush()
    return driver


def make_exercise(session: Session, clinic_id: uuid.UUID, name: str, **fields: Any) -> Exercise:
    defaults: dict[str, Any] = {
        "description": f"{name}, as shown in clinic.",
        "body_region": "knee",
        "body": Body.lower_body,
        "category": ExerciseCategory.strength,
        "dosing": Dosing.reps,
    }
    exercise = Exercise(clinic_id=clinic_id, name=name, **defaults)
    for key, value in fields.items():
        setattr(exercise, key, value)
    session.add(exercise)
    session.flush()
    return exercise


def prescribe(
    session: Session, plan: Plan, exercise: Exercise, versions: Sequence[dict[str, Any]]
) -> Prescription:
    """A prescription in the plan's first stage with these versions, oldest first."""
    stage_id = session.scalars(
        select(Stage.id).where(Stage.plan_id == plan.id).order_by(Stage.position)
    ).first()
    driver_id = session.scalars(
        select(Driver.id).where(Driver.assessment_id == plan.assessment_id)
    ).first()
    assert stage_id is not None
    assert driver_id is not None
    base: dict[str, Any] = {"sets": 3, "sessions_per_week": 3, "side": Side.none}
    prescription = Prescription(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=stage_id,
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=driver_id,
        versions=[
            PrescriptionVersion(
                clinic_id=plan.clinic_id,
                number=number,
                effective_on=date(2026, 11, 2) + timedelta(weeks=number - 1),
                created_by_type="user",
                created_by_id=plan.clinician_id,
                reason="initial prescription" if number == 1 else "progression",
                **{**base, **fields},
            )
            for number, fields in enumerate(versions, start=1)
        ],
    )
    session.add(prescription)
    session.flush()
    return prescription


def home_program(session: Session, plan: Plan) -> dict[str, Prescription]:
    """Split squat (40 then 45 kg), band walks (medium band), wall sit (30 s holds), and a
    stopped prescription that is no longer part of the program."""
    squat = make_exercise(session, plan.clinic_id, "Split squat", equipment="dumbbells")
    band = make_exercise(session, plan.clinic_id, "Lateral band walk", equipment="band")
    wall_sit = make_exercise(session, plan.clinic_id, "Wall sit", dosing=Dosing.time)
    old = make_exercise(session, plan.clinic_id, "Quad set")
    kg = {"load_unit": LoadUnit.kg, "reps": 8, "tempo": [3, 1, 1, 0], "rest_s": 90}
    made = {
        "squat": prescribe(
            session, plan, squat, [{**kg, "load_value": 40.0}, {**kg, "load_value": 45.0}]
        ),
        "band": prescribe(
            session,
            plan,
            band,
            [{"load_unit": LoadUnit.band, "band": "medium", "reps": 12, "side": Side.bilateral}],
        ),
        "wall_sit": prescribe(
            session,
            plan,
            wall_sit,
            [
                {
                    "load_unit": LoadUnit.bodyweight,
                    "duration_s": 30.0,
                    "rest_s": 60,
                    "sessions_per_week": 5,
                    "target_rpe": 7.0,
                    "instructions": "Back flat on the wall; stop if the pain passes 5/10.",
                }
            ],
        ),
        "stopped": prescribe(session, plan, old, [{"load_unit": LoadUnit.bodyweight, "reps": 10}]),
    }
    made["stopped"].status = PrescriptionStatus.stopped
    made["stopped"].stopped_at = at(7)
    session.flush()
    return made


def one_prescription(session: Session, plan: Plan) -> Prescription:
    exercise = make_exercise(session, plan.clinic_id, "Heel raise")
    return prescribe(session, plan, exercise, [{"load_unit": LoadUnit.bodyweight, "reps": 15}])


def observe(session: Session, plan: Plan, code: str, value: float, day: float, side: str = "none"):
    return make_observation(session, plan.patient_id, plan.clinic_id, code, value, at(day), side)


def make_summary_plan(
    session: Session,
    *,
    driver_description: str = "Knee drifts inward when landing on the left",
    stages: Sequence[Sequence[CriterionSpec]] = ((PAIN_SETTLED, SQUAT_REPS), (HOP_LSI,)),
    discharge: Sequence[CriterionSpec] = (HOP_LSI, PAIN_SETTLED, PSFS_8),
) -> Built:
    """An active plan on its first stage. Observations: pain 6 then 2/10 (met), 10 left
    single-leg squats (not met), hops left 150/170 cm against right 200 cm (LSI 75 then 85 %,
    not met), no PSFS (no data)."""
    clinician = make_user(session)
    clinic = session.get_one(Clinic, clinician.clinic_id)
    patient = make_patient(session, clinic=clinic, display_name="Alex Example")
    patient_user = make_user(session, clinic=clinic, role=Role.patient, patient=patient)
    assessment = make_full_assessment(session, patient=patient, clinician=clinician, finalized=True)
    add_driver(
        session,
        assessment,
        DriverKind.movement_pattern,
        driver_description,
        [
            {"name": "Single-leg hop for distance", "side": Side.left, "value": 120, "unit": "cm"},
            {"name": "Step-down test", "side": Side.left, "result": "knee falls inward"},
        ],
    )
    plan = make_plan(
        session, assessment=assessment, active=True, stages=stages, discharge=discharge
    )
    for stage in session.scalars(select(Stage).where(Stage.plan_id == plan.id)):
        stage.name, stage.goal = STAGES[min(stage.position, len(STAGES) - 1)]
    observe(session, plan, "pain_nrs", 6, 1)
    observe(session, plan, "pain_nrs", 2, 15)
    observe(session, plan, "single_leg_squat_reps", 10, 8, "left")
    observe(session, plan, "single_leg_hop", 150, 7, "left")
    observe(session, plan, "single_leg_hop", 200, 7, "right")
    observe(session, plan, "single_leg_hop", 170, 21, "left")
    observe(session, plan, "single_leg_hop", 200, 22, "right")
    session.flush()
    return Built(plan=plan, clinician=clinician, patient_user=patient_user)


def patient_of(session: Session, plan: Plan) -> Patient:
    return session.get_one(Patient, plan.patient_id)
