"""Exercise logs: what a patient did at home, or did in a session with the clinician."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from app.core.schemas import InputSchema, Schema
from app.core.types import LongText, Pain0to10, ShortText
from app.prescriptions.models import LogSource

MAX_SETS = 20
# A patient east of UTC (up to UTC+14) may log "today" while it is still yesterday in UTC.
DATE_LINE_SLACK = timedelta(days=1)

Reps = Annotated[int, Field(ge=0, le=500, description="Repetitions done in the set.")]
DurationS = Annotated[float, Field(gt=0, le=4 * 3600, allow_inf_nan=False)]
DistanceM = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]
LoadValue = Annotated[
    float,
    Field(ge=0, le=1000, allow_inf_nan=False, description="In the prescription's load unit."),
]
Rpe = Annotated[float, Field(ge=1, le=10, multiple_of=0.5, description="Rating of effort, 1-10.")]
Rir = Annotated[int, Field(ge=0, le=5, description="Reps in reserve, 0-5.")]


class SetDone(InputSchema):
    """One set: reps, a duration or a distance, with the load and the effort."""

    reps: Reps | None = None
    duration_s: DurationS | None = None
    distance_m: DistanceM | None = None
    load_value: LoadValue | None = None
    rpe: Rpe | None = None
    rir: Rir | None = None

    @model_validator(mode="after")
    def _dose_and_one_effort_scale(self) -> Self:
        if self.reps is None and self.duration_s is None and self.distance_m is None:
            raise ValueError("give reps, duration_s or distance_m")
        if self.rpe is not None and self.rir is not None:
            raise ValueError("give rpe or rir, not both")
        return self


Sets = Annotated[list[SetDone], Field(max_length=MAX_SETS)]


def check_sets(sets: list[SetDone], skipped: bool) -> list[SetDone]:
    if skipped and sets:
        raise ValueError("a skipped log has no sets")
    if not skipped and not sets:
        raise ValueError(f"give 1 to {MAX_SETS} sets, or skipped=true with a skip_reason")
    return sets


class LogCreate(InputSchema):
    performed_on: date = Field(description="The day the patient did (or skipped) the exercise.")
    skipped: bool = False
    sets: Sets = Field(
        default_factory=list,
        validate_default=True,
        description=f"1 to {MAX_SETS}; none when skipped.",
    )
    skip_reason: ShortText | None = Field(
        default=None, validate_default=True, description="Required when skipped."
    )
    pain_before: Pain0to10 | None = None
    pain_during: Pain0to10 | None = None
    pain_next_morning: Pain0to10 | None = Field(
        default=None, description="Often unknown yet: PATCH /logs/{log_id} adds it later."
    )
    notes: LongText | None = None

    @field_validator("performed_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > datetime.now(UTC).date() + DATE_LINE_SLACK:
            raise ValueError("is in the future")
        return value

    @field_validator("sets")
    @classmethod
    def _sets_unless_skipped(cls, value: list[SetDone], info: ValidationInfo) -> list[SetDone]:
        return check_sets(value, bool(info.data.get("skipped")))

    @field_validator("skip_reason")
    @classmethod
    def _reason_when_skipped(cls, value: str | None, info: ValidationInfo) -> str | None:
        skipped = bool(info.data.get("skipped"))
        if skipped and value is None:
            raise ValueError("required when skipped")
        if value is not None and not skipped:
            raise ValueError("only a skipped log has a skip_reason")
        return value

    @field_validator("pain_during")
    @classmethod
    def _no_pain_during_when_skipped(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("skipped"):
            raise ValueError("a skipped log has no pain during exercise")
        return value


class LogUpdate(InputSchema):
    pain_next_morning: Pain0to10 | None = None
    notes: LongText | None = None


class SetRead(Schema):
    reps: int | None = None
    duration_s: float | None = None
    distance_m: float | None = None
    load_value: float | None = None
    rpe: float | None = None
    rir: int | None = None


class ExerciseLogRead(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    prescription_id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    session_id: uuid.UUID | None = Field(description="The session, for work done in clinic.")
    version_number: int = Field(description="The prescription version in force when logged.")
    performed_on: date
    source: LogSource
    sets: list[SetRead]
    skipped: bool
    skip_reason: str | None
    pain_before: int | None
    pain_during: int | None
    pain_next_morning: int | None
    notes: str | None
    recorded_by_type: str
    recorded_by_id: uuid.UUID
    created_at: datetime
    version: int
