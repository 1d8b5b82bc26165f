"""The current home program: each active prescription at its latest version, in words."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session, selectinload

from app.core.auth import Actor
from app.exercises.models import Exercise
from app.plans.models import Plan
from app.prescriptions import queries as prescriptions
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.rules.progression import Dosing, LoadUnit
from app.summary.schemas import HomeExercise
from app.summary.wording import number, side

_LOADS = {
    LoadUnit.kg: "{} kg",
    LoadUnit.lb: "{} lb",
    LoadUnit.percent_body_weight: "{}% of your body weight",
}


def current(session: Session, actor: Actor, plan: Plan) -> list[HomeExercise]:
    """Two statements: the plan's active prescriptions with their exercises, and versions."""
    statement = (
        prescriptions.readable(actor)
        .add_columns(Exercise)
        .join(Exercise, Exercise.id == Prescription.exercise_id)
        .where(
            Prescription.plan_id == plan.id,
            Prescription.status == PrescriptionStatus.active,
            or_(Exercise.clinic_id.is_(None), Exercise.clinic_id == plan.clinic_id),
        )
        .options(selectinload(Prescription.versions))
        .order_by(Prescription.created_at, Prescription.id)
    )
    return [
        _item(prescription, exercise, prescriptions.current_version(prescription))
        for prescription, exercise in session.execute(statement)
        if prescription.versions
    ]


def _item(prescription: Prescription, exercise: Exercise, v: PrescriptionVersion) -> HomeExercise:
    return HomeExercise(
        prescription_id=prescription.id,
        exercise_name=exercise.name,
        side=v.side,
        sets=v.sets,
        reps=v.reps,
        reps_min=v.reps_min,
        reps_max=v.reps_max,
        duration_s=v.duration_s,
        distance_m=v.distance_m,
        dose=dose(exercise.dosing, v),
        load_unit=v.load_unit,
        load_value=v.load_value,
        band=v.band,
        load=load(v),
        tempo="-".join(str(phase) for phase in v.tempo) if v.tempo else None,
        rest_s=v.rest_s,
        sessions_per_week=v.sessions_per_week,
        effort=effort(v),
        instructions=v.instructions,
    )


def _seconds(value: float) -> str:
    if value >= 120 and value % 60 == 0:
        return f"{number(value / 60)} minutes"
    return f"{number(value)} seconds"


def dose(dosing: Dosing, v: PrescriptionVersion) -> str:
    """ "3 sets of 8-12 reps", "3 sets of 30 seconds", "2 sets of 20 m", with the side."""
    sets = f"{v.sets} set" + ("" if v.sets == 1 else "s")
    if dosing is Dosing.time and v.duration_s is not None:
        amount = _seconds(v.duration_s)
    elif dosing is Dosing.distance and v.distance_m is not None:
        amount = f"{number(v.distance_m)} m"
    elif v.reps_min is not None and v.reps_max is not None:
        amount = f"{v.reps_min}-{v.reps_max} reps"
    elif v.reps is not None:
        amount = f"{v.reps} rep" + ("" if v.reps == 1 else "s")
    else:
        return sets
    where = side(v.side)
    on = f", {where}" if where == "both sides" else f", {where} side" if where else ""
    return f"{sets} of {amount}{on}"


def load(v: PrescriptionVersion) -> str:
    if v.load_unit is LoadUnit.band:
        return f"Band: {v.band.replace('_', ' ')}" if v.band else "Band"
    if v.load_unit is LoadUnit.bodyweight:
        return "Your body weight"
    if v.load_value is None:
        return "No added load"
    return _LOADS[v.load_unit].format(number(v.load_value))


def effort(v: PrescriptionVersion) -> str | None:
    if v.target_rpe is not None:
        return f"Effort about {number(v.target_rpe)} out of 10"
    if v.target_rir is not None:
        reps = "rep" if v.target_rir == 1 else "reps"
        return f"Stop with about {v.target_rir} {reps} left in the tank"
    return None
