from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.assessments.models import AssessmentKind, AssessmentStatus, DriverKind, Onset
from app.core.schemas import InputSchema, Schema
from app.core.types import (
    MAX_DRIVERS,
    LongText,
    MeasureCode,
    Name,
    Pain0to10,
    ShortText,
    Side,
    UnitText,
    UtcTimestamp,
)

# A patient's goals are a few activities (the PSFS asks for up to five); the findings are the
# examination's tests and measures, both sides of a battery included.
MAX_GOALS = 20
MAX_FINDINGS = 100

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Number = Annotated[float, Field(allow_inf_nan=False)]
# Ids are the server's (docs/decisions/0004-child-ids.md): a client sends one only to keep an
# existing item of the same assessment.
ChildId = Annotated[
    uuid.UUID | None,
    Field(description="An existing item's id, to keep it (PATCH); a new item gets a new id."),
]
FindingRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class GoalIn(InputSchema):
    id: ChildId = None
    statement: Text
    target_measure: Name | None = None
    target_value: Number | None = None
    target_unit: UnitText | None = Field(default=None, validate_default=True)

    @field_validator("target_unit")
    @classmethod
    def _value_needs_unit(cls, unit: str | None, info: ValidationInfo) -> str | None:
        if unit is None and info.data.get("target_value") is not None:
            raise ValueError("a target value needs its unit")
        return unit


class FindingIn(InputSchema):
    id: ChildId = None
    ref: FindingRef | None = Field(
        default=None,
        description="A name for the finding, unique in the request, for drivers to cite it "
        "in `finding_refs` (a new finding has no id yet).",
    )
    name: Name = Field(description="The test or measure.")
    measure_code: MeasureCode | None = None
    side: Side = Side.none
    value: Number | None = None
    unit: UnitText | None = Field(default=None, validate_default=True)
    result: ShortText | None = Field(
        default=None, validate_default=True, description="A qualitative result."
    )
    note: LongText | None = None

    @field_validator("unit")
    @classmethod
    def _value_needs_unit(cls, unit: str | None, info: ValidationInfo) -> str | None:
        if unit is None and info.data.get("value") is not None:
            raise ValueError("a value needs its unit")
        return unit

    @field_validator("result")
    @classmethod
    def _value_or_result(cls, result: str | None, info: ValidationInfo) -> str | None:
        # "value" is absent from info.data when it failed its own validation: named there.
        if result is None and "value" in info.data and info.data["value"] is None:
            raise ValueError("give a value with its unit, or a qualitative result")
        return result


class DriverIn(InputSchema):
    id: ChildId = None
    kind: DriverKind
    description: Text
    finding_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_FINDINGS,
        description="Ids of the assessment's findings that support this driver.",
    )
    finding_refs: list[FindingRef] = Field(
        default_factory=list,
        max_length=MAX_FINDINGS,
        description="The `ref` of findings in this request that support this driver.",
    )
    priority: int = Field(default=1, ge=1, le=1000, description="1 is the most important.")


Goals = Annotated[list[GoalIn], Field(max_length=MAX_GOALS)]
Findings = Annotated[list[FindingIn], Field(max_length=MAX_FINDINGS)]
Drivers = Annotated[list[DriverIn], Field(max_length=MAX_DRIVERS)]
DurationDays = Annotated[int, Field(ge=0, le=36_500)]


class AssessmentCreate(InputSchema):
    kind: AssessmentKind
    assessed_at: UtcTimestamp
    clinician_id: uuid.UUID | None = Field(
        default=None,
        description="Defaults to the calling clinician or admin; an integration key must send it.",
    )
    presenting_complaint: Text
    body_region: Region
    onset: Onset
    symptom_duration_days: DurationDays | None = None
    pain_now: Pain0to10 | None = None
    pain_worst: Pain0to10 | None = None
    notes: LongText | None = None
    goals: Goals = Field(default_factory=list)
    findings: Findings = Field(default_factory=list)
    drivers: Drivers = Field(default_factory=list)
    plan_id: uuid.UUID | None = Field(
        default=None,
        description="For a reassessment: the patient's plan it reassesses. Once finalised, it "
        "answers the plan's stalled, not-progressing and no-recent-measurement findings.",
    )

    @field_validator("plan_id")
    @classmethod
    def _only_for_a_reassessment(cls, plan_id: uuid.UUID | None, info: ValidationInfo) -> object:
        if plan_id is not None and info.data.get("kind") is not AssessmentKind.reassessment:
            raise ValueError("only a reassessment names the plan it reassesses")
        return plan_id


class AssessmentUpdate(InputSchema):
    """A list that is sent replaces that list: items keep their id when they send it."""

    kind: AssessmentKind | None = None
    assessed_at: UtcTimestamp | None = None
    clinician_id: uuid.UUID | None = None
    presenting_complaint: Text | None = None
    body_region: Region | None = None
    onset: Onset | None = None
    symptom_duration_days: DurationDays | None = None
    pain_now: Pain0to10 | None = None
    pain_worst: Pain0to10 | None = None
    notes: LongText | None = None
    goals: Goals | None = None
    findings: Findings | None = None
    drivers: Drivers | None = None
    amendment_reason: ShortText | None = Field(
        default=None,
        description="Required to change a final assessment (an amendment); refused on a draft.",
    )

    @field_validator(
        "kind",
        "assessed_at",
        "clinician_id",
        "presenting_complaint",
        "body_region",
        "onset",
        "goals",
        "findings",
        "drivers",
    )
    @classmethod
    def _required_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class GoalRead(Schema):
    id: uuid.UUID
    statement: str
    target_measure: str | None
    target_value: float | None
    target_unit: str | None


class FindingRead(Schema):
    id: uuid.UUID
    name: str
    measure_code: str | None
    side: Side
    value: float | None
    unit: str | None
    result: str | None
    note: str | None


class DriverRead(Schema):
    id: uuid.UUID
    kind: DriverKind
    description: str
    priority: int
    # Links carry no position: sorted, so every read of one version answers the same.
    finding_ids: Annotated[list[uuid.UUID], AfterValidator(sorted)]


class AssessmentRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    kind: AssessmentKind
    status: AssessmentStatus
    assessed_at: datetime
    presenting_complaint: str
    body_region: str
    onset: Onset
    symptom_duration_days: int | None
    pain_now: int | None
    pain_worst: int | None
    notes: str | None
    goals: list[GoalRead]
    findings: list[FindingRead]
    drivers: list[DriverRead]
    finalized_at: datetime | None
    plan_id: uuid.UUID | None = Field(description="The plan a reassessment reassesses.")
    amendment_count: int = Field(description="How many times the final assessment was amended.")
    last_amended_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class AssessmentRevisionRead(Schema):
    assessment_id: uuid.UUID
    version: int = Field(description="The version the snapshot shows.")
    amended_at: datetime
    amended_by_id: uuid.UUID
    reason: str
    snapshot: dict[str, Any] = Field(description="The assessment as read before the amendment.")
