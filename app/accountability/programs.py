"""A plan's program as the audit reads it: each prescription with its current version's date
and dose, and whether the same program runs elsewhere in the clinic (NOT_PROGRESSING,
NOT_INDIVIDUALISED).

"The same program" is a stored, indexed value: each plan keeps the digest of its active program
(`Plan.program_signature`, stored by the projection step), so finding a copy is one indexed
lookup whatever the size of the clinic, never a read of other plans' prescriptions."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
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


def of_plan(session: Session, plan: Plan) -> tuple[PrescriptionFacts, ...]:
    """The plan's prescriptions: one statement."""
    statement = _program(plan.clinic_id).where(Prescription.plan_id == plan.id)
    drivers = set(plan.driver_ids)
    return tuple(_prescription(row, drivers) for row in session.execute(statement))


def _prescription(row: Row[Any], drivers: set[uuid.UUID]) -> PrescriptionFacts:
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


def signature(prescriptions: Sequence[PrescriptionFacts]) -> str | None:
    """The active program (app.rules.plan_audit.program_signature) as a short digest: equal
    for two copies of one template, None for a plan with no active prescription."""
    program = program_signature(prescriptions)
    if not program:
        return None
    canonical = json.dumps(program, separators=(",", ":")).encode()
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def copied(session: Session, plan: Plan, digest: str | None) -> bool:
    """Whether another active plan of the clinic runs this whole active program: one indexed
    lookup (ix_plans_clinic_id_program_signature), none for an empty program. Plans whose
    digest is not stored yet (NULL) are not counted until they are audited again."""
    if digest is None:
        return False
    other = (
        select(Plan.id)
        .where(
            Plan.clinic_id == plan.clinic_id,
            Plan.program_signature == digest,
            Plan.status == PlanStatus.active,
            Plan.id != plan.id,
        )
        .limit(1)
    )
    return session.scalar(other) is not None
