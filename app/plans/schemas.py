from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from app.assessments.models import DriverKind
from app.core.schemas import InputSchema, Schema
from app.core.types import DriverIds, MeasureCode, Name, Reason, Side
from app.plans.models import DischargeOverrideCategory, PlanStatus
from app.rules.criteria import ChangeUnit, Comparator, Mode

Statement = Annotated[str, Field(min_length=1, max_length=1000)]

# A plan's stages are few (criteria-based protocols run three to six); a stage's criteria and
# the discharge criteria are a test battery of a handful of measures. Bounds per request: a
# stage or criterion added later by its own route is not counted here.
MAX_STAGES = 20
MAX_CRITERIA = 20
# Reordering lists every stage the plan holds, however they were added.
MAX_ORDERED_STAGES = 50


def _not_null(value: object) -> object:
    """PATCH: an omitted field is left alone, but an explicit null is refused."""
    if value is None:
        raise ValueError("may not be null; omit the field to leave it unchanged")
    return value


class CriterionCreate(InputSchema):
    measure_id: uuid.UUID | None = Field(default=None, description="The measure, by id ...")
    measure_code: MeasureCode | None = Field(default=None, description="... or by code.")
    comparator: Comparator
    target: float = Field(allow_inf_nan=False)
    mode: Mode = Mode.absolute
    change_unit: ChangeUnit | None = Field(
        default=None, description="For change_from_baseline: points (default) or percent."
    )
    involved_side: Side | None = Field(
        default=None, description="For limb_symmetry: the involved side, left or right."
    )
    side: Side | None = Field(default=None, description="Count only this side's observations.")
    sustained_count: int = Field(default=1, ge=1, le=10)
    statement: Statement = Field(description="What the patient demonstrates, in plain words.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.measure_id is None) == (self.measure_code is None):
            raise ValueError("give exactly one of measure_id and measure_code")
        if self.mode is Mode.limb_symmetry and self.involved_side not in (Side.left, Side.right):
            raise ValueError("limb_symmetry needs involved_side left or right")
        if self.mode is not Mode.limb_symmetry and self.involved_side is not None:
            raise ValueError("involved_side is only for limb_symmetry")
        if self.mode is not Mode.change_from_baseline and self.change_unit is not None:
            raise ValueError("change_unit is only for change_from_baseline")
        if self.mode is Mode.change_from_baseline and self.change_unit is None:
            self.change_unit = ChangeUnit.points
        return self


Criteria = Annotated[list[CriterionCreate], Field(max_length=MAX_CRITERIA)]


class CriterionUpdate(InputSchema):
    comparator: Comparator | None = None
    target: float | None = Field(default=None, allow_inf_nan=False)
    sustained_count: int | None = Field(default=None, ge=1, le=10)
    statement: Statement | None = None

    _present = field_validator("comparator", "target", "sustained_count", "statement")(_not_null)


class CriterionRead(Schema):
    id: uuid.UUID
    plan_id: uuid.UUID
    stage_id: uuid.UUID | None
    kind: str
    position: int
    measure_id: uuid.UUID
    comparator: Comparator
    target: float
    mode: Mode
    change_unit: ChangeUnit | None
    involved_side: Side | None
    side: Side | None
    sustained_count: int
    statement: str
    version: int


class StageCreate(InputSchema):
    name: Name
    goal: Statement
    expected_weeks: int = Field(ge=1, le=104)
    driver_ids: DriverIds = Field(
        default_factory=list, description="Drivers of the plan this stage addresses."
    )
    position: int | None = Field(default=None, ge=0, description="Appended when omitted.")
    criteria: Criteria = Field(default_factory=list)


class StageUpdate(InputSchema):
    name: Name | None = None
    goal: Statement | None = None
    expected_weeks: int | None = Field(default=None, ge=1, le=104)
    driver_ids: DriverIds | None = None

    _present = field_validator("name", "goal", "expected_weeks", "driver_ids")(_not_null)


class StageOrder(InputSchema):
    stage_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_ORDERED_STAGES)


class StageRead(Schema):
    id: uuid.UUID
    plan_id: uuid.UUID
    position: int
    name: str
    goal: str
    expected_weeks: int
    driver_ids: list[uuid.UUID]
    started_on: date | None
    completed_at: datetime | None
    criteria: list[CriterionRead]
    version: int


class Timeline(InputSchema):
    expected_sessions_min: int = Field(ge=1, le=200)
    expected_sessions_max: int = Field(ge=1, le=200)
    expected_end_on: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.expected_sessions_min > self.expected_sessions_max:
            raise ValueError("expected_sessions_min is above expected_sessions_max")
        return self


class TimelineRead(Schema):
    expected_sessions_min: int | None
    expected_sessions_max: int | None
    expected_end_on: date | None
    suggested: bool = Field(description="true when the API suggested it from the onset")
    basis: str | None


class PlanCreate(InputSchema):
    assessment_id: uuid.UUID = Field(description="A finalised assessment of the patient.")
    title: Name | None = None
    driver_ids: DriverIds | None = Field(
        default=None, description="Drivers of the assessment to target; all of them if omitted."
    )
    clinician_id: uuid.UUID | None = None
    timeline: Timeline | None = Field(
        default=None, description="Suggested from the assessment's onset when omitted."
    )
    stages: list[StageCreate] = Field(default_factory=list, max_length=MAX_STAGES)
    discharge_criteria: Criteria = Field(default_factory=list)


class PlanUpdate(InputSchema):
    title: Name | None = None
    driver_ids: DriverIds | None = Field(default=None, min_length=1)
    clinician_id: uuid.UUID | None = None
    timeline: Timeline | None = None

    _present = field_validator("title", "driver_ids", "clinician_id", "timeline")(_not_null)


class TargetedDriver(Schema):
    id: uuid.UUID
    kind: DriverKind
    description: str
    priority: int


class PlanOverride(Schema):
    at: datetime
    action: str
    reason: str | None
    actor_id: uuid.UUID


class PlanRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    assessment_id: uuid.UUID
    clinician_id: uuid.UUID
    title: str
    status: PlanStatus
    current_stage_id: uuid.UUID | None
    drivers: list[TargetedDriver]
    timeline: TimelineRead
    stages: list[StageRead]
    discharge_criteria: list[CriterionRead]
    activated_at: datetime | None
    ended_at: datetime | None
    against_criteria: bool
    end_reason: str | None
    discharge_override_category: DischargeOverrideCategory | None
    overrides: list[PlanOverride]
    reassessment_due: bool = Field(
        description="A critical audit finding holds (GET /plans/{plan_id}/audit); a finalised "
        "reassessment linked to the plan answers what it can."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class PlanSummaryRead(Schema):
    """A plan in a list: no stages."""

    id: uuid.UUID
    patient_id: uuid.UUID
    assessment_id: uuid.UUID
    clinician_id: uuid.UUID
    title: str
    status: PlanStatus
    current_stage_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class AdvanceRequest(InputSchema):
    override_reason: Reason | None = Field(
        default=None, description="Advance although the stage's criteria are unmet, and why."
    )


class DischargeRequest(InputSchema):
    override_reason: Reason | None = None
    override_category: DischargeOverrideCategory | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.override_reason is None) != (self.override_category is None):
            raise ValueError("an override needs both override_reason and override_category")
        return self


class ReasonRequest(InputSchema):
    reason: Reason


class PlanEventRead(Schema):
    id: uuid.UUID
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor_type: str
    actor_id: uuid.UUID
    reason: str | None
    override: bool
    details: dict[str, object] | None
