"""Sessions, prescriptions, versions and logs built straight with the ORM, and plans that show
each of the audit's failure modes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.core.types import Role, Side
from app.exercises.models import Exercise, ExerciseCategory
from app.patients.models import Patient
from app.plans.models import AttentionRank, Plan, PlanDriver, PlanStatus, Stage
from app.prescriptions.models import ExerciseLog, LogSource, Prescription, PrescriptionVersion
from app.rules.progression import Body, Dosing, LoadUnit
from app.sessions.models import Adjunct, AdjunctKind, TreatmentSession
from app.users.models import User
from tests.builders import (
    auth_headers,
    make_clinic,
    make_full_assessment,
    make_patient,
    make_user,
)
from tests.plans.plan_builders import (
    HOP_LSI,
    PSFS_8,
    criterion,
    make_observation,
    make_plan,
    plan_url,
)

WORKLIST_URL = "/api/v1/worklist"
NOW = datetime.now(UTC)
TODAY = NOW.date()
PSFS_UP = criterion("psfs", "gte", 8, statement="Rates the nominated activities 8/10")
SQUATS = criterion("single_leg_squat_reps", "gte", 15, side="left", statement="15 squats")


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def make_exercise(session: Session, clinic_id: uuid.UUID) -> Exercise:
    exercise = Exercise(
        clinic_id=clinic_id,
        name=f"Split squat {uuid.uuid4().hex[:8]}",
        description="Split squat with dumbbells.",
        body_region="knee",
        body=Body.lower_body,
        category=ExerciseCategory.strength,
        dosing=Dosing.reps,
        equipment="dumbbells",
    )
    session.add(exercise)
    session.flush()
    return exercise


def make_prescription(
    session: Session,
    plan: Plan,
    *,
    changed_on: Sequence[date],
    exercise: Exercise | None = None,
    driver_id: uuid.UUID | None = None,
    **parameters: Any,
) -> Prescription:
    """A prescription in the plan's current stage with one version per date in `changed_on`
    (3 x 8 at 40 kg, the load rising 2.5 kg at each change)."""
    exercise = exercise or make_exercise(session, plan.clinic_id)
    if driver_id is None:
        links = select(PlanDriver.driver_id).where(PlanDriver.plan_id == plan.id)
        driver_id = session.scalars(links).first()
    fields: dict[str, Any] = {
        "sets": 3,
        "reps": 8,
        "load_unit": LoadUnit.kg,
        "sessions_per_week": 3,
        "side": Side.none,
    }
    versions = [
        PrescriptionVersion(
            clinic_id=plan.clinic_id,
            number=number,
            effective_on=day,
            created_by_type="user",
            created_by_id=plan.clinician_id,
            reason="progressed" if number > 1 else "initial prescription",
            **{**fields, "load_value": 40.0 + 2.5 * (number - 1), **parameters},
        )
        for number, day in enumerate(changed_on, 1)
    ]
    prescription = Prescription(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        stage_id=plan.current_stage_id or _first_stage(session, plan),
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=driver_id,
        versions=versions,
    )
    session.add(prescription)
    session.flush()
    return prescription


def _first_stage(session: Session, plan: Plan) -> uuid.UUID:
    stage = select(Stage.id).where(Stage.plan_id == plan.id).order_by(Stage.position)
    found = session.scalars(stage).first()
    assert found is not None
    return found


def make_session(
    session: Session,
    plan: Plan,
    number: int,
    occurred_at: datetime,
    *,
    work: Sequence[Prescription] = (),
    adjuncts: Sequence[AdjunctKind] = (),
    observed: Sequence[tuple[str, float]] = (),
) -> TreatmentSession:
    """A visit: a clinic log of each prescription in `work`, the adjuncts, and observations
    (measure code, value) taken in it."""
    visit = TreatmentSession(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        clinician_id=plan.clinician_id,
        number=number,
        occurred_at=occurred_at,
        adjuncts=[Adjunct(clinic_id=plan.clinic_id, kind=kind, minutes=10) for kind in adjuncts],
    )
    session.add(visit)
    session.flush()
    session.add_all(_log(plan, visit, prescription) for prescription in work)
    for code, value in observed:
        observation = make_observation(
            session, plan.patient_id, plan.clinic_id, code, value, occurred_at
        )
        observation.session_id = visit.id
    session.flush()
    return visit


def _log(plan: Plan, visit: TreatmentSession, prescription: Prescription) -> ExerciseLog:
    return ExerciseLog(
        clinic_id=plan.clinic_id,
        prescription_id=prescription.id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        session_id=visit.id,
        version_number=1,
        performed_on=visit.occurred_at.date(),
        source=LogSource.clinic,
        sets=[{"reps": 8, "load_value": 40.0, "rpe": None, "rir": None}] * 3,
        pain_during=2,
        recorded_by_type="user",
        recorded_by_id=plan.clinician_id,
    )


@dataclass
class WellRun:
    """An active plan run as the clinical model asks (the audit finds nothing), with the
    pieces a test changes to show one failure."""

    plan: Plan
    clinician: User
    program: list[Prescription] = field(default_factory=list)
    sessions: list[TreatmentSession] = field(default_factory=list)


def clinician_in(session: Session, clinic_id: uuid.UUID | None = None) -> User:
    clinic = session.get_one(Clinic, clinic_id) if clinic_id else None
    return make_user(session, clinic=clinic)


def well_run_plan(
    session: Session,
    *,
    clinician: User | None = None,
    sessions: int = 4,
    psfs_step: float = 1.5,
    **plan_fields: Any,
) -> WellRun:
    """Active, 30 days into a 6-week first stage (PSFS to 8), two prescriptions progressed three
    days ago, a session of active work a week measuring the PSFS, which rises `psfs_step` a
    session (to 7 by the fourth: not yet met)."""
    clinician = clinician or clinician_in(session)
    patient = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    assessment = make_full_assessment(
        session, patient=patient, clinician=clinician, finalized=True, assessed_at=days_ago(60)
    )
    fields: dict[str, Any] = {"stages": [(PSFS_UP,), (SQUATS,)], "discharge": [HOP_LSI, PSFS_8]}
    fields |= plan_fields
    plan = make_plan(session, assessment=assessment, active=True, **fields)
    stage = session.get_one(Stage, plan.current_stage_id)
    stage.started_on, stage.expected_weeks = TODAY - timedelta(days=30), 6
    changed = [TODAY - timedelta(days=20), TODAY - timedelta(days=3)]
    program = [make_prescription(session, plan, changed_on=changed) for _ in range(2)]
    built = WellRun(plan, clinician, program)
    for number in range(1, sessions + 1):
        psfs = min(10, 1 + psfs_step * number)
        when = days_ago(7 * (sessions - number + 1))
        visit = make_session(session, plan, number, when, work=program, observed=[("psfs", psfs)])
        built.sessions.append(visit)
    return built


def bulk_plans(session: Session, count: int) -> tuple[User, User]:
    """`count` plans in a new clinic, inserted in bulk: every fifth rank, two clinicians, some
    overdue, some on hold."""
    clinic = make_clinic(session)
    clinicians = [make_user(session, clinic=clinic) for _ in range(2)]
    assessment = make_full_assessment(session, clinician=clinicians[0], finalized=True)
    # Projected now, while it feeds no plan: the bulk plans below keep the ranks they are given.
    session.commit()
    patients = [uuid.uuid4() for _ in range(count)]
    session.execute(
        insert(Patient),
        [
            {"id": p, "clinic_id": clinic.id, "display_name": f"Bulk {i}", "date_of_birth": TODAY}
            for i, p in enumerate(patients)
        ],
    )
    session.execute(
        insert(Plan),
        [_bulk_row(i, clinic, assessment.id, patients[i], clinicians) for i in range(count)],
    )
    admin = make_user(session, clinic=clinic, role=Role.admin)
    return admin, clinicians[0]


BULK_RANKS = [AttentionRank.reassessment_due, AttentionRank.ready_to_advance]
BULK_RANKS += [AttentionRank.ready_to_discharge, AttentionRank.findings, AttentionRank.none]


def _bulk_row(
    i: int, clinic: Clinic, assessment_id: uuid.UUID, patient_id: uuid.UUID, clinicians: list[User]
) -> dict[str, Any]:
    rank = BULK_RANKS[i % len(BULK_RANKS)]
    due_on = TODAY - timedelta(days=1) if i % 7 == 0 else TODAY + timedelta(days=1)
    return {
        "id": uuid.uuid4(),
        "clinic_id": clinic.id,
        "patient_id": patient_id,
        "assessment_id": assessment_id,
        "clinician_id": clinicians[i % 2].id,
        "title": f"Plan {i}",
        "status": PlanStatus.on_hold if i % 11 == 0 else PlanStatus.active,
        "attention_rank": rank.value,
        "attention_codes": ["STALLED"] if rank is AttentionRank.reassessment_due else [],
        "reassessment_due": rank is AttentionRank.reassessment_due,
        "stage_due_on": due_on,
        # As audited two days ago: those due yesterday were not overdue yet.
        "pending_overdue_on": due_on if rank > AttentionRank.overdue else None,
    }


# Reading the audit and the worklist over HTTP.


def audit_of(client: TestClient, plan: Plan, user: User) -> dict[str, Any]:
    response = client.get(plan_url(plan.id, "audit"), headers=auth_headers(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> set[str]:
    return {finding["code"] for finding in body["findings"]}


def listed(client: TestClient, user: User, **params: Any) -> list[dict[str, Any]]:
    response = client.get(WORKLIST_URL, params=params, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["plan_id"] for item in items]
