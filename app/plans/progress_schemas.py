"""A plan's evaluation against its criteria, and the answer to a lifecycle transition."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import Schema
from app.measures.models import MeasureCategory
from app.plans.models import DischargeOverrideCategory, PlanStatus
from app.plans.schemas import PlanEventRead
from app.rules.criteria import Comparator, Mode, Status
from app.rules.timeline import StageTiming


class StageState(StrEnum):
    pending = "pending"
    current = "current"
    completed = "completed"


class CriterionEvaluation(Schema):
    criterion_id: uuid.UUID
    measure_id: uuid.UUID
    measure_code: str
    measure_category: MeasureCategory
    statement: str
    mode: Mode
    comparator: Comparator
    target: float
    status: Status
    current: float | None = Field(
        description="The latest value, LSI (%) or change from baseline the target is judged on."
    )
    baseline: float | None
    progress: float = Field(ge=0, le=1, description="From baseline to target; 1 when met.")
    observation_ids: list[uuid.UUID]
    reason: str | None


class StageSchedule(Schema):
    due_on: date
    status: StageTiming
    days_behind: int


class StageProgress(Schema):
    stage_id: uuid.UUID
    name: str
    position: int
    state: StageState
    all_met: bool
    criteria: list[CriterionEvaluation]
    timeline: StageSchedule | None = Field(description="For the current stage only.")


class PlanTimelineProgress(Schema):
    expected_end_on: date | None
    expected_sessions_min: int | None
    expected_sessions_max: int | None
    status: StageTiming | None = Field(description="The current stage's schedule.")
    days_behind: int | None


class PlanProgress(Schema):
    plan_id: uuid.UUID
    plan_version: int = Field(description="The plan's ETag value, for If-Match on a transition.")
    status: PlanStatus
    evaluated_at: datetime
    current_stage_id: uuid.UUID | None
    may_advance: bool = Field(
        description="Active, the current stage's criteria all met, and a next stage to go to."
    )
    discharge_ready: bool = Field(
        description="Active or on hold, and every discharge criterion met (pain alone never is)."
    )
    discharge: list[CriterionEvaluation]
    stages: list[StageProgress]
    timeline: PlanTimelineProgress


class PlanTransitionRead(Schema):
    """The plan's state after a transition, the event recorded, and the evaluation."""

    plan_id: uuid.UUID
    status: PlanStatus
    current_stage_id: uuid.UUID | None
    activated_at: datetime | None
    ended_at: datetime | None
    against_criteria: bool
    end_reason: str | None
    discharge_override_category: DischargeOverrideCategory | None
    version: int
    event: PlanEventRead
    progress: PlanProgress
