"""A plan's program as the audit reads it: each prescription with its current version's date
and dose, and the same program elsewhere in the clinic (NOT_PROGRESSING, NOT_INDIVIDUALISED)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from enum import Enum
from typing import Any

from sqlalchemy import Row, Select, and_, func, select
from sqlalchemy.orm import Session

from app.plans.models import Plan, PlanStatus
from app.prescriptions.models import Prescription, PrescriptionStatus, PrescriptionVersion
from app.rules.plan_audit import PrescriptionFacts, program_signature

# The parameters that make a prescription's dose: with the exercise, its signature.
PARAMETERS = (
    PrescriptionVersion.sets,
    PrescriptionVersion.reps,
    PrescriptionVersion.reps_min,
    PrescriptionVersion.reps_max,
    PrescriptionVersion.duration_s,
    PrescriptionVersion.distance_m,
    PrescriptionVersion.load_unit,
    PrescriptionVersion.load_value,
    PrescriptionVersion.band,
    PrescriptionVersion.tempo,
    PrescriptionVersion.rest_s,
    PrescriptionVersion.sessions_per_week,
    PrescriptionVersion.target_rpe,
    PrescriptionVersion.target_rir,
    PrescriptionVersion.side,
)


def _program(clinic_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    """Prescriptions with their current (latest) version's date and parameters."""
    latest = (
        select(func.max(PrescriptionVersion.number))
        .where(PrescriptionVersion.prescription_id == Prescription.id)
        .correlate(Prescription)
        .scalar_subquery()
    )
    return (
        select(
            Prescription.id,
            Prescription.plan_id,
            Prescription.stage_id,
            Prescription.status,
            Prescription.driver_id,
            Prescription.exercise_id,
            Prescription.created_at,
            PrescriptionVersion.effective_on,
            *PARAMETERS,
        )
        .join(
            PrescriptionVersion,
            and_(
                PrescriptionVersion.prescription_id == Prescription.id,
                PrescriptionVersion.number == latest,
            ),
        )
        .where(Prescription.clinic_id == clinic_id, PrescriptionVersion.clinic_id == clinic_id)
    )


def of_plan(session: Session, plan: Plan) -> tuple[tuple[PrescriptionFacts, ...], set[uuid.UUID]]:
    """The plan's prescriptions, and the exercises of its active program: one statement."""
    statement = _program(plan.clinic_id).where(Prescription.plan_id == plan.id)
    rows = session.execute(statement).all()
    drivers = set(plan.driver_ids)
    active = {row.exercise_id for row in rows if row.status is PrescriptionStatus.active}
    return tuple(_prescription(row, drivers) for row in rows), active


def _prescription(row: Row[Any], drivers: Iterable[uuid.UUID] = ()) -> PrescriptionFacts:
    """A prescription tied to a driver the plan does not target is not tied to this patient's
    assessment: for the audit it has no driver."""
    return PrescriptionFacts(
        id=row.id,
        stage_id=row.stage_id,
        active=row.status is PrescriptionStatus.active,
        started_on=row.created_at.date(),
        last_change_on=row.effective_on,
        driver_id=row.driver_id if row.driver_id in drivers else None,
        signature=(str(row.exercise_id), *(_plain(getattr(row, c.key)) for c in PARAMETERS)),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, Enum):
        return str(value.value)
    return value


def copies(
    session: Session, plan: Plan, exercise_ids: set[uuid.UUID]
) -> frozenset[tuple[Any, ...]]:
    """The programs of the clinic's other active plans that share an exercise with this one (a
    copy shares them all), as signatures: one statement, grouped here."""
    if not exercise_ids:
        return frozenset()
    sharing = select(Prescription.plan_id).where(
        Prescription.clinic_id == plan.clinic_id,
        Prescription.status == PrescriptionStatus.active,
        Prescription.exercise_id.in_(exercise_ids),
        Prescription.plan_id != plan.id,
    )
    statement = (
        _program(plan.clinic_id)
        .join(Plan, Plan.id == Prescription.plan_id)
        .where(
            Plan.clinic_id == plan.clinic_id,
            Plan.status == PlanStatus.active,
            Prescription.status == PrescriptionStatus.active,
            Prescription.plan_id.in_(sharing),
        )
    )
    programs: dict[uuid.UUID, list[PrescriptionFacts]] = defaultdict(list)
    for row in session.execute(statement):
        programs[row.plan_id].append(_prescription(row))
    return frozenset(program_signature(program) for program in programs.values())
