"""Exercise logs: what the patient did at home (posted by the app, which retries, or entered
by a clinician), and the active work of a session (built here, recorded by the session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, paginate
from app.prescriptions.logs_schemas import LogCreate, LogUpdate, SetDone
from app.prescriptions.models import ExerciseLog, LogSource, Prescription, PrescriptionStatus
from app.prescriptions.queries import current_version


def readable(actor: Actor) -> Select[ExerciseLog]:
    """The logs this actor may see: their clinic's, or a patient user's own."""
    statement = select(ExerciseLog).where(ExerciseLog.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(ExerciseLog.patient_id == actor.patient_id)
    return statement


def get(session: Session, actor: Actor, log_id: uuid.UUID) -> ExerciseLog:
    found = session.scalars(readable(actor).where(ExerciseLog.id == log_id)).first()
    if found is None:
        raise NotFound("No exercise log with that id in your clinic.")
    return found


def search(
    session: Session, actor: Actor, prescription: Prescription, page: PageParams
) -> tuple[list[ExerciseLog], str | None]:
    """In the order they were recorded, oldest first (home and clinic logs alike)."""
    statement = readable(actor).where(ExerciseLog.prescription_id == prescription.id)
    return paginate(session, statement, (ExerciseLog.created_at, ExerciseLog.id), page)


def ensure_active(prescription: Prescription) -> None:
    if prescription.status is PrescriptionStatus.stopped:
        raise Conflict("The prescription is stopped; nothing more can be logged against it.")


def build(
    actor: Actor,
    prescription: Prescription,
    *,
    performed_on: date,
    source: LogSource,
    sets: Sequence[SetDone],
    **fields: Any,
) -> ExerciseLog:
    """A log against the prescription's current version, recorded by the actor."""
    return ExerciseLog(
        clinic_id=prescription.clinic_id,
        prescription_id=prescription.id,
        plan_id=prescription.plan_id,
        patient_id=prescription.patient_id,
        version_number=current_version(prescription).number,
        performed_on=performed_on,
        source=source,
        sets=[done.model_dump() for done in sets],
        recorded_by_type=actor.kind,
        recorded_by_id=actor.id,
        **fields,
    )


def create(
    session: Session, actor: Actor, prescription: Prescription, data: LogCreate
) -> ExerciseLog:
    """A home log: the patient's own, or one a clinician enters for them."""
    ensure_active(prescription)
    fields = data.model_dump(exclude={"performed_on", "sets"})
    log = build(
        actor,
        prescription,
        performed_on=data.performed_on,
        source=LogSource.home,
        sets=data.sets,
        **fields,
    )
    session.add(log)
    session.flush()
    audit_service.record(session, actor, "create", "exercise_log", log.id)
    return log


def update(
    session: Session, actor: Actor, log: ExerciseLog, data: LogUpdate, expected_version: int
) -> ExerciseLog:
    """Pain next morning (it arrives the day after) and notes; nothing else changes."""
    check_version(log.version, expected_version)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(log, field, value)
    session.flush()
    audit_service.record(
        session, actor, "update", "exercise_log", log.id, {"fields": sorted(changes)}
    )
    return log
