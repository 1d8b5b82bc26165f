from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound, field_error
from app.core.pagination import PageParams, paginate
from app.patients.models import Patient
from app.patients.schemas import PatientCreate, PatientUpdate


def readable(actor: Actor) -> Select[Patient]:
    """The patients this actor may see: their clinic's, or a patient user's own record."""
    statement = select(Patient).where(Patient.clinic_id == actor.clinic_id)
    if actor.is_patient:
        statement = statement.where(Patient.id == actor.patient_id)
    return statement


def get(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    patient = session.scalars(readable(actor).where(Patient.id == patient_id)).first()
    if patient is None:
        raise NotFound("No patient with that id in your clinic.")
    return patient


def search(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    query: str | None = None,
    include_archived: bool = False,
) -> tuple[list[Patient], str | None]:
    statement = readable(actor)
    if not include_archived:
        statement = statement.where(Patient.archived_at.is_(None))
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        statement = statement.where(
            or_(Patient.display_name.ilike(pattern), Patient.external_id.ilike(pattern))
        )
    return paginate(session, statement, (Patient.created_at, Patient.id), page)


def _ensure_external_id_free(
    session: Session, actor: Actor, external_id: str | None, patient_id: uuid.UUID | None = None
) -> None:
    if external_id is None:
        return
    clash = session.scalar(
        select(Patient.id).where(
            Patient.clinic_id == actor.clinic_id,
            Patient.external_id == external_id,
            Patient.id != patient_id if patient_id else Patient.id.is_not(None),
        )
    )
    if clash is not None:
        raise Conflict(
            f"Another patient in your clinic has external id {external_id!r}.",
            errors=[field_error("/external_id", "already used in this clinic")],
        )


def create(session: Session, actor: Actor, data: PatientCreate) -> Patient:
    _ensure_external_id_free(session, actor, data.external_id)
    patient = Patient(clinic_id=actor.clinic_id, **data.model_dump())
    session.add(patient)
    session.flush()
    audit_service.record(session, actor, "create", "patient", patient.id)
    return patient


def update(
    session: Session, actor: Actor, patient: Patient, data: PatientUpdate, expected_version: int
) -> Patient:
    check_version(patient.version, expected_version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "external_id" in changes:
        _ensure_external_id_free(session, actor, changes["external_id"], patient.id)
    for field, value in changes.items():
        setattr(patient, field, value)
    session.flush()
    audit_service.record(
        session, actor, "update", "patient", patient.id, {"fields": sorted(changes)}
    )
    return patient


def archive(session: Session, actor: Actor, patient: Patient, expected_version: int) -> Patient:
    check_version(patient.version, expected_version)
    if patient.archived_at is None:
        patient.archived_at = datetime.now(UTC)
        session.flush()
    audit_service.record(session, actor, "archive", "patient", patient.id)
    return patient
