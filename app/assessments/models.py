from __future__ import annotations

import uuid
from datetime import datetime
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
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, declared_attr, mapped_column, relationship

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin, utcnow
from app.core.types import Side


class AssessmentKind(StrEnum):
    initial = "initial"
    reassessment = "reassessment"
    discharge = "discharge"


class AssessmentStatus(StrEnum):
    draft = "draft"
    final = "final"


class Onset(StrEnum):
    acute = "acute"
    chronic = "chronic"


class DriverKind(StrEnum):
    capacity_deficit = "capacity_deficit"
    load_tolerance_gap = "load_tolerance_gap"
    movement_pattern = "movement_pattern"
    other = "other"


def _enum(enum: type[StrEnum]) -> Enum:
    return Enum(enum, native_enum=False, length=30)


class AssessmentRevision(IdMixin, ClinicOwnedMixin, Base):
    """A finalised assessment as it stood before an amendment; kept for the record."""

    __tablename__ = "assessment_revisions"
    __table_args__ = (Index("ix_assessment_revisions_assessment_id", "assessment_id", "version"),)

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"))
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    amended_at: Mapped[datetime] = mapped_column(default=utcnow)
    amended_by_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)


class Assessment(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_clinic_id_patient_id", "clinic_id", "patient_id", "assessed_at"),
        Index("ix_assessments_clinic_id_plan_id", "clinic_id", "plan_id"),
        CheckConstraint("pain_now BETWEEN 0 AND 10", name="pain_now_range"),
        CheckConstraint("pain_worst BETWEEN 0 AND 10", name="pain_worst_range"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[AssessmentKind] = mapped_column(_enum(AssessmentKind))
    status: Mapped[AssessmentStatus] = mapped_column(
        _enum(AssessmentStatus), default=AssessmentStatus.draft
    )
    assessed_at: Mapped[datetime]
    presenting_complaint: Mapped[str] = mapped_column(Text)
    body_region: Mapped[str] = mapped_column(String(100))
    onset: Mapped[Onset] = mapped_column(_enum(Onset))
    symptom_duration_days: Mapped[int | None]
    pain_now: Mapped[int | None]
    pain_worst: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    finalized_at: Mapped[datetime | None]
    # A reassessment names the plan it reassesses (plans.assessment_id points the other way).
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id", use_alter=True))

    goals: Mapped[list[FunctionalGoal]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="FunctionalGoal.position"
    )
    findings: Mapped[list[Finding]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Finding.position"
    )
    drivers: Mapped[list[Driver]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Driver.position"
    )

    # Read-only, computed in the assessment's own SELECT: no column, no extra statement.
    @declared_attr
    def amendment_count(cls) -> Mapped[int]:
        return column_property(
            select(func.count(AssessmentRevision.id))
            .where(
                AssessmentRevision.clinic_id == cls.clinic_id,
                AssessmentRevision.assessment_id == cls.id,
            )
            .correlate_except(AssessmentRevision)
            .scalar_subquery()
        )

    @declared_attr
    def last_amended_at(cls) -> Mapped[datetime | None]:
        return column_property(
            select(func.max(AssessmentRevision.amended_at))
            .where(
                AssessmentRevision.clinic_id == cls.clinic_id,
                AssessmentRevision.assessment_id == cls.id,
            )
            .correlate_except(AssessmentRevision)
            .scalar_subquery()
        )


class FunctionalGoal(IdMixin, ClinicOwnedMixin, Base):
    """What the patient needs to be able to do ("run 10 km"), with an optional target."""

    __tablename__ = "functional_goals"
    __table_args__ = (Index("ix_functional_goals_assessment_id", "assessment_id"),)

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"))
    position: Mapped[int] = mapped_column(Integer)
    statement: Mapped[str] = mapped_column(Text)
    target_measure: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[float | None] = mapped_column(Float)
    target_unit: Mapped[str | None] = mapped_column(String(50))


class Finding(IdMixin, ClinicOwnedMixin, Base):
    """One test or measure at assessment: a value with its unit, or a qualitative result."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_assessment_id", "assessment_id"),
        CheckConstraint("value IS NOT NULL OR result IS NOT NULL", name="value_or_result"),
    )

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    measure_code: Mapped[str | None] = mapped_column(String(50))
    side: Mapped[Side] = mapped_column(_enum(Side), default=Side.none)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(50))
    result: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)


class DriverFinding(ClinicOwnedMixin, Base):
    """A finding that supports a driver."""

    __tablename__ = "driver_findings"

    driver_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True
    )
    finding_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )


class Driver(IdMixin, ClinicOwnedMixin, Base):
    """The problem behind the symptom, supported by findings; plans target drivers."""

    __tablename__ = "drivers"
    __table_args__ = (Index("ix_drivers_assessment_id", "assessment_id"),)

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DriverKind] = mapped_column(_enum(DriverKind))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    finding_links: Mapped[list[DriverFinding]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def finding_ids(self) -> list[uuid.UUID]:
        return [link.finding_id for link in self.finding_links]
