"""The weekly program: what was prescribed in a given week of the plan, and each
prescription's parameters week by week. Week 1 starts on the day the plan was activated (the
day it was drafted, when never activated); a week shows the version in force at its end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session, selectinload

from app.core.auth import Actor
from app.exercises.models import Exercise
from app.plans.models import Plan
from app.prescriptions import queries
from app.prescriptions import service as prescriptions_service
from app.prescriptions.models import Prescription, PrescriptionVersion
from app.prescriptions.schemas import (
    ExerciseSummary,
    HistoryWeek,
    ParametersRead,
    PrescriptionHistory,
    ProgramHistoryRead,
    ProgramItem,
    ProgramWeekRead,
    parameters_of,
)


@dataclass(frozen=True)
class Week:
    number: int
    starts_on: date

    @property
    def ends_on(self) -> date:
        return self.starts_on + timedelta(days=6)


def first_day(plan: Plan) -> date:
    return (plan.activated_at or plan.created_at).date()


def week(plan: Plan, number: int) -> Week:
    return Week(number, first_day(plan) + timedelta(weeks=number - 1))


def week_of(plan: Plan, day: date) -> int:
    return max(1, (day - first_day(plan)).days // 7 + 1)


def current_week(plan: Plan) -> int:
    """This week, or the plan's last one once it has ended."""
    today = prescriptions_service.today()
    last = min(today, plan.ended_at.date()) if plan.ended_at else today
    return week_of(plan, last)


def in_force(versions: Sequence[PrescriptionVersion], day: date) -> PrescriptionVersion | None:
    """The latest version to take effect by `day` (versions in number order)."""
    found = None
    for version in versions:
        if version.effective_on <= day and (
            found is None or version.effective_on >= found.effective_on
        ):
            found = version
    return found


def _load(session: Session, actor: Actor, plan: Plan) -> list[tuple[Prescription, Exercise]]:
    """The plan's prescriptions with their versions and exercises: three statements."""
    statement = (
        queries.readable(actor)
        .where(Prescription.plan_id == plan.id)
        .options(selectinload(Prescription.versions))
        .order_by(Prescription.created_at, Prescription.id)
    )
    prescriptions = list(session.scalars(statement))
    exercises = prescriptions_service.exercises_by_id(
        session, actor, (p.exercise_id for p in prescriptions)
    )
    return [(p, exercises[p.exercise_id]) for p in prescriptions]


def _entry(prescription: Prescription, exercise: Exercise) -> dict[str, Any]:
    return {
        "prescription_id": prescription.id,
        "stage_id": prescription.stage_id,
        "exercise": ExerciseSummary.model_validate(exercise),
        "driver_id": prescription.driver_id,
        "status": prescription.status,
        "stopped_at": prescription.stopped_at,
    }


def _in_force_fields(version: PrescriptionVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "effective_on": version.effective_on,
        "parameters": ParametersRead.model_validate(version),
    }


def program_week(session: Session, actor: Actor, plan: Plan, number: int | None) -> ProgramWeekRead:
    shown = week(plan, number or current_week(plan))
    items = []
    for prescription, exercise in _load(session, actor, plan):
        version = in_force(prescription.versions, shown.ends_on)
        stopped = prescription.stopped_at
        if version is None or (stopped is not None and stopped.date() < shown.starts_on):
            continue
        items.append(ProgramItem(**_entry(prescription, exercise), **_in_force_fields(version)))
    return ProgramWeekRead(
        plan_id=plan.id,
        week=shown.number,
        starts_on=shown.starts_on,
        ends_on=shown.ends_on,
        items=items,
    )


def _weeks(plan: Plan, prescription: Prescription, last: int) -> list[HistoryWeek]:
    """A row per week from the first in which a version is in force to `last` or the stop."""
    if prescription.stopped_at is not None:
        last = min(last, week_of(plan, prescription.stopped_at.date()))
    rows: list[HistoryWeek] = []
    previous: dict[str, Any] | None = None
    for number in range(week_of(plan, prescription.versions[0].effective_on), last + 1):
        shown = week(plan, number)
        version = in_force(prescription.versions, shown.ends_on)
        if version is None:
            continue
        parameters = parameters_of(version)
        rows.append(
            HistoryWeek(
                week=number,
                starts_on=shown.starts_on,
                ends_on=shown.ends_on,
                changed=previous is not None and parameters != previous,
                **_in_force_fields(version),
            )
        )
        previous = parameters
    return rows


def history(session: Session, actor: Actor, plan: Plan) -> ProgramHistoryRead:
    last = current_week(plan)
    return ProgramHistoryRead(
        plan_id=plan.id,
        starts_on=first_day(plan),
        current_week=last,
        prescriptions=[
            PrescriptionHistory(**_entry(p, exercise), weeks=_weeks(plan, p, last))
            for p, exercise in _load(session, actor, plan)
        ],
    )
