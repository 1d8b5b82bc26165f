"""Adherence: per prescription and plan week, the sessions prescribed against those done.

- Week 1 starts on the plan's activation date (UTC); weeks run to today, or to the day the plan
  ended. The week still running is listed too, marked `complete: false`.
- Prescribed: `sessions_per_week` of the version in force on the week's first day (for a
  prescription that starts during the week, its first version). A prescription is listed for
  the weeks it was in force: from its first version's `effective_on` until it was stopped.
- Done: the distinct days with a log that was not skipped, home and clinic alike; two logs on
  one day are one session.
- Ratio: done / prescribed, rounded to 2 decimals; above 1 when the patient did more.
Four statements whatever the plan's length: the plan, its prescriptions, their versions, and
the distinct (prescription, day) pairs logged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.core.auth import Actor
from app.core.schemas import Schema
from app.plans.models import Plan
from app.prescriptions.models import (
    ExerciseLog,
    Prescription,
    PrescriptionStatus,
    PrescriptionVersion,
)

WEEK = timedelta(days=7)


class WeekAdherence(Schema):
    week: int = Field(description="1 is the week starting on the plan's activation date.")
    starts_on: date
    ends_on: date
    complete: bool = Field(description="False for a week cut short: still running, or ended.")
    version_number: int = Field(description="The prescription version in force that week.")
    prescribed: int
    done: int
    ratio: float


class PrescriptionAdherence(Schema):
    prescription_id: uuid.UUID
    status: PrescriptionStatus
    prescribed: int
    done: int
    ratio: float | None
    weeks: list[WeekAdherence]


class PlanAdherence(Schema):
    plan_id: uuid.UUID
    activated_on: date | None = Field(description="Null until the plan is activated.")
    through: date | None = Field(description="The last day counted: today, or the plan's end.")
    prescribed: int
    done: int
    ratio: float | None
    prescriptions: list[PrescriptionAdherence]


def ratio(done: int, prescribed: int) -> float | None:
    return round(done / prescribed, 2) if prescribed else None


def plan_weeks(start: date, through: date) -> list[tuple[int, date, date]]:
    """(number, first day, last day) of every week from `start` that began by `through`."""
    count = (through - start).days // 7 + 1 if through >= start else 0
    return [(n + 1, start + n * WEEK, start + n * WEEK + timedelta(days=6)) for n in range(count)]


def version_on(versions: Sequence[PrescriptionVersion], day: date) -> PrescriptionVersion:
    """The latest version effective on `day`; the first when none yet was."""
    in_force = [v for v in versions if v.effective_on <= day]
    return in_force[-1] if in_force else versions[0]


def prescription_weeks(
    prescription: Prescription,
    weeks: Sequence[tuple[int, date, date]],
    days_done: set[date],
    through: date,
) -> list[WeekAdherence]:
    versions = sorted(prescription.versions, key=lambda v: (v.effective_on, v.number))
    if not versions:
        return []
    first = versions[0].effective_on
    stopped = prescription.stopped_at.date() if prescription.stopped_at else None
    rows = []
    for number, starts_on, ends_on in weeks:
        if ends_on < first or (stopped is not None and starts_on > stopped):
            continue
        version = version_on(versions, starts_on)
        done = sum(1 for day in days_done if starts_on <= day <= ends_on)
        rows.append(
            WeekAdherence(
                week=number,
                starts_on=starts_on,
                ends_on=ends_on,
                complete=ends_on < through,
                version_number=version.number,
                prescribed=version.sessions_per_week,
                done=done,
                ratio=round(done / version.sessions_per_week, 2),
            )
        )
    return rows


def summarise(prescription: Prescription, weeks: list[WeekAdherence]) -> PrescriptionAdherence:
    prescribed = sum(w.prescribed for w in weeks)
    done = sum(w.done for w in weeks)
    return PrescriptionAdherence(
        prescription_id=prescription.id,
        status=prescription.status,
        prescribed=prescribed,
        done=done,
        ratio=ratio(done, prescribed),
        weeks=weeks,
    )


def _days_done(
    session: Session, plan: Plan, start: date, through: date
) -> dict[uuid.UUID, set[date]]:
    rows = session.execute(
        select(ExerciseLog.prescription_id, ExerciseLog.performed_on)
        .where(
            ExerciseLog.clinic_id == plan.clinic_id,
            ExerciseLog.plan_id == plan.id,
            ExerciseLog.skipped.is_(False),
            ExerciseLog.performed_on >= start,
            ExerciseLog.performed_on <= through,
        )
        .distinct()
    )
    days: dict[uuid.UUID, set[date]] = defaultdict(set)
    for prescription_id, performed_on in rows:
        days[prescription_id].add(performed_on)
    return days


def get(
    session: Session, actor: Actor, plan: Plan, *, now: datetime | None = None
) -> PlanAdherence:
    """The plan's adherence, week by week, for each of its prescriptions (stopped ones too)."""
    if plan.activated_at is None:
        return PlanAdherence(
            plan_id=plan.id,
            activated_on=None,
            through=None,
            prescribed=0,
            done=0,
            ratio=None,
            prescriptions=[],
        )
    start = plan.activated_at.date()
    through = (plan.ended_at or now or datetime.now(UTC)).date()
    weeks = plan_weeks(start, through)
    prescriptions = session.scalars(
        select(Prescription)
        .where(Prescription.clinic_id == actor.clinic_id, Prescription.plan_id == plan.id)
        .options(selectinload(Prescription.versions))
        .order_by(Prescription.created_at, Prescription.id)
    ).all()
    days = _days_done(session, plan, start, through)
    rows = [summarise(p, prescription_weeks(p, weeks, days[p.id], through)) for p in prescriptions]
    prescribed, done = sum(r.prescribed for r in rows), sum(r.done for r in rows)
    return PlanAdherence(
        plan_id=plan.id,
        activated_on=start,
        through=through,
        prescribed=prescribed,
        done=done,
        ratio=ratio(done, prescribed),
        prescriptions=rows,
    )
