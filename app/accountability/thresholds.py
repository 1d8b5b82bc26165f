"""A clinic's own audit thresholds: the clinical model's defaults until it changes them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from app.accountability import service as accountability_service
from app.accountability.schemas import AuditThresholdsRead
from app.audit import service as audit_service
from app.clinics.models import Clinic
from app.core.auth import Actor
from app.core.concurrency import check_version
from app.core.schemas import InputSchema, Schema
from app.rules.plan_audit import AuditThresholds


class AuditThresholdsUpdate(InputSchema):
    """Each value the clinic sets; a field left out (or null) returns to the default."""

    not_progressing_days: int | None = Field(default=None, ge=1, le=365)
    passive_recent_sessions: int | None = Field(default=None, ge=1, le=20)
    passive_share: float | None = Field(default=None, gt=0, lt=1)
    stalled_observations: int | None = Field(default=None, ge=2, le=20)
    stalled_min_days: int | None = Field(default=None, ge=1, le=365)
    no_recent_measurement_sessions: int | None = Field(default=None, ge=1, le=50)
    draft_max_days: int | None = Field(default=None, ge=1, le=365)
    sessions_without_plan: int | None = Field(default=None, ge=1, le=50)


class ClinicThresholdsRead(Schema):
    effective: AuditThresholdsRead = Field(description="What the audit uses now.")
    defaults: AuditThresholdsRead
    overrides: dict[str, Any] = Field(description="The values the clinic set itself.")
    version: int


def read(session: Session, actor: Actor) -> ClinicThresholdsRead:
    clinic = session.get_one(Clinic, actor.clinic_id)
    return _answer(session, actor, clinic)


def replace(
    session: Session, actor: Actor, data: AuditThresholdsUpdate, expected_version: int
) -> ClinicThresholdsRead:
    clinic = session.get_one(Clinic, actor.clinic_id)
    check_version(clinic.version, expected_version)
    clinic.audit_thresholds = data.model_dump(exclude_none=True)
    session.flush()
    audit_service.record(
        session, actor, "update", "audit_thresholds", clinic.id, dict(clinic.audit_thresholds)
    )
    return _answer(session, actor, clinic)


def _answer(session: Session, actor: Actor, clinic: Clinic) -> ClinicThresholdsRead:
    effective = accountability_service.thresholds(session, actor)
    return ClinicThresholdsRead(
        effective=AuditThresholdsRead.model_validate(asdict(effective)),
        defaults=AuditThresholdsRead.model_validate(asdict(AuditThresholds())),
        overrides=dict(clinic.audit_thresholds or {}),
        version=clinic.version,
    )
