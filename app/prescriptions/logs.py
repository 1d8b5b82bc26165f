"""Exercise logs: what the patient did at home (posted by the app, which retries, or entered
by a clinician), and the active work of a session (built here, recorded by the session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound
from app.core.orm import utcnow
from app.core.pagination import PageParams, paginate
from app.prescriptions.logs_schemas import LogCreate, LogUpdate, SetDone
from app.prescriptions.models import (
    ExerciseLog,
    LogSource,
    Prescription,
    PrescriptionStatus,
    PrescriptionVersion,
)
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


def ensure_active(status: PrescriptionStatus) -> None:
    if status is PrescriptionStatus.stopped:
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


class LogTarget(NamedTuple):
    """What a home log needs of its prescription: where it belongs, and the version in force."""

    id: uuid.UUID
    clinic_id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    status: PrescriptionStatus
    version_number: int


def get_target(session: Session, actor: Actor, prescription_id: uuid.UUID) -> LogTarget:
    """One indexed lookup instead of the ORM prescription with its versions (two statements
    and a hydration for six values), scoped as `prescription_queries.readable` scopes."""
    found = (
        session.connection()
        .execute(
            _TARGET[actor.is_patient],
            {
                "clinic_id": actor.clinic_id,
                "patient_id": actor.patient_id,
                "prescription_id": prescription_id,
            },
        )
        .first()
    )
    if found is None:
        raise NotFound("No prescription with that id in your clinic.")
    return LogTarget(*found)


def _target_statement(*, own_only: bool) -> Select[Any]:
    """`readable(actor)`'s scope with bound parameters (their clinic's prescriptions, and a
    patient user's own only), built once per kind of actor: building and caching a statement
    per request costs more than the lookup itself."""
    prescription = _prescriptions.c
    current_number = (
        select(func.max(_versions.c.number))
        .where(_versions.c.prescription_id == prescription.id)
        .scalar_subquery()
    )
    statement = select(
        prescription.id,
        prescription.clinic_id,
        prescription.plan_id,
        prescription.patient_id,
        prescription.status,
        current_number,
    ).where(
        prescription.clinic_id == bindparam("clinic_id"),
        prescription.id == bindparam("prescription_id"),
    )
    if own_only:
        statement = statement.where(prescription.patient_id == bindparam("patient_id"))
    return statement


_prescriptions = cast(Table, Prescription.__table__)
_versions = cast(Table, PrescriptionVersion.__table__)
_TARGET = {own_only: _target_statement(own_only=own_only) for own_only in (False, True)}


def new_home_log(actor: Actor, target: LogTarget, data: LogCreate) -> dict[str, Any]:
    """The home log's row, made in full here (id, timestamps, version), so that the answer is
    known before the write: it is stored with the Idempotency-Key in the key's own insert."""
    return {
        **data.model_dump(exclude={"sets"}),
        "id": uuid.uuid4(),
        "clinic_id": target.clinic_id,
        "prescription_id": target.id,
        "plan_id": target.plan_id,
        "patient_id": target.patient_id,
        "session_id": None,
        "version_number": target.version_number,
        "source": LogSource.home,
        "sets": [done.model_dump() for done in data.sets],
        "recorded_by_type": actor.kind,
        "recorded_by_id": actor.id,
        "created_at": utcnow(),
        "version": 1,
    }


def insert(session: Session, actor: Actor, target: LogTarget, log: dict[str, Any]) -> None:
    """A home log (the patient's own, or one a clinician enters for them) and its audit event,
    sent at once: no ORM unit of work."""
    ensure_active(target.status)
    audit_service.insert_with_event(session, _logs, log, actor, "create", "exercise_log")


def create(
    session: Session, actor: Actor, prescription: Prescription, data: LogCreate
) -> dict[str, Any]:
    """A home log against a prescription loaded with its versions (the seed, the demo): the
    route's own way, so both store the same."""
    target = LogTarget(
        prescription.id,
        prescription.clinic_id,
        prescription.plan_id,
        prescription.patient_id,
        prescription.status,
        current_version(prescription).number,
    )
    log = new_home_log(actor, target, data)
    session.flush()  # the prescription may be new: its row must be there for the log's key
    insert(session, actor, target, log)
    return log


_logs = cast(Table, ExerciseLog.__table__)


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
