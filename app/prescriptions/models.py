from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin, utcnow
from app.core.types import Side
from app.rules.progression import LoadUnit


class PrescriptionStatus(StrEnum):
    active = "active"
    stopped = "stopped"


class Prescription(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """An exercise for this patient in this stage, tied to the driver it addresses. Its
    parameters live in versions: every change is a new one, so progression is visible."""

    __tablename__ = "prescriptions"
    __table_args__ = (
        Index("ix_prescriptions_clinic_id_plan_id", "clinic_id", "plan_id", "stage_id"),
        Index("ix_prescriptions_clinic_id_patient_id", "clinic_id", "patient_id", "status"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stages.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    exercise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exercises.id"))
    driver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drivers.id"))
    status: Mapped[PrescriptionStatus] = mapped_column(
        Enum(PrescriptionStatus, native_enum=False, length=20), default=PrescriptionStatus.active
    )
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[PrescriptionVersion]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PrescriptionVersion.number"
    )


class PrescriptionVersion(IdMixin, ClinicOwnedMixin, Base):
    """The prescription's parameters from `effective_on`, with who changed them and why."""

    __tablename__ = "prescription_versions"
    __table_args__ = (
        UniqueConstraint("prescription_id", "number"),
        CheckConstraint("sets BETWEEN 1 AND 20", name="sets_range"),
        CheckConstraint("sessions_per_week BETWEEN 1 AND 14", name="sessions_per_week_range"),
    )

    prescription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prescriptions.id"))
    number: Mapped[int] = mapped_column(Integer)
    effective_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_type: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(40))
    sets: Mapped[int] = mapped_column(Integer)
    reps: Mapped[int | None] = mapped_column(Integer)
    reps_min: Mapped[int | None] = mapped_column(Integer)
    reps_max: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    load_unit: Mapped[LoadUnit] = mapped_column(Enum(LoadUnit, native_enum=False, length=30))
    load_value: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(30))
    tempo: Mapped[list[int] | None] = mapped_column(JSON)
    rest_s: Mapped[int | None] = mapped_column(Integer)
    sessions_per_week: Mapped[int] = mapped_column(Integer)
    target_rpe: Mapped[float | None] = mapped_column(Float)
    target_rir: Mapped[int | None] = mapped_column(Integer)
    side: Mapped[Side] = mapped_column(Enum(Side, native_enum=False, length=20), default=Side.none)
    instructions: Mapped[str | None] = mapped_column(Text)


class LogSource(StrEnum):
    home = "home"
    clinic = "clinic"


class ExerciseLog(IdMixin, ClinicOwnedMixin, VersionMixin, Base):
    """What the patient did: at home (posted by the app) or in a session (by the clinician)."""

    __tablename__ = "exercise_logs"
    __table_args__ = (
        Index(
            "ix_exercise_logs_clinic_id_prescription_id",
            "clinic_id",
            "prescription_id",
            "performed_on",
        ),
        Index("ix_exercise_logs_clinic_id_plan_id", "clinic_id", "plan_id", "performed_on"),
        CheckConstraint("pain_during BETWEEN 0 AND 10", name="pain_during_range"),
        CheckConstraint("pain_next_morning BETWEEN 0 AND 10", name="pain_next_morning_range"),
    )

    prescription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prescriptions.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_sessions.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    performed_on: Mapped[date]
    source: Mapped[LogSource] = mapped_column(Enum(LogSource, native_enum=False, length=20))
    sets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    skipped: Mapped[bool] = mapped_column(default=False)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    pain_before: Mapped[int | None]
    pain_during: Mapped[int | None]
    pain_next_morning: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_type: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
