"""One clinic with care under way, built straight with the ORM: the world every write of the
write matrix (and the projection race) runs against.

One patient (with a login) and one finalised assessment (findings, drivers, goals) behind three
plans: an active one twenty days into its four-week first stage (a prescription with two
versions, a treatment session with an exercise log and an adjunct, a home log, observations of
its criteria's measures), an on-hold one and a draft; a draft reassessment of the active plan;
a clinic-owned measure (judged by both plans under way) and exercise; an API key; and another
patient's active plan that runs the same program (a finding of each plan reads the other).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.accountability import service as accountability_service
from app.assessments.models import Assessment, AssessmentKind, Driver, Finding
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.core.types import Role, Side
from app.exercises.models import Exercise
from app.measures.models import Measure, MeasureCategory
from app.observations.models import Observation, ObservationSource
from app.patients.models import Patient
from app.plans.models import Criterion, CriterionKind, Plan, PlanStatus, Stage
from app.rules.criteria import Better, Comparator, Mode
from app.sessions.models import AdjunctKind
from app.users.models import User
from tests.accountability.builders import make_prescription, make_session
from tests.builders import (
    auth_headers,
    make_api_key,
    make_clinic,
    make_exercise,
    make_exercise_log,
    make_full_assessment,
    make_patient,
    make_user,
)
from tests.plans.plan_builders import HOP_LSI, PSFS_8, SQUAT_REPS, make_observation, make_plan

NOW = datetime.now(UTC)
TODAY = NOW.date()
GRIP_MCID = 5.0
# Left grip at 30, 33, 36 kg over 20 days: moved 6, more than its MCID of 5, so not stalled.
GRIP_SERIES = ((30.0, 30), (33.0, 20), (36.0, 10))
STAGES = ((PSFS_8,), (SQUAT_REPS,))  # and each plan under way judges left grip in its first
PROGRESSED = (TODAY - timedelta(days=20), TODAY - timedelta(days=3))


@dataclass(frozen=True)
class World:
    clinic_id: uuid.UUID
    plans: dict[str, uuid.UUID]  # "active", "on hold", "draft", "copy"
    ids: dict[str, uuid.UUID]  # a record for each id name the API's paths and bodies use
    views: dict[str, dict[str, uuid.UUID]]  # the ids that point elsewhere: e.g. at the draft
    lists: dict[str, list[uuid.UUID]]
    admin: dict[str, str]
    clinician: dict[str, str]
    patient: dict[str, str]


def build_world(session: Session, *, grip_sustained: int = 1, copied_program: bool = True) -> World:
    """`grip_sustained`: how many of the latest grip values the plans under way judge;
    `copied_program`: whether another patient's plan runs the active plan's program."""
    clinic = make_clinic(session)
    admin = make_user(session, clinic=clinic, role=Role.admin)
    clinician = make_user(session, clinic=clinic, role=Role.clinician)
    patient = make_patient(session, clinic=clinic)
    patient_user = make_user(session, clinic=clinic, role=Role.patient, patient=patient)
    assessment = make_full_assessment(
        session, patient=patient, clinician=clinician, finalized=True, assessed_at=_ago(40)
    )
    grip = _grip_measure(session, clinic.id)
    exercise = make_exercise(session, clinic=clinic)
    plans = _plans(session, assessment, grip, grip_sustained)
    ids = _care_under_way(session, plans["active"], patient, grip, exercise)
    if copied_program:
        plans["copy"] = _copy_of_the_program(session, clinician, exercise)
    reassessment = make_full_assessment(
        session,
        patient=patient,
        clinician=clinician,
        kind=AssessmentKind.reassessment,
        plan_id=plans["active"].id,
        assessed_at=_ago(1),
    )
    key, _secret = make_api_key(session, clinic=clinic, created_by=admin)
    plan_ids = {name: plan.id for name, plan in plans.items()}
    store_derived_state(session, Actor(clinic.id, Role.admin, user_id=admin.id), plan_ids.values())
    draft_stages = _stages(session, plans["draft"])
    ids |= {
        "plan_id": plans["active"].id,
        "assessment_id": assessment.id,
        "driver_id": _one(session, select(Driver.id).where(Driver.assessment_id == assessment.id)),
        "finding_id": _one(
            session, select(Finding.id).where(Finding.assessment_id == assessment.id)
        ),
        "patient_id": patient.id,
        "user_id": clinician.id,
        "api_key_id": key.id,
    }
    views = {
        "draft": {
            "plan_id": plans["draft"].id,
            "stage_id": draft_stages[0].id,
            "criterion_id": _criteria(session, draft_stages[0])[0].id,
        },
        "on hold": {"plan_id": plans["on hold"].id},
        "draft reassessment": {"assessment_id": reassessment.id},
    }
    lists = {"draft_stage_ids": [stage.id for stage in reversed(draft_stages)]}
    headers = auth_headers(admin), auth_headers(clinician), auth_headers(patient_user)
    return World(clinic.id, plan_ids, ids, views, lists, *headers)


def _plans(
    session: Session, assessment: Assessment, grip: Measure, grip_sustained: int
) -> dict[str, Plan]:
    """The patient's three plans: active, on hold, draft; those under way judge left grip."""
    active = make_plan(
        session, assessment=assessment, stages=STAGES, discharge=(HOP_LSI, PSFS_8), active=True
    )
    on_hold = make_plan(
        session, assessment=assessment, stages=STAGES, discharge=(PSFS_8,), active=True
    )
    on_hold.status = PlanStatus.on_hold
    draft = make_plan(session, assessment=assessment)
    for plan in (active, on_hold):
        _judge_grip(session, plan, grip, grip_sustained)
    return {"active": active, "on hold": on_hold, "draft": draft}


def _care_under_way(
    session: Session, plan: Plan, patient: Patient, grip: Measure, exercise: Exercise
) -> dict[str, uuid.UUID]:
    """Twenty days into the first stage (of four weeks): a prescription progressed three days
    ago, a session ten days ago (its work, an adjunct, a PSFS), a home log today, PSFS and
    left grip measured over a month."""
    first = _stages(session, plan)[0]
    first.started_on = TODAY - timedelta(days=20)
    prescription = make_prescription(session, plan, changed_on=PROGRESSED, exercise=exercise)
    visit = make_session(
        session,
        plan,
        1,
        _ago(10),
        work=[prescription],
        adjuncts=[AdjunctKind.soft_tissue],
        observed=[("psfs", 6)],
    )
    make_observation(session, patient.id, patient.clinic_id, "psfs", 4, _ago(30))
    grips = [
        _observe_grip(session, patient, grip, value, _ago(days)) for value, days in GRIP_SERIES
    ]
    log = make_exercise_log(session, prescription, 8, 8, 8)
    return {
        "stage_id": first.id,
        "criterion_id": _criteria(session, first)[0].id,
        "prescription_id": prescription.id,
        "session_id": visit.id,
        "log_id": log.id,
        "observation_id": grips[-1].id,
        "measure_id": grip.id,
        "exercise_id": exercise.id,
    }


def _copy_of_the_program(session: Session, clinician: User, exercise: Exercise) -> Plan:
    """Another patient's active plan running the active plan's program unchanged: each of the
    two is audited NOT_INDIVIDUALISED for the other (a finding that reads another plan)."""
    other = make_patient(session, clinic=session.get_one(Clinic, clinician.clinic_id))
    assessment = make_full_assessment(session, patient=other, clinician=clinician, finalized=True)
    plan = make_plan(session, assessment=assessment, stages=STAGES, active=True)
    make_prescription(session, plan, changed_on=PROGRESSED, exercise=exercise)
    return plan


def store_derived_state(session: Session, actor: Actor, plan_ids: Iterable[uuid.UUID]) -> None:
    """Stores what the builders' plans derive, as a write through the API would: while each
    write path refreshes its plans itself, by that call; once the unit of work projects before
    every commit, by committing (into the test's outer transaction)."""
    refresh = getattr(accountability_service, "refresh_attention", None)
    if refresh is None:
        session.commit()
        return
    session.flush()
    plan_ids = list(plan_ids)
    # Twice: a plan's audit reads the other plans' stored programs (NOT_INDIVIDUALISED).
    for plan_id in plan_ids + plan_ids:
        refresh(session, actor, plan_id)


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _one(session: Session, statement: Select[uuid.UUID]) -> uuid.UUID:
    found = session.scalars(statement).first()
    assert found is not None
    return found


def _stages(session: Session, plan: Plan) -> list[Stage]:
    statement = select(Stage).where(Stage.plan_id == plan.id).order_by(Stage.position)
    return list(session.scalars(statement))


def _criteria(session: Session, stage: Stage) -> list[Criterion]:
    statement = select(Criterion).where(Criterion.stage_id == stage.id)
    return list(session.scalars(statement.order_by(Criterion.position)))


def _grip_measure(session: Session, clinic_id: uuid.UUID) -> Measure:
    measure = Measure(
        clinic_id=clinic_id,
        code=f"grip_{uuid.uuid4().hex[:6]}",
        name="Grip strength",
        category=MeasureCategory.strength,
        unit="kg",
        min_value=0,
        max_value=150,
        better=Better.higher,
        mcid=GRIP_MCID,
        bilateral=True,
    )
    session.add(measure)
    session.flush()
    return measure


def _judge_grip(session: Session, plan: Plan, grip: Measure, sustained: int) -> None:
    """A second criterion on the plan's first stage: left grip of 45 kg (unmet)."""
    stage = _stages(session, plan)[0]
    session.add(
        Criterion(
            clinic_id=plan.clinic_id,
            plan_id=plan.id,
            stage_id=stage.id,
            kind=CriterionKind.progression,
            position=len(_criteria(session, stage)),
            measure_id=grip.id,
            comparator=Comparator.gte,
            target=45,
            mode=Mode.absolute,
            side=Side.left,
            sustained_count=sustained,
            statement="Grips 45 kg on the left",
        )
    )
    session.flush()


def _observe_grip(
    session: Session, patient: Patient, grip: Measure, value: float, at: datetime
) -> Observation:
    observation = Observation(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        measure_id=grip.id,
        value=value,
        recorded_value=value,
        recorded_unit="kg",
        side=Side.left,
        observed_at=at,
        source=ObservationSource.clinician,
        recorded_by_type="user",
        recorded_by_id=uuid.uuid4(),
    )
    session.add(observation)
    session.flush()
    return observation
