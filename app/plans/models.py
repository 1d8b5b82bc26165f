from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, ClinicOwnedMixin, IdMixin, TimestampMixin, VersionMixin, utcnow
from app.core.types import Side
from app.rules.criteria import ChangeUnit, Comparator, Mode


class PlanStatus(StrEnum):
    draft = "draft"
    active = "active"
    on_hold = "on_hold"
    discharged = "discharged"
    cancelled = "cancelled"


# Under way: the plan is being carried out (it may be paused); its criteria are judged, its
# progress stored, and it can be discharged.
UNDER_WAY = frozenset({PlanStatus.active, PlanStatus.on_hold})
# Not ended yet: a draft too.
OPEN = frozenset({PlanStatus.draft, *UNDER_WAY})
ENDED = frozenset({PlanStatus.discharged, PlanStatus.cancelled})


class CriterionKind(StrEnum):
    progression = "progression"
    discharge = "discharge"


class DischargeOverrideCategory(StrEnum):
    patient_choice = "patient_choice"
    moved_away = "moved_away"
    referred_on = "referred_on"
    other = "other"


class AttentionRank(IntEnum):
    """How urgently a plan needs its clinician: the worklist lists the lowest first."""

    reassessment_due = 0
    ready_to_advance = 1
    ready_to_discharge = 2
    overdue = 3  # stored on refresh; pending_overdue_on covers the days since the last refresh
    findings = 4
    none = 9


def _enum(enum: type[StrEnum]) -> Enum:
    return Enum(enum, native_enum=False, length=30)


class Plan(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """The episode of care, built from one finalised assessment."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_clinic_id_created_at", "clinic_id", "created_at", "id"),
        Index("ix_plans_clinic_id_patient_id", "clinic_id", "patient_id"),
        Index("ix_plans_clinic_id_status", "clinic_id", "status", "clinician_id"),
        Index(
            "ix_plans_clinic_id_status_attention_rank",
            "clinic_id",
            "status",
            "attention_rank",
            "id",
        ),
        # A clinician's worklist, in its order.
        Index(
            "ix_plans_clinic_id_status_clinician_id_attention_rank",
            "clinic_id",
            "status",
            "clinician_id",
            "attention_rank",
            "id",
        ),
        # The worklist's plans that have run past their stage's weeks since they were audited
        # (app.accountability.worklist): a few rows, found without reading the others.
        Index(
            "ix_plans_clinic_id_status_pending_overdue_on",
            "clinic_id",
            "status",
            "pending_overdue_on",
        ),
        # The plans projected before the clinic's latest clinic-wide change (app.projections).
        Index(
            "ix_plans_clinic_id_projected_inputs_version",
            "clinic_id",
            "projected_inputs_version",
        ),
        # Another plan of the clinic running the same program (NOT_INDIVIDUALISED).
        Index(
            "ix_plans_clinic_id_program_signature",
            "clinic_id",
            "program_signature",
            "status",
        ),
        CheckConstraint(
            "expected_sessions_min IS NULL OR expected_sessions_max IS NULL "
            "OR expected_sessions_min <= expected_sessions_max",
            name="session_range_order",
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.draft)
    current_stage_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stages.id", use_alter=True)
    )
    expected_sessions_min: Mapped[int | None]
    expected_sessions_max: Mapped[int | None]
    expected_end_on: Mapped[date | None]
    timeline_suggested: Mapped[bool] = mapped_column(default=False)
    timeline_basis: Mapped[str | None] = mapped_column(String(300))
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    against_criteria: Mapped[bool] = mapped_column(default=False)
    end_reason: Mapped[str | None] = mapped_column(Text)
    discharge_override_category: Mapped[DischargeOverrideCategory | None] = mapped_column(
        _enum(DischargeOverrideCategory)
    )
    # Computed by the projection step (app.projections), so that reads and the
    # worklist cost one indexed lookup. Server defaults fill the rows that predate them.
    attention_codes: Mapped[list[str]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=list, server_default=text("'[]'")
    )
    reassessment_due: Mapped[bool] = mapped_column(default=False, server_default=false())
    ready_to_advance: Mapped[bool] = mapped_column(default=False, server_default=false())
    ready_to_discharge: Mapped[bool] = mapped_column(default=False, server_default=false())
    attention_rank: Mapped[int] = mapped_column(
        Integer,
        default=AttentionRank.none.value,
        server_default=text(str(AttentionRank.none.value)),
    )
    audited_at: Mapped[datetime | None]
    stage_due_on: Mapped[date | None] = mapped_column(
        doc="When the current stage is due to end: its start plus its expected weeks."
    )
    pending_overdue_on: Mapped[date | None] = mapped_column(
        doc="stage_due_on while the stored attention_rank comes after overdue: from the next "
        "day the worklist lists the plan as overdue, until an audit stores that rank."
    )
    program_signature: Mapped[str | None] = mapped_column(
        String(32),
        doc="A digest of the active program (app.accountability.programs.signature); NULL for "
        "no active prescription, or not computed yet.",
    )

    projected_inputs_version: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default=text("0"),
        doc="The clinic's inputs_version the stored projection (the columns above and the "
        "plan's documents) was computed with: behind the clinic's, it is stale.",
    )

    driver_links: Mapped[list[PlanDriver]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    stages: Mapped[list[Stage]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Stage.position",
        foreign_keys="Stage.plan_id",
    )
    discharge_criteria: Mapped[list[Criterion]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        primaryjoin="and_(Criterion.plan_id == Plan.id, Criterion.stage_id.is_(None))",
        order_by="Criterion.position",
        viewonly=True,
    )

    @property
    def driver_ids(self) -> list[uuid.UUID]:
        return [link.driver_id for link in self.driver_links]


class PlanDriver(ClinicOwnedMixin, Base):
    """A driver from the assessment that the plan targets."""

    __tablename__ = "plan_drivers"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    driver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drivers.id"), primary_key=True)


class Stage(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """A phase of the plan, gated by its progression criteria."""

    __tablename__ = "stages"
    __table_args__ = (
        Index("ix_stages_plan_id", "plan_id", "position"),
        CheckConstraint("expected_weeks > 0", name="expected_weeks_positive"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text)
    expected_weeks: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date | None]
    completed_at: Mapped[datetime | None]
    driver_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

    criteria: Mapped[list[Criterion]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Criterion.position"
    )


class Criterion(IdMixin, ClinicOwnedMixin, TimestampMixin, VersionMixin, Base):
    """A measurable criterion: progression (on a stage) or discharge (on the plan)."""

    __tablename__ = "criteria"
    __table_args__ = (
        Index("ix_criteria_plan_id", "plan_id", "stage_id", "position"),
        # selectinload(Stage.criteria) asks by stage_id alone.
        Index("ix_criteria_stage_id", "stage_id", "position"),
        CheckConstraint("sustained_count >= 1", name="sustained_count_positive"),
        CheckConstraint(
            "(kind = 'progression') = (stage_id IS NOT NULL)", name="stage_matches_kind"
        ),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    stage_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stages.id"))
    kind: Mapped[CriterionKind] = mapped_column(_enum(CriterionKind))
    position: Mapped[int] = mapped_column(Integer)
    measure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("measures.id"))
    comparator: Mapped[Comparator] = mapped_column(_enum(Comparator))
    target: Mapped[float] = mapped_column(Float)
    mode: Mapped[Mode] = mapped_column(_enum(Mode), default=Mode.absolute)
    change_unit: Mapped[ChangeUnit | None] = mapped_column(_enum(ChangeUnit))
    side: Mapped[Side | None] = mapped_column(_enum(Side))
    involved_side: Mapped[Side | None] = mapped_column(_enum(Side))
    sustained_count: Mapped[int] = mapped_column(Integer, default=1)
    statement: Mapped[str] = mapped_column(Text)


class PlanEvent(IdMixin, ClinicOwnedMixin, Base):
    """A transition of the plan: who, when, why, and the evaluation behind it."""

    __tablename__ = "plan_events"
    __table_args__ = (Index("ix_plan_events_plan_id", "plan_id", "at"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID]
    reason: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PlanDocument(ClinicOwnedMixin, Base):
    """The plan's response and its progress, rendered on write (app.plans.documents), so that
    reading them is one indexed lookup. Each says which state of the plan it was rendered
    from; a read that finds them behind the plan renders afresh instead."""

    __tablename__ = "plan_documents"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    plan_version: Mapped[int] = mapped_column(Integer)
    reassessment_due: Mapped[bool]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    progress_body: Mapped[bytes] = mapped_column(LargeBinary)
    progress_on: Mapped[date | None] = mapped_column(
        doc="The day (UTC) the progress was evaluated on: its stage schedule counts days."
    )
    revision: Mapped[int] = mapped_column(
        Integer, doc="Moves on every rendering: what a process may remember them by."
    )
