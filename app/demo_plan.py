"""The demo patient's plan: three stages with measured criteria, discharge on function, and
five weeks of measurements, so progress, the timeline and the gates have something to show."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app import demo_program
from app.core.auth import Actor
from app.core.types import Side
from app.observations import service as observations_service
from app.observations.schemas import ObservationCreate
from app.patients.models import Patient
from app.plans import lifecycle, queries
from app.plans import service as plans_service
from app.plans.models import Plan
from app.plans.schemas import AdvanceRequest, CriterionCreate, PlanCreate, StageCreate, Timeline
from app.rules.criteria import Comparator, Mode

WEEKS_AGO = 5


def _lsi(code: str, target: float, statement: str) -> CriterionCreate:
    return CriterionCreate(
        measure_code=code,
        comparator=Comparator.gte,
        target=target,
        mode=Mode.limb_symmetry,
        involved_side=Side.right,
        statement=statement,
    )


def _absolute(code: str, comparator: Comparator, target: float, statement: str) -> CriterionCreate:
    return CriterionCreate(
        measure_code=code, comparator=comparator, target=target, statement=statement
    )


def _stages() -> list[StageCreate]:
    return [
        StageCreate(
            name="Settle and load",
            goal="Load the knee daily without flare-ups; pain settles by next morning.",
            expected_weeks=3,
            criteria=[
                _absolute("pain_nrs", Comparator.lte, 3, "Pain at most 3/10 during loading"),
                _lsi("single_leg_squat_reps", 70, "Right single-leg squats at least 70 % of left"),
            ],
        ),
        StageCreate(
            name="Build capacity",
            goal="Close the right quadriceps strength gap.",
            expected_weeks=6,
            criteria=[
                _lsi("quadriceps_strength_kg", 85, "Right knee extension at least 85 % of left"),
                _lsi("single_leg_squat_reps", 90, "Right single-leg squats at least 90 % of left"),
            ],
        ),
        StageCreate(
            name="Return to running",
            goal="Build running volume back to 10 km.",
            expected_weeks=6,
            criteria=[
                _lsi("single_leg_hop", 90, "Single-leg hop on the right at least 90 % of left"),
                _absolute("psfs", Comparator.gte, 8, "Running and stairs rated at least 8/10"),
            ],
        ),
    ]


def _discharge() -> list[CriterionCreate]:
    return [
        _lsi("single_leg_hop", 90, "Three single-leg hops on the right, LSI at least 90 %"),
        _lsi("quadriceps_strength_kg", 90, "Knee extension strength, LSI at least 90 %"),
        _absolute("psfs", Comparator.gte, 8, "Running 10 km and stairs rated at least 8/10"),
        _absolute("pain_nrs", Comparator.lte, 2, "Pain at most 2/10 when running"),
    ]


# (weeks after the assessment, measure, side, value)
MEASUREMENTS: list[tuple[int, str, Side, float]] = [
    (0, "pain_nrs", Side.none, 5),
    (0, "psfs", Side.none, 4),
    (0, "single_leg_squat_reps", Side.left, 15),
    (0, "single_leg_squat_reps", Side.right, 8),
    (0, "quadriceps_strength_kg", Side.left, 32),
    (0, "quadriceps_strength_kg", Side.right, 24.5),
    (2, "pain_nrs", Side.none, 3),
    (2, "single_leg_squat_reps", Side.left, 15),
    (2, "single_leg_squat_reps", Side.right, 11),
    (3, "pain_nrs", Side.none, 2),
    (3, "psfs", Side.none, 5.5),
    (3, "single_leg_squat_reps", Side.left, 16),
    (3, "single_leg_squat_reps", Side.right, 12),
    (3, "quadriceps_strength_kg", Side.left, 32.5),
    (3, "quadriceps_strength_kg", Side.right, 26.5),
    (5, "pain_nrs", Side.none, 2),
    (5, "psfs", Side.none, 6.5),
    (5, "single_leg_squat_reps", Side.left, 16),
    (5, "single_leg_squat_reps", Side.right, 13),
    (5, "quadriceps_strength_kg", Side.left, 33),
    (5, "quadriceps_strength_kg", Side.right, 27.5),
]


def add(
    session: Session, actor: Actor, patient: Patient, assessment_id: uuid.UUID, now: datetime
) -> Plan:
    """The plan, activated five weeks ago and advanced past its first stage."""
    start = now - timedelta(weeks=WEEKS_AGO)
    created = plans_service.create(session, actor, _plan_data(assessment_id, start))
    _record_measurements(session, actor, patient, start, now)
    lifecycle.activate(session, actor, created.id, created.version)
    plan = queries.get_plan(session, actor, created.id, tree=True)
    _backdate(plan, start)
    session.flush()
    lifecycle.advance(session, actor, plan.id, AdvanceRequest(), plan.version)
    plan = queries.get_plan(session, actor, created.id, tree=True)
    plan.stages[1].started_on = (start + timedelta(weeks=3)).date()
    plan.stages[0].completed_at = start + timedelta(weeks=3)
    session.flush()
    plan = queries.get_plan(session, actor, created.id, tree=True)
    demo_program.add(session, actor, plan, start, now)
    return plan


def _plan_data(assessment_id: uuid.UUID, start: datetime) -> PlanCreate:
    return PlanCreate(
        assessment_id=assessment_id,
        title="Right knee: patellofemoral pain, back to 10 km",
        timeline=Timeline(
            expected_sessions_min=12,
            expected_sessions_max=16,
            expected_end_on=(start + timedelta(weeks=16)).date(),
        ),
        stages=_stages(),
        discharge_criteria=_discharge(),
    )


def _record_measurements(
    session: Session, actor: Actor, patient: Patient, start: datetime, now: datetime
) -> None:
    items = [
        ObservationCreate(
            measure_code=code,
            value=value,
            side=side,
            observed_at=min(start + timedelta(weeks=week, hours=1), now - timedelta(hours=1)),
        )
        for week, code, side, value in MEASUREMENTS
    ]
    observations_service.create_many(session, actor, patient, items)


def _backdate(plan: Plan, start: datetime) -> None:
    """The demo began five weeks ago: its activation and first stage say so."""
    plan.activated_at = start
    plan.stages[0].started_on = start.date()
