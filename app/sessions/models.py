from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin


class AdjunctKind(StrEnum):
    manual_therapy = "manual_therapy"
    soft_tissue = "soft_tissue"
    joint_mobilisation = "joint_mobilisation"
    manipulation = "manipulation"
    dry_needling = "dry_needling"
    ultrasound = "ultrasound"
    heat = "heat"
    ice = "ice"
    taping = "taping"
    electrotherapy = "electrotherapy"
    other = "other"


class TreatmentSession(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """A visit: active work done (as exercise logs), passive adjuncts, pain, observations."""

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        Index("ix_treatment_sessions_clinic_id_plan_id", "clinic_id", "plan_id", "occurred_at"),
        Index(
            "ix_treatment_sessions_clinic_id_patient_id", "clinic_id", "patient_id", "occurred_at"
        ),
        CheckConstraint("pain_before BETWEEN 0 AND 10", name="pain_before_range"),
        CheckConstraint("pain_after BETWEEN 0 AND 10", name="pain_after_range"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    number: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    pain_before: Mapped[int | None]
    pain_after: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)

    adjuncts: Mapped[list[Adjunct]] = relationship(lazy="raise", cascade="all, delete-orphan")


class Adjunct(IdMixin, ClinicOwnedMixin, Base):
    """A passive modality applied in a session: recorded beside active work, never instead."""

    __tablename__ = "session_adjuncts"
    __table_args__ = (Index("ix_session_adjuncts_session_id", "session_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_sessions.id"))
    kind: Mapped[AdjunctKind] = mapped_column(Enum(AdjunctKind, native_enum=False, length=30))
    region: Mapped[str | None] = mapped_column(String(100))
    minutes: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
