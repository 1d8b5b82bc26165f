"""The demo patient's home program: three prescriptions tied to the assessment's drivers, one
already progressed by 2-for-2, a weekly clinic session of active work, and home logs."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.auth import Actor
from app.core.types import Side
from app.exercises.models import Exercise
from app.plans.models import Plan
from app.prescriptions.models import ExerciseLog, LogSource, Prescription, PrescriptionVersion
from app.rules.progression import LoadUnit
from app.sessions.models import Adjunct, AdjunctKind, TreatmentSession

# (exercise name, stage index, driver index, first parameters, progressed parameters or None)
PROGRAM: list[tuple[str, int, int, dict[str, Any], dict[str, Any] | None]] = [
    (
        "Spanish squat",
        0,
        0,
        {
            "sets": 5,
            "duration_s": 30.0,
            "load_unit": LoadUnit.band,
            "band": "heavy",
            "rest_s": 60,
            "sessions_per_week": 5,
            "tempo": [0, 30, 0, 0],
        },
        {"duration_s": 45.0},
    ),
    (
        "Goblet squat",
        1,
        0,
        {
            "sets": 3,
            "reps": 8,
            "load_unit": LoadUnit.kg,
            "load_value": 12.0,
            "tempo": [3, 1, 1, 0],
            "rest_s": 90,
            "sessions_per_week": 3,
            "target_rpe": 8.0,
        },
        {"load_value": 14.0},
    ),
    (
        "Lateral band walk",
        1,
        1,
        {
            "sets": 3,
            "reps": 12,
            "load_unit": LoadUnit.band,
            "band": "medium",
            "rest_s": 45,
            "sessions_per_week": 3,
        },
        None,
    ),
]


def add(session: Session, actor: Actor, plan: Plan, start: datetime, now: datetime) -> None:
    exercises = _exercises(session, [name for name, *_ in PROGRAM])
    drivers = plan.driver_ids
    prescriptions = []
    for name, stage, driver, first, progressed in PROGRAM:
        prescription = _prescription(actor, plan, exercises[name], stage, drivers[driver])
        prescription.versions = _versions(actor, first, progressed, start)
        prescriptions.append(prescription)
    session.add_all(prescriptions)
    session.flush()
    _sessions_and_logs(session, actor, plan, prescriptions, start, now)


def _exercises(session: Session, names: list[str]) -> dict[str, Exercise]:
    rows = session.scalars(
        select(Exercise).where(Exercise.clinic_id.is_(None), Exercise.name.in_(names))
    )
    return {e.name: e for e in rows}


def _prescription(
    actor: Actor, plan: Plan, exercise: Exercise, stage: int, driver_id: uuid.UUID
) -> Prescription:
    return Prescription(
        clinic_id=actor.clinic_id,
        plan_id=plan.id,
        stage_id=plan.stages[stage].id,
        patient_id=plan.patient_id,
        exercise_id=exercise.id,
        driver_id=driver_id,
    )


def _versions(
    actor: Actor,
    first: dict[str, Any],
    progressed: dict[str, Any] | None,
    start: datetime,
) -> list[PrescriptionVersion]:
    def version(number: int, on: date, reason: str, rule: str | None, **values: Any) -> Any:
        return PrescriptionVersion(
            clinic_id=actor.clinic_id,
            number=number,
            effective_on=on,
            reason=reason,
            rule=rule,
            created_by_type=actor.kind,
            created_by_id=actor.id,
            side=Side.none,
            instructions="Pain up to 3/10 during is fine if it settles by next morning.",
            **values,
        )

    versions = [version(1, start.date(), "initial prescription", None, **first)]
    if progressed:
        on = (start + timedelta(weeks=3)).date()
        reason = "Target beaten by two or more on the last set in two sessions."
        versions.append(version(2, on, reason, "two_for_two", **{**first, **progressed}))
    return versions


def _sessions_and_logs(
    session: Session,
    actor: Actor,
    plan: Plan,
    prescriptions: list[Prescription],
    start: datetime,
    now: datetime,
) -> None:
    for week in range(5):
        when = min(start + timedelta(weeks=week, days=1), now - timedelta(hours=2))
        visit = TreatmentSession(
            clinic_id=actor.clinic_id,
            plan_id=plan.id,
            patient_id=plan.patient_id,
            clinician_id=actor.id,
            number=week + 1,
            occurred_at=when,
            pain_before=max(1, 5 - week),
            pain_after=max(1, 4 - week),
            adjuncts=[Adjunct(clinic_id=actor.clinic_id, kind=AdjunctKind.soft_tissue, minutes=10)]
            if week == 0
            else [],
        )
        session.add(visit)
        session.flush()
        active = [p for p in prescriptions if p.stage_id == plan.stages[min(week // 3, 1)].id]
        for prescription in active:
            session.add(_log(actor, plan, prescription, when.date(), LogSource.clinic, visit.id))
        for day in (3, 5):
            on = (when + timedelta(days=day)).date()
            if on < now.date():
                for prescription in active:
                    session.add(_log(actor, plan, prescription, on, LogSource.home, None))
    session.flush()


def _log(
    actor: Actor,
    plan: Plan,
    prescription: Prescription,
    on: date,
    source: LogSource,
    session_id: uuid.UUID | None,
) -> ExerciseLog:
    current = [v for v in prescription.versions if v.effective_on <= on][-1]
    done = {"reps": (current.reps or 0) + 2} if current.reps else {"duration_s": current.duration_s}
    load = {"load_value": current.load_value} if current.load_value else {}
    return ExerciseLog(
        clinic_id=actor.clinic_id,
        prescription_id=prescription.id,
        plan_id=plan.id,
        patient_id=plan.patient_id,
        session_id=session_id,
        version_number=current.number,
        performed_on=on,
        source=source,
        sets=[{**done, **load, "rpe": 6}] * current.sets,
        pain_before=2,
        pain_during=2,
        pain_next_morning=1 if source is LogSource.home else None,
        recorded_by_type=actor.kind,
        recorded_by_id=actor.id,
    )
